// cufft_transforms: an unmodified cuFFT program (linked with NVIDIA's
// libcufft.so.12; through rcuda it binds to rcuda's, client/libs/). On a
// stream of the program's it runs 1D, 2D and 3D transforms, complex and
// real, single and double precision, and compares each with a naive host
// DFT in double precision (the reference):
//   1D C2C, batch 3, forward then inverse (the round trip is N times the input)
//   2D R2C and C2R (the real side back, N times)
//   3D Z2Z forward, 3D D2Z and Z2D
//   a plan made in two steps (cufftCreate, cufftMakePlan1d with its work
//   size, cufftGetSize, cufftSetAutoAllocation(0), cufftSetWorkArea) in place
//   cufftPlanMany, cufftMakePlanMany and cufftMakePlanMany64 (with
//   GetSizeMany64 and a plan property set, read and reset): basic and
//   advanced layouts (strides,
//   distances, padded embeds)
// Tolerance: the largest error over an output, relative to the largest
// magnitude of its reference, at most 1e-5 (single) or 1e-12 (double): a
// correct FFT's error grows like eps * log N, these sizes are small, and a
// wrong transform (a wrong sign, layout or scale) is off by order one.
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): an Exec on a destroyed plan, on an unplanned
// handle, on a plan of another type, on a made-up plan, with a range
// beyond its allocation, a work area beyond its allocation or freed since,
// an advanced layout spanning past its allocation, a PlanMany without
// dimensions or of rank 4, are refused with CUFFT_INVALID_VALUE, and the session still serves.
#include <cufft.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <vector>

#include "library_session.h"
#include "test_util.h"

#define CUFFT_CHECK(call) RTEST_LIBRARY_CHECK("cuFFT", call)
#define CUFFT_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuFFT", call, expected)

namespace {

using Complex = std::complex<double>;

constexpr double kPi = 3.14159265358979323846;  // nvcc's dialect may lack std::numbers

// The unnormalized DFT of each of `batch` row-major arrays of shape `n`
// (sign -1 forward, +1 inverse), in double precision.
std::vector<Complex> HostDft(std::vector<Complex> data, const std::vector<int>& n, int batch, int sign) {
  size_t points = 1;
  for (int d : n) points *= size_t(d);
  size_t stride = 1;
  for (int d = int(n.size()) - 1; d >= 0; --d) {
    const size_t len = size_t(n[d]);
    std::vector<Complex> line(len);
    for (size_t base0 = 0; base0 < points * batch; base0 += len * stride) {
      for (size_t s = 0; s < stride; ++s) {
        Complex* base = data.data() + base0 + s;
        for (size_t k = 0; k < len; ++k) {
          Complex sum = 0;
          for (size_t j = 0; j < len; ++j)
            sum += base[j * stride] * std::polar(1.0, sign * 2 * kPi * double((j * k) % len) / len);
          line[k] = sum;
        }
        for (size_t k = 0; k < len; ++k) base[k * stride] = line[k];
      }
    }
    stride *= len;
  }
  return data;
}

size_t PointsOf(const std::vector<int>& n) {
  size_t p = 1;
  for (int d : n) p *= size_t(d);
  return p;
}

// The Hermitian half of full spectra (the last dimension's first n/2+1).
std::vector<Complex> Half(const std::vector<Complex>& full, const std::vector<int>& n, int batch) {
  const size_t last = size_t(n.back()), rows = PointsOf(n) / last * batch;
  std::vector<Complex> half;
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k <= last / 2; ++k) half.push_back(full[r * last + k]);
  return half;
}

template <class T>
std::vector<Complex> ToComplex(const std::vector<T>& interleaved) {
  std::vector<Complex> c(interleaved.size() / 2);
  for (size_t i = 0; i < c.size(); ++i) c[i] = {double(interleaved[2 * i]), double(interleaved[2 * i + 1])};
  return c;
}

template <class T>
std::vector<T> Interleaved(const std::vector<Complex>& c) {
  std::vector<T> v(2 * c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    v[2 * i] = T(c[i].real());
    v[2 * i + 1] = T(c[i].imag());
  }
  return v;
}

