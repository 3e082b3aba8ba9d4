// TEST EQUIPMENT: a host libcufft.so.12 for rcuda-server's test backend
// (README.md). It implements exactly the functions rcuda forwards
// (client/libs/cufft.def), on the fake driver's "device" memory, which is
// host memory of the worker process (tests/fake_driver): a naive DFT per
// dimension in double precision, with cuFFT's layouts and conventions.
// Nothing it computes or times says anything about a GPU or about cuFFT.
//
// Stream order (tests/fake_libs/driver_streams.h): each Exec queues an
// empty host function on the plan's stream and waits for it, then computes
// on the calling thread. Not asynchronous, unlike cuFFT.
#include <cuda.h>
#include <cufft.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <numbers>
#include <vector>

#include "tests/fake_libs/fake_library.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using Complex = std::complex<double>;

constexpr int64_t kMaxDimension = 4096;
constexpr int64_t kMaxPoints = int64_t{1} << 22;

struct Plan {
  bool planned = false;
  cufftType type = CUFFT_C2C;
  int rank = 0;
  int n[3] = {1, 1, 1};
  int batch = 1;
  // Where each side's elements lie (cufftPlanMany's advanced layout; the
  // basic one is its dense case): element (i_0.., batch b) at
  // b*dist + stride*(sum_d i_d * prod_{e>d} embed[e]).
  struct Side {
    int64_t embed[3] = {1, 1, 1};
    int64_t stride = 1, dist = 0;
  } in, out;
  bool auto_allocation = true;
  cudaStream_t stream = nullptr;
  std::map<int, long long> properties;  // cufftSetPlanPropertyInt64's
};

const rcuda::fake_libs::FakeLibrary kDouble(
    "libcufft.so.12", "naive host DFTs"
                      " on the fake driver's host memory, not a GPU and not NVIDIA's cuFFT");

std::mutex mu;
std::map<int, Plan> plans;  // guarded by mu
int last_handle = 0;        // guarded by mu

Plan* Find(cufftHandle h) {
  auto it = plans.find(h);
  return it == plans.end() ? nullptr : &it->second;
}

int64_t Points(const Plan& p) {
  int64_t points = 1;
  for (int i = 0; i < p.rank; ++i) points *= p.n[i];
  return points;
}

bool IsReal(cufftType t) { return t == CUFFT_R2C || t == CUFFT_C2R || t == CUFFT_D2Z || t == CUFFT_Z2D; }

// A side's logical dimensions: the complex side of a real transform has the
// last one halved.
void SideDims(const Plan& p, bool complex_side, int64_t dims[3]) {
  for (int d = 0; d < 3; ++d) dims[d] = d < p.rank ? p.n[d] : 1;
  if (complex_side && IsReal(p.type)) dims[p.rank - 1] = p.n[p.rank - 1] / 2 + 1;
}

// The element of `side` holding point `linear` (row-major over `dims`) of batch b.
int64_t At(const Plan::Side& side, const int64_t dims[3], int rank, int64_t b, int64_t linear) {
  int64_t offset = 0, pitch = 1;
  for (int d = rank - 1; d >= 0; --d) {
    offset += (linear % dims[d]) * pitch;
    linear /= dims[d];
    pitch *= side.embed[d];
  }
  return b * side.dist + side.stride * offset;
}

// The advanced layout of cufftPlanMany (null embeds: the basic one).
struct ManyLayout {
  const int* inembed = nullptr;
  int istride = 1, idist = 0;
  const int* onembed = nullptr;
  int ostride = 1, odist = 0;
};

