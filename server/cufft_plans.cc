#include "server/cufft_plans.h"

#include <cufft.h>

#include "server/library_call.h"

namespace rcuda::library::cufft {
namespace {

// One element of each side of a transform type (bytes); 0 for an unknown type.
struct Elements {
  uint64_t in = 0, out = 0;
  bool real_in = false, real_out = false;
};

Elements ElementsOf(int type) {
  switch (type) {
    case CUFFT_C2C: return {8, 8, false, false};
    case CUFFT_Z2Z: return {16, 16, false, false};
    case CUFFT_R2C: return {4, 8, true, false};
    case CUFFT_D2Z: return {8, 16, true, false};
    case CUFFT_C2R: return {8, 4, false, true};
    case CUFFT_Z2D: return {16, 8, false, true};
    default: return {};
  }
}

// a * b, false above 64 bits (a <= 2^64 and b < 2^63 cannot overflow 128).
bool Times(unsigned __int128* a, int64_t b) {
  if (b <= 0) return false;
  *a *= static_cast<unsigned __int128>(b);
  return *a <= UINT64_MAX;
}

// The elements a side of an advanced layout spans, from its first to its
// last: (batch-1)*dist + stride*(sum_d (m_d-1) * prod_{e>d} embed_e) + 1,
// m the side's logical dimensions. Every value is positive (dist >= 0) and
// fits 32 bits, so that three products of them fit 128.
bool SpanElements(const int64_t m[3], int rank, const int64_t embed[3], int64_t stride, int64_t dist, int64_t batch,
                  unsigned __int128* elements) {
  if (stride < 1 || dist < 0 || batch < 1) return false;
  unsigned __int128 last = 0, pitch = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (m[d] < 1 || embed[d] < 1) return false;
    last += static_cast<unsigned __int128>(m[d] - 1) * pitch;
    pitch *= static_cast<unsigned __int128>(embed[d]);
  }
  *elements = static_cast<unsigned __int128>(batch - 1) * static_cast<uint64_t>(dist) +
              last * static_cast<uint64_t>(stride) + 1;
  return true;
}

bool AdvancedExecBytes(const PlanShape& shape, const Elements& e, uint64_t* in, uint64_t* out) {
  int64_t real[3], complex[3];
  for (int d = 0; d < shape.rank; ++d) {
    if (shape.n[d] < 1) return false;
    real[d] = complex[d] = shape.n[d];
  }
  if (e.real_in || e.real_out) complex[shape.rank - 1] = shape.n[shape.rank - 1] / 2 + 1;
  unsigned __int128 in_elements = 0, out_elements = 0;
  if (!SpanElements(e.real_in ? real : complex, shape.rank, shape.in_embed, shape.in_stride, shape.in_dist,
                    shape.batch, &in_elements) ||
      !SpanElements(e.real_out ? real : complex, shape.rank, shape.out_embed, shape.out_stride, shape.out_dist,
                    shape.batch, &out_elements)) {
    return false;
  }
  if (in_elements > UINT64_MAX / e.in || out_elements > UINT64_MAX / e.out) return false;
  *in = static_cast<uint64_t>(in_elements * e.in);
  *out = static_cast<uint64_t>(out_elements * e.out);
  return true;
}

}  // namespace

bool ExecBytes(const PlanShape& shape, uint64_t* in, uint64_t* out) {
  const Elements e = ElementsOf(shape.type);
  if (e.in == 0 || shape.rank < 1 || shape.rank > 3) return false;
  if (shape.advanced) return AdvancedExecBytes(shape, e, in, out);
  // The real side: every point; the complex side of a real transform: the
  // last dimension halved (Hermitian symmetry), nz/2+1.
  unsigned __int128 real_points = 1, complex_points = 1;
  for (int i = 0; i < shape.rank; ++i) {
    const int64_t n = shape.n[i];
    const bool last = i == shape.rank - 1;
    if (!Times(&real_points, n) || !Times(&complex_points, last && (e.real_in || e.real_out) ? n / 2 + 1 : n))
      return false;
  }
  if (!Times(&real_points, shape.batch) || !Times(&complex_points, shape.batch)) return false;
  unsigned __int128 bytes_in = (e.real_in ? real_points : complex_points) * e.in;
  unsigned __int128 bytes_out = (e.real_out ? real_points : complex_points) * e.out;
  if (bytes_in > UINT64_MAX || bytes_out > UINT64_MAX) return false;
  *in = static_cast<uint64_t>(bytes_in);
  *out = static_cast<uint64_t>(bytes_out);
  return true;
}

PlanShape* PlanTable::Find(int64_t plan) {
  auto it = plans_.find(plan);
  return it == plans_.end() ? nullptr : &it->second;
}

bool PlanTable::ExecAllowed(const AllocationTable& memory, int64_t plan, int type, uint64_t idata, uint64_t odata) {
  const PlanShape* shape = Find(plan);
  uint64_t in = 0, out = 0;
  if (shape == nullptr || shape->type != type || !ExecBytes(*shape, &in, &out)) return false;
  // The work area it was given may have been freed since.
  if (shape->work_area != 0 && shape->work_size != 0 && !memory.Contains(shape->work_area, shape->work_size))
    return false;
  return memory.Contains(idata, in) && memory.Contains(odata, out);
}