void ExpectClose(const char* what, const std::vector<Complex>& got, const std::vector<Complex>& want, double tol) {
  CHECKF(got.size() == want.size(), "%s: %zu values, expected %zu", what, got.size(), want.size());
  double scale = 0, error = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    error = std::max(error, std::abs(got[i] - want[i]));
  }
  std::printf("%-26s max error %.3g of max magnitude %.3g\n", what, error, scale);
  CHECKF(error <= tol * std::max(scale, 1.0), "%s: max error %g, tolerance %g of %g", what, error, tol, scale);
}

template <class T>
std::vector<T> FromDevice(const void* d, size_t n, cudaStream_t stream) {
  std::vector<T> host(n);
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaMemcpy(host.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

template <class T>
void ToDevice(void* d, const std::vector<T>& v) {
  CUDA_CHECK(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
}

std::vector<Complex> RandomComplex(rtest::Rng& rng, size_t n) {
  std::vector<Complex> v(n);
  for (Complex& c : v) c = {rng.Double(-1, 1), rng.Double(-1, 1)};
  return v;
}

// 1D C2C, batch 3: forward against the reference, then inverse back.
void ComplexRoundTrip(rtest::Rng& rng, cudaStream_t stream, void* in, void* out, rtest::Checksum& sum) {
  const std::vector<int> n = {64};
  const int batch = 3;
  std::vector<float> x = Interleaved<float>(RandomComplex(rng, 64 * batch));
  ToDevice(in, x);
  cufftHandle plan = -1;
  CUFFT_CHECK(cufftPlan1d(&plan, 64, CUFFT_C2C, batch));
  CUFFT_CHECK(cufftSetStream(plan, stream));
  CUFFT_CHECK(cufftExecC2C(plan, static_cast<cufftComplex*>(in), static_cast<cufftComplex*>(out), CUFFT_FORWARD));
  std::vector<float> y = FromDevice<float>(out, x.size(), stream);
  ExpectClose("1D C2C forward", ToComplex(y), HostDft(ToComplex(x), n, batch, -1), 1e-5);
  CUFFT_CHECK(cufftExecC2C(plan, static_cast<cufftComplex*>(out), static_cast<cufftComplex*>(out), CUFFT_INVERSE));
  std::vector<Complex> back = ToComplex(FromDevice<float>(out, x.size(), stream)), want = ToComplex(x);
  for (Complex& c : want) c *= 64.0;
  ExpectClose("1D C2C inverse (x64)", back, want, 1e-5);
  sum.AddVector(y);
  CUFFT_CHECK(cufftDestroy(plan));
}

// 2D R2C against the reference, then C2R back (N times the input), its plan
// made in two steps.
void RealRoundTrip(rtest::Rng& rng, cudaStream_t stream, void* in, void* out, rtest::Checksum& sum) {
  const std::vector<int> n = {8, 12};
  std::vector<float> x(96);
  for (float& v : x) v = rng.Float(-1, 1);
  ToDevice(in, x);
  cufftHandle r2c = -1, c2r = -1;
  CUFFT_CHECK(cufftPlan2d(&r2c, 8, 12, CUFFT_R2C));
  size_t work = 0;  // C2R in two steps (cufftCreate, cufftMakePlan2d), the library's work area
  CUFFT_CHECK(cufftCreate(&c2r));
  CUFFT_CHECK(cufftMakePlan2d(c2r, 8, 12, CUFFT_C2R, &work));
  CUFFT_CHECK(cufftSetStream(r2c, stream));
  CUFFT_CHECK(cufftSetStream(c2r, stream));
  CUFFT_CHECK(cufftExecR2C(r2c, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out)));
  std::vector<float> y = FromDevice<float>(out, 2 * 8 * 7, stream);
  std::vector<Complex> xc(x.begin(), x.end());
  ExpectClose("2D R2C", ToComplex(y), Half(HostDft(xc, n, 1, -1), n, 1), 1e-5);
  CUFFT_CHECK(cufftExecC2R(c2r, static_cast<cufftComplex*>(out), static_cast<cufftReal*>(in)));
  std::vector<float> back = FromDevice<float>(in, 96, stream);
  std::vector<Complex> got(back.begin(), back.end()), want(x.begin(), x.end());
  for (Complex& c : want) c *= 96.0;
  ExpectClose("2D C2R (x96)", got, want, 1e-5);
  sum.AddVector(y);
  CUFFT_CHECK(cufftDestroy(r2c));
  CUFFT_CHECK(cufftDestroy(c2r));
}

// 3D Z2Z forward; 3D D2Z and Z2D back (a plan made in two steps), in double
// precision.
void DoubleTransforms(rtest::Rng& rng, cudaStream_t stream, void* in, void* out, rtest::Checksum& sum) {
  const std::vector<int> n = {4, 6, 5};
  std::vector<Complex> xc = RandomComplex(rng, 120);
  ToDevice(in, Interleaved<double>(xc));
  cufftHandle z2z = -1, d2z = -1, z2d = -1;
  CUFFT_CHECK(cufftPlan3d(&z2z, 4, 6, 5, CUFFT_Z2Z));
  CUFFT_CHECK(cufftSetStream(z2z, stream));
  CUFFT_CHECK(cufftExecZ2Z(z2z, static_cast<cufftDoubleComplex*>(in), static_cast<cufftDoubleComplex*>(out),
                           CUFFT_FORWARD));
  std::vector<double> y = FromDevice<double>(out, 240, stream);
  ExpectClose("3D Z2Z forward", ToComplex(y), HostDft(xc, n, 1, -1), 1e-12);
  sum.AddVector(y);

  std::vector<double> x(120);
  for (double& v : x) v = rng.Double(-1, 1);
  ToDevice(in, x);
  CUFFT_CHECK(cufftPlan3d(&d2z, 4, 6, 5, CUFFT_D2Z));
  size_t work = 0;  // Z2D in two steps (cufftCreate, cufftMakePlan3d)
  CUFFT_CHECK(cufftCreate(&z2d));
  CUFFT_CHECK(cufftMakePlan3d(z2d, 4, 6, 5, CUFFT_Z2D, &work));
  CUFFT_CHECK(cufftSetStream(d2z, stream));
  CUFFT_CHECK(cufftSetStream(z2d, stream));
  CUFFT_CHECK(cufftExecD2Z(d2z, static_cast<cufftDoubleReal*>(in), static_cast<cufftDoubleComplex*>(out)));
  std::vector<double> h = FromDevice<double>(out, 2 * 4 * 6 * 3, stream);
  ExpectClose("3D D2Z", ToComplex(h), Half(HostDft(std::vector<Complex>(x.begin(), x.end()), n, 1, -1), n, 1),
              1e-12);
  CUFFT_CHECK(cufftExecZ2D(z2d, static_cast<cufftDoubleComplex*>(out), static_cast<cufftDoubleReal*>(in)));
  std::vector<double> back = FromDevice<double>(in, 120, stream);
  std::vector<Complex> got(back.begin(), back.end()), want(x.begin(), x.end());
  for (Complex& c : want) c *= 120.0;
  ExpectClose("3D Z2D (x120)", got, want, 1e-12);
  sum.AddVector(h);
  CUFFT_CHECK(cufftDestroy(z2z));
  CUFFT_CHECK(cufftDestroy(d2z));
  CUFFT_CHECK(cufftDestroy(z2d));
}

// cufftCreate + cufftMakePlan1d with the program's own work area, in place.
void TwoStepPlan(rtest::Rng& rng, cudaStream_t stream, void* data, rtest::Checksum& sum) {
  cufftHandle plan = -1;
  CUFFT_CHECK(cufftCreate(&plan));
  CUFFT_CHECK(cufftSetAutoAllocation(plan, 0));
  size_t work = 0, size = 0;
  CUFFT_CHECK(cufftMakePlan1d(plan, 128, CUFFT_Z2Z, 2, &work));
  CUFFT_CHECK(cufftGetSize(plan, &size));
  CHECKF(size == work, "cufftGetSize %zu, cufftMakePlan1d said %zu", size, work);
  // The size queries (on a handle not yet planned, as cuFFT's documentation
  // has them): each answers and writes its out value.
  cufftHandle fresh = -1;
  CUFFT_CHECK(cufftCreate(&fresh));
  const size_t unset = ~size_t{0};
  int n2[2] = {8, 12};
  size_t sizes[8] = {unset, unset, unset, unset, unset, unset, unset, unset};
  CUFFT_CHECK(cufftEstimate1d(128, CUFFT_Z2Z, 2, &sizes[0]));
  CUFFT_CHECK(cufftEstimate2d(8, 12, CUFFT_R2C, &sizes[1]));
  CUFFT_CHECK(cufftEstimate3d(4, 6, 5, CUFFT_Z2Z, &sizes[2]));
  CUFFT_CHECK(cufftEstimateMany(2, n2, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2C, 3, &sizes[3]));
  CUFFT_CHECK(cufftGetSize1d(fresh, 128, CUFFT_Z2Z, 2, &sizes[4]));
  CUFFT_CHECK(cufftGetSize2d(fresh, 8, 12, CUFFT_R2C, &sizes[5]));
  CUFFT_CHECK(cufftGetSize3d(fresh, 4, 6, 5, CUFFT_Z2Z, &sizes[6]));
  CUFFT_CHECK(cufftGetSizeMany(fresh, 2, n2, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2C, 3, &sizes[7]));
  CUFFT_CHECK(cufftDestroy(fresh));
  for (size_t q : sizes) CHECKF(q < (size_t{1} << 30), "a work-size query answered %zu", q);
  std::printf("work sizes: plan %zu, estimates %zu %zu %zu %zu, queries %zu %zu %zu %zu\n", work, sizes[0], sizes[1],
              sizes[2], sizes[3], sizes[4], sizes[5], sizes[6], sizes[7]);
  void* area = nullptr;
  CUDA_CHECK(cudaMalloc(&area, work > 0 ? work : 1));
  CUFFT_CHECK(cufftSetWorkArea(plan, area));
  CUFFT_CHECK(cufftSetStream(plan, stream));
  std::vector<Complex> x = RandomComplex(rng, 256);
  ToDevice(data, Interleaved<double>(x));
  auto* z = static_cast<cufftDoubleComplex*>(data);
  CUFFT_CHECK(cufftExecZ2Z(plan, z, z, CUFFT_FORWARD));
  std::vector<double> y = FromDevice<double>(data, 512, stream);
  ExpectClose("1D Z2Z in place, work area", ToComplex(y), HostDft(x, {128}, 2, -1), 1e-12);
  sum.AddVector(y);
  CUFFT_CHECK(cufftDestroy(plan));
  CUDA_CHECK(cudaFree(area));
}

// cufftPlanMany and cufftMakePlanMany: the basic layout (null embeds), then
// advanced ones: the columns of a row-major matrix (a stride), real batches
// with padding between them (a distance), and 2D batches whose rows are
// padded (an embed larger than the dimension).
void ManyPlans(rtest::Rng& rng, cudaStream_t stream, void* in, void* out, rtest::Checksum& sum) {
  {  // Basic: 2D C2C, batch 2.
    int n[2] = {4, 8};
    std::vector<Complex> x = RandomComplex(rng, 64);
    ToDevice(in, Interleaved<float>(x));
    cufftHandle plan = -1;
    CUFFT_CHECK(cufftPlanMany(&plan, 2, n, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2C, 2));
    CUFFT_CHECK(cufftSetStream(plan, stream));
    CUFFT_CHECK(cufftExecC2C(plan, static_cast<cufftComplex*>(in), static_cast<cufftComplex*>(out), CUFFT_FORWARD));
    std::vector<float> y = FromDevice<float>(out, 128, stream);
    ExpectClose("PlanMany 2D C2C (basic)", ToComplex(y), HostDft(x, {4, 8}, 2, -1), 1e-5);
    sum.AddVector(y);
    CUFFT_CHECK(cufftDestroy(plan));
  }
  {  // The 5 columns of an 8 x 5 row-major matrix: stride 5, distance 1; out dense.
    int n[1] = {8}, inembed[1] = {8}, onembed[1] = {8};
    std::vector<Complex> m = RandomComplex(rng, 40), columns(40);
    for (int c = 0; c < 5; ++c)
      for (int r = 0; r < 8; ++r) columns[c * 8 + r] = m[r * 5 + c];
    ToDevice(in, Interleaved<float>(m));
    cufftHandle plan = -1;
    CUFFT_CHECK(cufftPlanMany(&plan, 1, n, inembed, 5, 1, onembed, 1, 8, CUFFT_C2C, 5));
    CUFFT_CHECK(cufftSetStream(plan, stream));
    CUFFT_CHECK(cufftExecC2C(plan, static_cast<cufftComplex*>(in), static_cast<cufftComplex*>(out), CUFFT_FORWARD));
    std::vector<float> y = FromDevice<float>(out, 80, stream);
    ExpectClose("PlanMany 1D C2C columns", ToComplex(y), HostDft(columns, {8}, 5, -1), 1e-5);
    sum.AddVector(y);
    CUFFT_CHECK(cufftDestroy(plan));
  }
  {  // Real batches of 16 every 20 floats; their half spectra every 9 complex.
    int n[1] = {16}, inembed[1] = {20}, onembed[1] = {9};
    std::vector<float> x(60, 0.0f);
    std::vector<Complex> dense;
    for (int b = 0; b < 3; ++b)
      for (int i = 0; i < 16; ++i) dense.push_back(x[b * 20 + i] = rng.Float(-1, 1));
    ToDevice(in, x);
    cufftHandle plan = -1;
    CUFFT_CHECK(cufftPlanMany(&plan, 1, n, inembed, 1, 20, onembed, 1, 9, CUFFT_R2C, 3));
    CUFFT_CHECK(cufftSetStream(plan, stream));
    CUFFT_CHECK(cufftExecR2C(plan, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out)));
    std::vector<float> y = FromDevice<float>(out, 54, stream);
    ExpectClose("PlanMany 1D R2C padded", ToComplex(y), Half(HostDft(dense, {16}, 3, -1), {16}, 3), 1e-5);
    sum.AddVector(y);
    CUFFT_CHECK(cufftDestroy(plan));
  }
  {  // MakePlanMany: 2D Z2Z 4 x 6, batch 2, input rows padded to 8, batches every 32.
    int n[2] = {4, 6}, inembed[2] = {4, 8}, onembed[2] = {4, 6};
    std::vector<Complex> x = RandomComplex(rng, 64), dense;
    for (int b = 0; b < 2; ++b)
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 6; ++c) dense.push_back(x[b * 32 + r * 8 + c]);
    ToDevice(in, Interleaved<double>(x));
    cufftHandle plan = -1;
    size_t work = 0;
    CUFFT_CHECK(cufftCreate(&plan));
    CUFFT_CHECK(cufftMakePlanMany(plan, 2, n, inembed, 1, 32, onembed, 1, 24, CUFFT_Z2Z, 2, &work));
    CUFFT_CHECK(cufftSetStream(plan, stream));
    CUFFT_CHECK(cufftExecZ2Z(plan, static_cast<cufftDoubleComplex*>(in), static_cast<cufftDoubleComplex*>(out),
                             CUFFT_FORWARD));
    std::vector<double> y = FromDevice<double>(out, 96, stream);
    ExpectClose("MakePlanMany 2D Z2Z padded", ToComplex(y), HostDft(dense, {4, 6}, 2, -1), 1e-12);
    sum.AddVector(y);
    CUFFT_CHECK(cufftDestroy(plan));

    // The same plan with 64-bit arrays (MakePlanMany64), its work size asked
    // again (GetSizeMany64), and a plan property set, read and reset.
    long long n64[2] = {4, 6}, inembed64[2] = {4, 8}, onembed64[2] = {4, 6};
    size_t work64 = 0, size64 = 0;
    CUFFT_CHECK(cufftCreate(&plan));
    CUFFT_CHECK(cufftSetPlanPropertyInt64(plan, NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT, 1));
    long long patient = -1;
    CUFFT_CHECK(cufftGetPlanPropertyInt64(plan, NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT, &patient));
    CHECKF(patient == 1, "cufftGetPlanPropertyInt64(PATIENT_JIT) after setting 1: %lld", patient);
    CUFFT_CHECK(cufftResetPlanProperty(plan, NVFFT_PLAN_PROPERTY_INT64_PATIENT_JIT));
    CUFFT_CHECK(cufftMakePlanMany64(plan, 2, n64, inembed64, 1, 32, onembed64, 1, 24, CUFFT_Z2Z, 2, &work64));
    CUFFT_CHECK(cufftGetSizeMany64(plan, 2, n64, inembed64, 1, 32, onembed64, 1, 24, CUFFT_Z2Z, 2, &size64));
    CHECKF(size64 == work64, "cufftGetSizeMany64 %zu, cufftMakePlanMany64 said %zu", size64, work64);
    CUFFT_CHECK(cufftSetStream(plan, stream));
    CUFFT_CHECK(cufftExecZ2Z(plan, static_cast<cufftDoubleComplex*>(in), static_cast<cufftDoubleComplex*>(out),
                             CUFFT_FORWARD));
    y = FromDevice<double>(out, 96, stream);
    ExpectClose("MakePlanMany64 2D Z2Z padded", ToComplex(y), HostDft(dense, {4, 6}, 2, -1), 1e-12);
    CUFFT_CHECK(cufftDestroy(plan));
  }
}