cufftResult MakePlan(Plan* p, int rank, int nx, int ny, int nz, cufftType type, int batch,
                     const ManyLayout& layout = {}) {
  if (type != CUFFT_C2C && type != CUFFT_Z2Z && !IsReal(type)) return CUFFT_INVALID_TYPE;
  const int n[3] = {nx, ny, nz};
  int64_t points = batch;
  if (batch < 1) return CUFFT_INVALID_SIZE;
  for (int i = 0; i < rank; ++i) {
    if (n[i] < 1 || n[i] > kMaxDimension) return CUFFT_INVALID_SIZE;
    points *= n[i];
    if (points > kMaxPoints) return CUFFT_INVALID_SIZE;
  }
  p->planned = true;
  p->type = type;
  p->rank = rank;
  for (int i = 0; i < 3; ++i) p->n[i] = i < rank ? n[i] : 1;
  p->batch = batch;
  const bool real_in = type == CUFFT_R2C || type == CUFFT_D2Z, real_out = type == CUFFT_C2R || type == CUFFT_Z2D;
  int64_t in_dims[3], out_dims[3];
  SideDims(*p, !real_in, in_dims);
  SideDims(*p, !real_out, out_dims);
  for (Plan::Side* side : {&p->in, &p->out}) {
    const int64_t* dims = side == &p->in ? in_dims : out_dims;
    *side = Plan::Side{};
    side->dist = 1;
    for (int d = 0; d < rank; ++d) side->embed[d] = dims[d], side->dist *= dims[d];
  }
  if (layout.inembed != nullptr && layout.onembed != nullptr) {
    if (layout.istride < 1 || layout.ostride < 1 || layout.idist < 0 || layout.odist < 0) return CUFFT_INVALID_VALUE;
    for (int d = 0; d < rank; ++d) {
      if (layout.inembed[d] < 1 || layout.onembed[d] < 1) return CUFFT_INVALID_VALUE;
      p->in.embed[d] = layout.inembed[d], p->out.embed[d] = layout.onembed[d];
    }
    p->in.stride = layout.istride, p->in.dist = layout.idist;
    p->out.stride = layout.ostride, p->out.dist = layout.odist;
  }
  return CUFFT_SUCCESS;
}

size_t WorkSize(const Plan& p) { return p.planned ? size_t(Points(p)) * p.batch * sizeof(cufftDoubleComplex) : 0; }

// In place over one transform's points (row-major, the last dimension
// fastest): the unnormalized DFT along every dimension, sign -1 forward.
void Dft(std::vector<Complex>& data, const Plan& p, int sign) {
  int64_t stride = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    const int64_t n = p.n[d];
    const int64_t outer = int64_t(data.size()) / (n * stride);
    std::vector<Complex> line(n), twiddle(n);
    for (int64_t k = 0; k < n; ++k)
      twiddle[k] = std::polar(1.0, sign * 2.0 * std::numbers::pi * double(k) / double(n));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t s = 0; s < stride; ++s) {
        Complex* base = data.data() + o * n * stride + s;
        for (int64_t k = 0; k < n; ++k) {
          Complex sum = 0;
          for (int64_t j = 0; j < n; ++j) sum += base[j * stride] * twiddle[(j * k) % n];
          line[k] = sum;
        }
        for (int64_t k = 0; k < n; ++k) base[k * stride] = line[k];
      }
    }
    stride *= n;
  }
}

template <class T>
Complex Load(const void* p, int64_t i) {
  const T* v = static_cast<const T*>(p) + 2 * i;
  return {double(v[0]), double(v[1])};
}
template <class T>
void Store(void* p, int64_t i, Complex c) {
  T* v = static_cast<T*>(p) + 2 * i;
  v[0] = T(c.real());
  v[1] = T(c.imag());
}