bool PlanTable::WorkAreaAllowed(const AllocationTable& memory, int64_t plan, uint64_t area) {
  PlanShape* shape = Find(plan);
  if (shape == nullptr) return false;
  if (shape->work_size != 0 && !memory.Contains(area, shape->work_size)) return false;
  shape->work_area = area;
  return true;
}

// ---- Hooks -------------------------------------------------------------------

namespace {

// Records `shape` for `plan` (forgetting what was recorded) with the work
// size cuFFT answers for it; a shape whose ranges cannot be computed leaves
// the plan unplanned for the worker.
int RecordShape(LibraryCallContext& c, int64_t plan, PlanShape shape) {
  PlanTable& plans = c.state().Extension<PlanTable>();
  plans.Forget(plan);
  uint64_t in = 0, out = 0;
  if (!ExecBytes(shape, &in, &out)) return c.invalid_value();
  int real = 0;
  size_t work_size = 0;
  auto get_size = reinterpret_cast<int (*)(int, size_t*)>(c.Resolve("cufftGetSize"));
  if (!c.RealIntHandle(plan, &real) || get_size == nullptr || get_size(real, &work_size) != 0)
    return c.invalid_value();
  shape.work_size = work_size;
  plans.Record(plan, shape);
  return 0;
}

}  // namespace

int RecordPlan(LibraryCallContext& c, int64_t plan, int rank, int64_t nx, int64_t ny, int64_t nz, int64_t type,
               int64_t batch) {
  PlanShape shape;
  shape.type = static_cast<int>(type);
  shape.rank = rank;
  shape.n[0] = nx;
  shape.n[1] = ny;
  shape.n[2] = nz;
  shape.batch = batch;
  return RecordShape(c, plan, shape);
}

namespace {

// PlanMany and PlanMany64 alike: the arrays are ints or long longs.
template <class Int>
int RecordMany(LibraryCallContext& c, int64_t plan, int64_t rank, const Int* n, const Int* inembed, int64_t istride,
               int64_t idist, const Int* onembed, int64_t ostride, int64_t odist, int64_t type, int64_t batch) {
  if (rank < 1 || rank > 3 || n == nullptr) {
    ForgetPlan(c, plan);
    return c.invalid_value();
  }
  PlanShape shape;
  shape.type = static_cast<int>(type);
  shape.rank = static_cast<int>(rank);
  for (int d = 0; d < shape.rank; ++d) shape.n[d] = n[d];
  shape.batch = batch;
  shape.advanced = inembed != nullptr && onembed != nullptr;
  if (shape.advanced) {
    for (int d = 0; d < shape.rank; ++d) shape.in_embed[d] = inembed[d], shape.out_embed[d] = onembed[d];
    shape.in_stride = istride, shape.in_dist = idist, shape.out_stride = ostride, shape.out_dist = odist;
  }
  return RecordShape(c, plan, shape);
}

}  // namespace

int RecordPlanMany(LibraryCallContext& c, int64_t plan, int64_t rank, const int* n, const int* inembed,
                   int64_t istride, int64_t idist, const int* onembed, int64_t ostride, int64_t odist, int64_t type,
                   int64_t batch) {
  return RecordMany(c, plan, rank, n, inembed, istride, idist, onembed, ostride, odist, type, batch);
}

int RecordPlanMany64(LibraryCallContext& c, int64_t plan, int64_t rank, const long long* n, const long long* inembed,
                     int64_t istride, int64_t idist, const long long* onembed, int64_t ostride, int64_t odist,
                     int64_t type, int64_t batch) {
  return RecordMany(c, plan, rank, n, inembed, istride, idist, onembed, ostride, odist, type, batch);
}

int CheckManyShape(LibraryCallContext& c, int64_t rank, const int* n) {
  return rank >= 1 && rank <= 3 && n != nullptr ? 0 : c.invalid_value();
}

int CheckManyShape64(LibraryCallContext& c, int64_t rank, const long long* n) {
  return rank >= 1 && rank <= 3 && n != nullptr ? 0 : c.invalid_value();
}

int ReplanMany(LibraryCallContext& c, int64_t plan, int64_t rank, const int* n) {
  ForgetPlan(c, plan);
  return CheckManyShape(c, rank, n);
}

int ReplanMany64(LibraryCallContext& c, int64_t plan, int64_t rank, const long long* n) {
  ForgetPlan(c, plan);
  return CheckManyShape64(c, rank, n);
}

int ForgetPlan(LibraryCallContext& c, int64_t plan) {
  c.state().Extension<PlanTable>().Forget(plan);
  return 0;
}

int CheckExec(LibraryCallContext& c, int64_t plan, int type, int64_t idata, int64_t odata) {
  const bool allowed = c.state().Extension<PlanTable>().ExecAllowed(c.memory(), plan, type, static_cast<uint64_t>(idata),
                                                                     static_cast<uint64_t>(odata));
  return allowed ? 0 : c.invalid_value();
}

int CheckWorkArea(LibraryCallContext& c, int64_t plan, int64_t work_area) {
  const bool allowed =
      c.state().Extension<PlanTable>().WorkAreaAllowed(c.memory(), plan, static_cast<uint64_t>(work_area));
  return allowed ? 0 : c.invalid_value();
}

}  // namespace rcuda::library::cufft