// Under rcuda our libcudart exports its private call (client/private_library_abi.h).
bool UnderRcuda() { return rtest::PrivateLibraryCall() != nullptr; }

void SessionChecks(cudaStream_t stream) {
  CHECKF(UnderRcuda(), "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  void *small = nullptr, *big = nullptr;
  CUDA_CHECK(cudaMalloc(&small, 64 * sizeof(cufftComplex)));
  CUDA_CHECK(cudaMalloc(&big, 64 * sizeof(cufftDoubleComplex)));
  auto* c = static_cast<cufftComplex*>(small);
  auto* z = static_cast<cufftDoubleComplex*>(big);
  cufftHandle plan = -1;
  CUFFT_CHECK(cufftPlan1d(&plan, 64, CUFFT_C2C, 1));
  CUFFT_CHECK(cufftSetStream(plan, stream));
  CUFFT_CHECK(cufftExecC2C(plan, c, c, CUFFT_FORWARD));  // the whole allocation is fine
  // A plan of another type.
  CUFFT_EXPECT(cufftExecZ2Z(plan, z, z, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftExecR2C(plan, reinterpret_cast<cufftReal*>(c), c), CUFFT_INVALID_VALUE);
  // Ranges beyond the allocation, one element or far; a pointer that is no allocation.
  CUFFT_EXPECT(cufftExecC2C(plan, c + 1, c + 1, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftExecC2C(plan, c, c + 32, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftExecC2C(plan, reinterpret_cast<cufftComplex*>(uintptr_t{0x1000}), c, CUFFT_FORWARD),
               CUFFT_INVALID_VALUE);
  // A batch larger than the memory: refused at Exec, whatever the library planned.
  cufftHandle wide = -1;
  CUFFT_CHECK(cufftPlan1d(&wide, 64, CUFFT_C2C, 2));
  CUFFT_EXPECT(cufftExecC2C(wide, c, c, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_CHECK(cufftDestroy(wide));
  // Hostile dimensions: the library refuses the plan; nothing is recorded.
  cufftHandle huge = -1;
  CHECKF(cufftPlan3d(&huge, 0x7fffffff, 0x7fffffff, 0x7fffffff, CUFFT_Z2Z) != CUFFT_SUCCESS,
         "a plan of 2^93 points was made");
  // An unplanned handle, then a work area beyond its allocation or freed since.
  cufftHandle bare = -1;
  CUFFT_CHECK(cufftCreate(&bare));
  CUFFT_EXPECT(cufftExecC2C(bare, c, c, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_CHECK(cufftSetAutoAllocation(bare, 0));
  size_t work = 0;
  CUFFT_CHECK(cufftMakePlan1d(bare, 64, CUFFT_C2C, 1, &work));
  if (work > 0) {
    // Its last byte one past the allocation's end (or, for a work size
    // larger than the allocation, from its start).
    const size_t end = 64 * sizeof(cufftComplex);
    char* beyond = static_cast<char*>(small) + (work > end ? 0 : end - work + 1);
    CUFFT_EXPECT(cufftSetWorkArea(bare, beyond), CUFFT_INVALID_VALUE);
    void* area = nullptr;
    CUDA_CHECK(cudaMalloc(&area, work));
    CUFFT_CHECK(cufftSetWorkArea(bare, area));
    CUFFT_CHECK(cufftSetStream(bare, stream));
    CUFFT_CHECK(cufftExecC2C(bare, c, c, CUFFT_FORWARD));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    CUDA_CHECK(cudaFree(area));
    CUFFT_EXPECT(cufftExecC2C(bare, c, c, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  }
  CUFFT_CHECK(cufftDestroy(bare));
  // An advanced layout whose span is beyond the allocation (64 points every
  // other element: 127 elements of 64), no dimensions, rank 4.
  int n64[1] = {64}, embed64[1] = {128};
  cufftHandle strided = -1;
  CUFFT_CHECK(cufftPlanMany(&strided, 1, n64, embed64, 2, 128, embed64, 1, 64, CUFFT_C2C, 1));
  CUFFT_EXPECT(cufftExecC2C(strided, c, reinterpret_cast<cufftComplex*>(z), CUFFT_FORWARD),
               CUFFT_INVALID_VALUE);
  CUFFT_CHECK(cufftDestroy(strided));
  cufftHandle shapeless = -1;
  CUFFT_EXPECT(cufftPlanMany(&shapeless, 1, nullptr, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2C, 1),
               CUFFT_INVALID_VALUE);
  int n4[4] = {2, 2, 2, 2};
  CUFFT_EXPECT(cufftPlanMany(&shapeless, 4, n4, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2C, 1), CUFFT_INVALID_VALUE);
  // A destroyed plan, and a made-up one.
  cufftHandle gone = plan;
  CUFFT_CHECK(cufftDestroy(plan));
  CUFFT_EXPECT(cufftExecC2C(gone, c, c, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftDestroy(gone), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftExecC2C(12345, c, c, CUFFT_FORWARD), CUFFT_INVALID_VALUE);
  CUFFT_EXPECT(cufftSetStream(-7, stream), CUFFT_INVALID_VALUE);
  // Still serving.
  CUFFT_CHECK(cufftPlan1d(&plan, 64, CUFFT_C2C, 1));
  CUFFT_CHECK(cufftExecC2C(plan, c, c, CUFFT_FORWARD));
  CUFFT_CHECK(cufftDestroy(plan));
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaFree(small));
  CUDA_CHECK(cudaFree(big));
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("cufft_transforms");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;

  int version = 0;
  CUFFT_CHECK(cufftGetVersion(&version));
  CHECKF(version / 1000 == CUFFT_VER_MAJOR, "cufftGetVersion: %d", version);
  std::printf("cuFFT version %d\n", version);
  {
    // The library's properties (forwarded: the worker's library answers).
    int major = -1, patch = -1, ignored = 0;
    CUFFT_CHECK(cufftGetProperty(MAJOR_VERSION, &major));
    CUFFT_CHECK(cufftGetProperty(PATCH_LEVEL, &patch));
    CHECKF(major == CUFFT_VER_MAJOR && patch >= 0, "cufftGetProperty: major %d, patch %d", major, patch);
    CUFFT_EXPECT(cufftGetProperty(static_cast<libraryPropertyType>(9), &ignored), CUFFT_INVALID_TYPE);
  }

  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  void *in = nullptr, *out = nullptr;
  CUDA_CHECK(cudaMalloc(&in, 4096));
  CUDA_CHECK(cudaMalloc(&out, 4096));
  ComplexRoundTrip(rng, stream, in, out, sum);
  RealRoundTrip(rng, stream, in, out, sum);
  DoubleTransforms(rng, stream, in, out, sum);
  TwoStepPlan(rng, stream, out, sum);
  ManyPlans(rng, stream, in, out, sum);
  if (session_checks) SessionChecks(stream);
  CUDA_CHECK(cudaFree(in));
  CUDA_CHECK(cudaFree(out));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