// Waits for the plan's stream, then runs the whole batch. T is float or double.
template <class T>
cufftResult Exec(cufftHandle h, cufftType type, const void* in, void* out, int direction) {
  Plan p;
  {
    std::lock_guard lock(mu);
    Plan* found = Find(h);
    if (found == nullptr || !found->planned) return CUFFT_INVALID_PLAN;
    p = *found;
  }
  if (p.type != type) return CUFFT_INVALID_TYPE;
  if (direction != CUFFT_FORWARD && direction != CUFFT_INVERSE) return CUFFT_INVALID_VALUE;
  if (in == nullptr || out == nullptr) return CUFFT_INVALID_VALUE;
  switch (kDouble.WaitFor(p.stream)) {
    case rcuda::fake_libs::FakeLibrary::Wait::kReached: break;
    case rcuda::fake_libs::FakeLibrary::Wait::kNoDriver: return CUFFT_SETUP_FAILED;
    case rcuda::fake_libs::FakeLibrary::Wait::kFailed: return CUFFT_EXEC_FAILED;
  }
  const int64_t points = Points(p), last = p.n[p.rank - 1];
  const bool real_in = type == CUFFT_R2C || type == CUFFT_D2Z, real_out = type == CUFFT_C2R || type == CUFFT_Z2D;
  int64_t in_dims[3], out_dims[3];
  SideDims(p, !real_in, in_dims);
  SideDims(p, !real_out, out_dims);
  auto in_at = [&](int64_t b, int64_t linear) { return At(p.in, in_dims, p.rank, b, linear); };
  auto out_at = [&](int64_t b, int64_t linear) { return At(p.out, out_dims, p.rank, b, linear); };
  // Every batch read before any is written: in place is in place.
  std::vector<std::vector<Complex>> results(p.batch);
  for (int b = 0; b < p.batch; ++b) {
    std::vector<Complex>& data = results[b];
    data.resize(points);
    if (real_in) {
      for (int64_t i = 0; i < points; ++i) data[i] = static_cast<const T*>(in)[in_at(b, i)];
    } else if (real_out) {
      // The full spectrum from its Hermitian half: X[k] = conj(X[-k]).
      for (int64_t i = 0; i < points; ++i) {
        const int64_t k_last = i % last, row = i / last;
        if (k_last <= last / 2) {
          data[i] = Load<T>(in, in_at(b, row * (last / 2 + 1) + k_last));
          continue;
        }
        int64_t mirrored_row = 0, r = row, scale = 1;
        for (int dim = p.rank - 2; dim >= 0; --dim) {
          const int64_t n = p.n[dim], k = r % n;
          mirrored_row += ((n - k) % n) * scale;
          scale *= n;
          r /= n;
        }
        data[i] = std::conj(Load<T>(in, in_at(b, mirrored_row * (last / 2 + 1) + (last - k_last))));
      }
    } else {
      for (int64_t i = 0; i < points; ++i) data[i] = Load<T>(in, in_at(b, i));
    }
    Dft(data, p, real_in ? -1 : (real_out ? 1 : (direction == CUFFT_FORWARD ? -1 : 1)));
  }
  for (int b = 0; b < p.batch; ++b) {
    const std::vector<Complex>& data = results[b];
    if (real_out) {
      for (int64_t i = 0; i < points; ++i) static_cast<T*>(out)[out_at(b, i)] = T(data[i].real());
    } else if (real_in) {
      for (int64_t i = 0; i < points; ++i) {
        const int64_t k_last = i % last, row = i / last;
        if (k_last <= last / 2) Store<T>(out, out_at(b, row * (last / 2 + 1) + k_last), data[i]);
      }
    } else {
      for (int64_t i = 0; i < points; ++i) Store<T>(out, out_at(b, i), data[i]);
    }
  }
  return CUFFT_SUCCESS;
}

cufftResult NewPlan(cufftHandle* plan, int rank, int nx, int ny, int nz, cufftType type, int batch,
                    const ManyLayout& layout = {}) {
  if (plan == nullptr) return CUFFT_INVALID_VALUE;
  Plan p;
  cufftResult r = MakePlan(&p, rank, nx, ny, nz, type, batch, layout);
  if (r != CUFFT_SUCCESS) return r;
  std::lock_guard lock(mu);
  *plan = ++last_handle;
  plans[*plan] = p;
  return CUFFT_SUCCESS;
}

cufftResult ExistingPlan(cufftHandle plan, int rank, int nx, int ny, int nz, cufftType type, int batch,
                         size_t* work_size, const ManyLayout& layout = {}) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  cufftResult r = MakePlan(p, rank, nx, ny, nz, type, batch, layout);
  if (r == CUFFT_SUCCESS && work_size != nullptr) *work_size = WorkSize(*p);
  return r;
}

}  // namespace

FAKE_EXPORT cufftResult cufftGetVersion(int* version) {
  if (version == nullptr) return CUFFT_INVALID_VALUE;
  kDouble.Log("cufftGetVersion: this is a host test double, not NVIDIA's cuFFT");
  *version = CUFFT_VERSION;
  return CUFFT_SUCCESS;
}

// The headers' version, as the real library answers its own; an unknown
// property is CUFFT_INVALID_TYPE (as the real library answers, measured).
FAKE_EXPORT cufftResult cufftGetProperty(libraryPropertyType type, int* value) {
  kDouble.Log("cufftGetProperty: answering the headers' version (a test double's)");
  return rcuda::fake_libs::VersionProperty(type, value, CUFFT_VER_MAJOR, CUFFT_VER_MINOR, CUFFT_VER_PATCH,
                                           CUFFT_SUCCESS, CUFFT_INVALID_TYPE);
}

