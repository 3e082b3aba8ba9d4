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

}  // namespace

bool ExecBytes(const PlanShape& shape, uint64_t* in, uint64_t* out) {
  const Elements e = ElementsOf(shape.type);
  if (e.in == 0 || shape.rank < 1 || shape.rank > 3) return false;
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

int RecordPlan(LibraryCallContext& c, int64_t plan, int rank, int64_t nx, int64_t ny, int64_t nz, int64_t type,
               int64_t batch) {
  PlanTable& plans = c.state().Extension<PlanTable>();
  plans.Forget(plan);
  PlanShape shape;
  shape.type = static_cast<int>(type);
  shape.rank = rank;
  shape.n[0] = nx;
  shape.n[1] = ny;
  shape.n[2] = nz;
  shape.batch = batch;
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