FAKE_EXPORT cufftResult cufftCreate(cufftHandle* plan) {
  if (plan == nullptr) return CUFFT_INVALID_VALUE;
  std::lock_guard lock(mu);
  *plan = ++last_handle;
  plans[*plan] = Plan{};
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftDestroy(cufftHandle plan) {
  std::lock_guard lock(mu);
  return plans.erase(plan) == 1 ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

FAKE_EXPORT cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  p->stream = stream;
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftPlan1d(cufftHandle* plan, int nx, cufftType type, int batch) {
  return NewPlan(plan, 1, nx, 1, 1, type, batch);
}
FAKE_EXPORT cufftResult cufftPlan2d(cufftHandle* plan, int nx, int ny, cufftType type) {
  return NewPlan(plan, 2, nx, ny, 1, type, 1);
}
FAKE_EXPORT cufftResult cufftPlan3d(cufftHandle* plan, int nx, int ny, int nz, cufftType type) {
  return NewPlan(plan, 3, nx, ny, nz, type, 1);
}
FAKE_EXPORT cufftResult cufftMakePlan1d(cufftHandle plan, int nx, cufftType type, int batch, size_t* work_size) {
  return ExistingPlan(plan, 1, nx, 1, 1, type, batch, work_size);
}
FAKE_EXPORT cufftResult cufftMakePlan2d(cufftHandle plan, int nx, int ny, cufftType type, size_t* work_size) {
  return ExistingPlan(plan, 2, nx, ny, 1, type, 1, work_size);
}
FAKE_EXPORT cufftResult cufftMakePlan3d(cufftHandle plan, int nx, int ny, int nz, cufftType type,
                                        size_t* work_size) {
  return ExistingPlan(plan, 3, nx, ny, nz, type, 1, work_size);
}

FAKE_EXPORT cufftResult cufftGetSize(cufftHandle plan, size_t* work_size) {
  if (work_size == nullptr) return CUFFT_INVALID_VALUE;
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  *work_size = WorkSize(*p);
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftSetAutoAllocation(cufftHandle plan, int auto_allocate) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  p->auto_allocation = auto_allocate != 0;
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftSetWorkArea(cufftHandle plan, void* work_area) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  (void)work_area;  // the host DFT needs none
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftExecC2C(cufftHandle plan, cufftComplex* idata, cufftComplex* odata, int direction) {
  return Exec<float>(plan, CUFFT_C2C, idata, odata, direction);
}
FAKE_EXPORT cufftResult cufftExecR2C(cufftHandle plan, cufftReal* idata, cufftComplex* odata) {
  return Exec<float>(plan, CUFFT_R2C, idata, odata, CUFFT_FORWARD);
}
FAKE_EXPORT cufftResult cufftExecC2R(cufftHandle plan, cufftComplex* idata, cufftReal* odata) {
  return Exec<float>(plan, CUFFT_C2R, idata, odata, CUFFT_INVERSE);
}
FAKE_EXPORT cufftResult cufftExecZ2Z(cufftHandle plan, cufftDoubleComplex* idata, cufftDoubleComplex* odata,
                                     int direction) {
  return Exec<double>(plan, CUFFT_Z2Z, idata, odata, direction);
}
FAKE_EXPORT cufftResult cufftExecD2Z(cufftHandle plan, cufftDoubleReal* idata, cufftDoubleComplex* odata) {
  return Exec<double>(plan, CUFFT_D2Z, idata, odata, CUFFT_FORWARD);
}
FAKE_EXPORT cufftResult cufftExecZ2D(cufftHandle plan, cufftDoubleComplex* idata, cufftDoubleReal* odata) {
  return Exec<double>(plan, CUFFT_Z2D, idata, odata, CUFFT_INVERSE);
}

// cufftPlanMany: rank 1 to 3, n[] row-major (n[rank-1] fastest), as the
// basic plans take nx, ny, nz.
FAKE_EXPORT cufftResult cufftPlanMany(cufftHandle* plan, int rank, int* n, int* inembed, int istride, int idist,
                                      int* onembed, int ostride, int odist, cufftType type, int batch) {
  if (rank < 1 || rank > 3 || n == nullptr) return CUFFT_INVALID_VALUE;
  return NewPlan(plan, rank, n[0], rank > 1 ? n[1] : 1, rank > 2 ? n[2] : 1, type, batch,
                 {inembed, istride, idist, onembed, ostride, odist});
}

FAKE_EXPORT cufftResult cufftMakePlanMany(cufftHandle plan, int rank, int* n, int* inembed, int istride, int idist,
                                          int* onembed, int ostride, int odist, cufftType type, int batch,
                                          size_t* work_size) {
  if (rank < 1 || rank > 3 || n == nullptr) return CUFFT_INVALID_VALUE;
  return ExistingPlan(plan, rank, n[0], rank > 1 ? n[1] : 1, rank > 2 ? n[2] : 1, type, batch, work_size,
                      {inembed, istride, idist, onembed, ostride, odist});
}

// The work-size queries: the size the plan would have (this double's
// WorkSize), planning nothing.
namespace {

cufftResult SizeOf(int rank, int nx, int ny, int nz, cufftType type, int batch, size_t* work_size) {
  if (work_size == nullptr) return CUFFT_INVALID_VALUE;
  Plan p;
  cufftResult r = MakePlan(&p, rank, nx, ny, nz, type, batch);
  if (r == CUFFT_SUCCESS) *work_size = WorkSize(p);
  return r;
}

cufftResult SizeOfPlan(cufftHandle plan, int rank, int nx, int ny, int nz, cufftType type, int batch,
                       size_t* work_size) {
  {
    std::lock_guard lock(mu);
    if (Find(plan) == nullptr) return CUFFT_INVALID_PLAN;
  }
  return SizeOf(rank, nx, ny, nz, type, batch, work_size);
}

int Dim(int rank, const int* n, int d) { return d < rank ? n[d] : 1; }

}  // namespace

FAKE_EXPORT cufftResult cufftEstimate1d(int nx, cufftType type, int batch, size_t* work_size) {
  return SizeOf(1, nx, 1, 1, type, batch, work_size);
}
FAKE_EXPORT cufftResult cufftEstimate2d(int nx, int ny, cufftType type, size_t* work_size) {
  return SizeOf(2, nx, ny, 1, type, 1, work_size);
}
FAKE_EXPORT cufftResult cufftEstimate3d(int nx, int ny, int nz, cufftType type, size_t* work_size) {
  return SizeOf(3, nx, ny, nz, type, 1, work_size);
}
FAKE_EXPORT cufftResult cufftEstimateMany(int rank, int* n, int*, int, int, int*, int, int, cufftType type, int batch,
                                          size_t* work_size) {
  if (rank < 1 || rank > 3 || n == nullptr) return CUFFT_INVALID_VALUE;
  return SizeOf(rank, n[0], Dim(rank, n, 1), Dim(rank, n, 2), type, batch, work_size);
}
FAKE_EXPORT cufftResult cufftGetSize1d(cufftHandle plan, int nx, cufftType type, int batch, size_t* work_size) {
  return SizeOfPlan(plan, 1, nx, 1, 1, type, batch, work_size);
}
FAKE_EXPORT cufftResult cufftGetSize2d(cufftHandle plan, int nx, int ny, cufftType type, size_t* work_size) {
  return SizeOfPlan(plan, 2, nx, ny, 1, type, 1, work_size);
}
FAKE_EXPORT cufftResult cufftGetSize3d(cufftHandle plan, int nx, int ny, int nz, cufftType type, size_t* work_size) {
  return SizeOfPlan(plan, 3, nx, ny, nz, type, 1, work_size);
}
FAKE_EXPORT cufftResult cufftGetSizeMany(cufftHandle plan, int rank, int* n, int*, int, int, int*, int, int,
                                         cufftType type, int batch, size_t* work_size) {
  if (rank < 1 || rank > 3 || n == nullptr) return CUFFT_INVALID_VALUE;
  return SizeOfPlan(plan, rank, n[0], Dim(rank, n, 1), Dim(rank, n, 2), type, batch, work_size);
}

// ---- The 64-bit many plans and the plan properties ------------------------------

namespace {

// Long long arguments this double's int layout can hold (its sizes are
// small: a limit of the double, not of cuFFT).
bool Narrow(long long v, int* out) {
  if (v < INT32_MIN || v > INT32_MAX) return false;
  *out = static_cast<int>(v);
  return true;
}

struct Many64 {
  int rank = 0, n[3] = {1, 1, 1}, inembed[3] = {1, 1, 1}, onembed[3] = {1, 1, 1};
  int istride = 1, idist = 0, ostride = 1, odist = 0, batch = 1;
  bool advanced = false;
  ManyLayout Layout() const {
    return advanced ? ManyLayout{inembed, istride, idist, onembed, ostride, odist} : ManyLayout{};
  }
};

cufftResult ReadMany64(int rank, const long long* n, const long long* inembed, long long istride, long long idist,
                       const long long* onembed, long long ostride, long long odist, long long batch, Many64* m) {
  if (rank < 1 || rank > 3 || n == nullptr) return CUFFT_INVALID_VALUE;
  m->rank = rank;
  m->advanced = inembed != nullptr && onembed != nullptr;
  for (int d = 0; d < rank; ++d) {
    if (!Narrow(n[d], &m->n[d])) return CUFFT_INVALID_SIZE;
    if (m->advanced && (!Narrow(inembed[d], &m->inembed[d]) || !Narrow(onembed[d], &m->onembed[d])))
      return CUFFT_INVALID_SIZE;
  }
  if (!Narrow(istride, &m->istride) || !Narrow(idist, &m->idist) || !Narrow(ostride, &m->ostride) ||
      !Narrow(odist, &m->odist) || !Narrow(batch, &m->batch))
    return CUFFT_INVALID_SIZE;
  return CUFFT_SUCCESS;
}

bool KnownProperty(cufftProperty property) {
  return property == NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT || property == NVFFT_PLAN_PROPERTY_INT64_MAX_NUM_HOST_THREADS;
}

}  // namespace

FAKE_EXPORT cufftResult cufftMakePlanMany64(cufftHandle plan, int rank, long long* n, long long* inembed,
                                            long long istride, long long idist, long long* onembed,
                                            long long ostride, long long odist, cufftType type, long long batch,
                                            size_t* work_size) {
  Many64 m;
  cufftResult r = ReadMany64(rank, n, inembed, istride, idist, onembed, ostride, odist, batch, &m);
  if (r != CUFFT_SUCCESS) return r;
  return ExistingPlan(plan, rank, m.n[0], m.n[1], m.n[2], type, m.batch, work_size, m.Layout());
}

FAKE_EXPORT cufftResult cufftGetSizeMany64(cufftHandle plan, int rank, long long* n, long long*, long long,
                                           long long, long long*, long long, long long, cufftType type,
                                           long long batch, size_t* work_size) {
  Many64 m;
  cufftResult r = ReadMany64(rank, n, nullptr, 1, 0, nullptr, 1, 0, batch, &m);
  if (r != CUFFT_SUCCESS) return r;
  return SizeOfPlan(plan, rank, m.n[0], m.n[1], m.n[2], type, m.batch, work_size);
}

FAKE_EXPORT cufftResult cufftSetPlanPropertyInt64(cufftHandle plan, cufftProperty property, const long long value) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  if (!KnownProperty(property) || value < 0) return CUFFT_INVALID_VALUE;
  p->properties[property] = value;
  return CUFFT_SUCCESS;
}

// An unset property reads as 0 (this double's default).
FAKE_EXPORT cufftResult cufftGetPlanPropertyInt64(cufftHandle plan, cufftProperty property, long long* value) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  if (!KnownProperty(property) || value == nullptr) return CUFFT_INVALID_VALUE;
  auto it = p->properties.find(property);
  *value = it == p->properties.end() ? 0 : it->second;
  return CUFFT_SUCCESS;
}

FAKE_EXPORT cufftResult cufftResetPlanProperty(cufftHandle plan, cufftProperty property) {
  std::lock_guard lock(mu);
  Plan* p = Find(plan);
  if (p == nullptr) return CUFFT_INVALID_PLAN;
  if (!KnownProperty(property)) return CUFFT_INVALID_VALUE;
  p->properties.erase(property);
  return CUFFT_SUCCESS;
}
