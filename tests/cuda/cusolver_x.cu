// cusolver_x: an unmodified program on cuSOLVER's 64-bit generic API
// (cusolverDnX*, linked with NVIDIA's libcusolver.so.12; through rcuda it
// binds to rcuda's, client/libs/). With a cusolverDnParams_t (GETRF's
// algorithm set to ALG_0), in single and double precision chosen by
// cudaDataType: LU (Xgetrf_bufferSize, Xgetrf with 64-bit pivots, Xgetrs,
// plain and transposed) of a diagonally dominant matrix, and Cholesky
// (Xpotrf_bufferSize, Xpotrf, Xpotrs) of a symmetric positive definite one,
// checked by the relative residual ||op(A) x - b|| / (||A|| ||x||); QR
// (Xgeqrf: R^T R = A^T A) and the symmetric eigensolver (Xsyevd: A v =
// lambda v, ascending); each with its device and host workspaces in bytes. With --session-checks
// (the remote runs: rcuda's worker checks what the native library does
// not): a device or host workspace smaller than the query answered, a
// made-up parameters object and a matrix beyond its allocation are refused
// with CUSOLVER_STATUS_INVALID_VALUE, and the session still serves.
#include <cusolverDn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "device_vectors.h"
#include "solve_residual.h"
#include "library_session.h"
#include "test_util.h"

#define CUSOLVER_CHECK(call) RTEST_LIBRARY_CHECK("cuSOLVER", call)
#define CUSOLVER_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuSOLVER", call, expected)

namespace {

constexpr int64_t kN = 24, kLda = kN + 2, kRhs = 2, kLdb = kN + 1;

template <class T>
constexpr cudaDataType kType = sizeof(T) == 4 ? CUDA_R_32F : CUDA_R_64F;
template <class T>
constexpr double kTolerance = sizeof(T) == 4 ? 1e-5 : 1e-13;  // relative residual (n = 24)

// The two workspaces of a factorization, as its query sized them.
struct Workspaces {
  void* device = nullptr;
  size_t device_bytes = 0;
  std::vector<unsigned char> host;
  size_t host_bytes = 0;
  Workspaces(size_t d, size_t h) : device_bytes(d), host(h > 0 ? h : 1), host_bytes(h) {
    CUDA_CHECK(cudaMalloc(&device, device_bytes > 0 ? device_bytes : 1));
  }
  ~Workspaces() { CUDA_CHECK(cudaFree(device)); }
  void* host_pointer() { return host_bytes > 0 ? host.data() : nullptr; }
};

template <class T>
std::vector<T> RandomRhs(rtest::Rng& rng) {
  std::vector<T> b(size_t(kLdb) * kRhs, T(0));
  for (int64_t c = 0; c < kRhs; ++c)
    for (int64_t i = 0; i < kN; ++i) b[i + c * kLdb] = T(rng.Double(-1.0, 1.0));
  return b;
}

int DeviceInfo(const int* info, cudaStream_t stream) { return rtest::FromDevice(info, 1, stream)[0]; }

template <class T>
void Lu(cusolverDnHandle_t h, cusolverDnParams_t params, cudaStream_t stream, rtest::Rng& rng,
        rtest::Checksum& sum) {
  std::vector<T> a(size_t(kLda) * kN, T(0));
  for (int64_t j = 0; j < kN; ++j)
    for (int64_t i = 0; i < kN; ++i) a[i + j * kLda] = T(rng.Double(-1.0, 1.0) + (i == j ? 0.5 * kN : 0.0));
  T* da = rtest::ToDevice(a);
  size_t device_bytes = 0, host_bytes = 0;
  CUSOLVER_CHECK(cusolverDnXgetrf_bufferSize(h, params, kN, kN, kType<T>, da, kLda, kType<T>, &device_bytes,
                                             &host_bytes));
  Workspaces work(device_bytes, host_bytes);
  int64_t* ipiv = nullptr;
  int* info = nullptr;
  CUDA_CHECK(cudaMalloc(&ipiv, sizeof(int64_t) * kN));
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  CUSOLVER_CHECK(cusolverDnXgetrf(h, params, kN, kN, kType<T>, da, kLda, ipiv, kType<T>, work.device, device_bytes,
                                  work.host_pointer(), host_bytes, info));
  CHECKF(DeviceInfo(info, stream) == 0, "Xgetrf (%zu-byte): info %d", sizeof(T), DeviceInfo(info, stream));
  const std::vector<int64_t> pivots = rtest::FromDevice(ipiv, kN, stream);
  for (int64_t p : pivots) CHECKF(p >= 1 && p <= kN, "Xgetrf: pivot %lld out of [1, %lld]", (long long)p, (long long)kN);
  sum.AddVector(pivots);
  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_T}) {
    const std::vector<T> b = RandomRhs<T>(rng);
    T* db = rtest::ToDevice(b);
    CUSOLVER_CHECK(cusolverDnXgetrs(h, params, op, kN, kRhs, kType<T>, da, kLda, ipiv, kType<T>, db, kLdb, info));
    CHECKF(DeviceInfo(info, stream) == 0, "Xgetrs: info %d", DeviceInfo(info, stream));
    const std::vector<T> x = rtest::FromDevice(db, b.size(), stream);
    const double residual = rtest::SolveResidual(kN, kRhs, a, kLda, op == CUBLAS_OP_T, x, b, kLdb);
    CHECKF(residual < kTolerance<T>, "Xgetrf/Xgetrs (%zu-byte, op %d): relative residual %g", sizeof(T), int(op),
           residual);
    sum.AddVector(x);
    CUDA_CHECK(cudaFree(db));
  }
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(ipiv));
  CUDA_CHECK(cudaFree(info));
}

template <class T>
void Cholesky(cusolverDnHandle_t h, cusolverDnParams_t params, cudaStream_t stream, rtest::Rng& rng,
              rtest::Checksum& sum) {
  // A = M M^T + n I: symmetric positive definite.
  std::vector<double> m(size_t(kN) * kN);
  for (double& v : m) v = rng.Double(-1.0, 1.0);
  std::vector<T> a(size_t(kLda) * kN, T(0));
  for (int64_t j = 0; j < kN; ++j)
    for (int64_t i = 0; i < kN; ++i) {
      double s = i == j ? double(kN) : 0.0;
      for (int64_t k = 0; k < kN; ++k) s += m[i + k * kN] * m[j + k * kN];
      a[i + j * kLda] = T(s);
    }
  T* da = rtest::ToDevice(a);
  size_t device_bytes = 0, host_bytes = 0;
  CUSOLVER_CHECK(cusolverDnXpotrf_bufferSize(h, params, CUBLAS_FILL_MODE_LOWER, kN, kType<T>, da, kLda, kType<T>,
                                             &device_bytes, &host_bytes));
  Workspaces work(device_bytes, host_bytes);
  int* info = nullptr;
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  CUSOLVER_CHECK(cusolverDnXpotrf(h, params, CUBLAS_FILL_MODE_LOWER, kN, kType<T>, da, kLda, kType<T>, work.device,
                                  device_bytes, work.host_pointer(), host_bytes, info));
  CHECKF(DeviceInfo(info, stream) == 0, "Xpotrf (%zu-byte): info %d", sizeof(T), DeviceInfo(info, stream));
  const std::vector<T> b = RandomRhs<T>(rng);
  T* db = rtest::ToDevice(b);
  CUSOLVER_CHECK(cusolverDnXpotrs(h, params, CUBLAS_FILL_MODE_LOWER, kN, kRhs, kType<T>, da, kLda, kType<T>, db, kLdb,
                                  info));
  CHECKF(DeviceInfo(info, stream) == 0, "Xpotrs: info %d", DeviceInfo(info, stream));
  const std::vector<T> x = rtest::FromDevice(db, b.size(), stream);
  const double residual = rtest::SolveResidual(kN, kRhs, a, kLda, false, x, b, kLdb);
  CHECKF(residual < kTolerance<T>, "Xpotrf/Xpotrs (%zu-byte): relative residual %g", sizeof(T), residual);
  sum.AddVector(x);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(db));
  CUDA_CHECK(cudaFree(info));
}

// QR (Xgeqrf) of a kN x kN/2 matrix: R, the upper triangle of the result,
// satisfies R^T R = A^T A (Q orthogonal), whatever the reflectors' signs.
template <class T>
void Qr(cusolverDnHandle_t h, cusolverDnParams_t params, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int64_t m = kN, n = kN / 2;
  std::vector<T> a(size_t(kLda) * n, T(0));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) a[i + j * kLda] = T(rng.Double(-1.0, 1.0));
  T *da = rtest::ToDevice(a), *tau = nullptr;
  CUDA_CHECK(cudaMalloc(&tau, sizeof(T) * n));
  size_t device_bytes = 0, host_bytes = 0;
  CUSOLVER_CHECK(cusolverDnXgeqrf_bufferSize(h, params, m, n, kType<T>, da, kLda, kType<T>, tau, kType<T>,
                                             &device_bytes, &host_bytes));
  Workspaces work(device_bytes, host_bytes);
  int* info = nullptr;
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  CUSOLVER_CHECK(cusolverDnXgeqrf(h, params, m, n, kType<T>, da, kLda, kType<T>, tau, kType<T>, work.device,
                                  device_bytes, work.host_pointer(), host_bytes, info));
  CHECKF(DeviceInfo(info, stream) == 0, "Xgeqrf (%zu-byte): info %d", sizeof(T), DeviceInfo(info, stream));
  const std::vector<T> qr = rtest::FromDevice(da, a.size(), stream);
  double worst = 0, scale = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t k = 0; k < n; ++k) {
      double ata = 0, rtr = 0;
      for (int64_t i = 0; i < m; ++i) ata += double(a[i + j * kLda]) * double(a[i + k * kLda]);
      for (int64_t i = 0; i <= std::min(j, k); ++i) rtr += double(qr[i + j * kLda]) * double(qr[i + k * kLda]);
      worst = std::max(worst, std::fabs(ata - rtr));
      scale = std::max(scale, std::fabs(ata));
    }
  CHECKF(worst <= 100 * kTolerance<T> * scale, "Xgeqrf (%zu-byte): |A^T A - R^T R| %g (scale %g)", sizeof(T), worst,
         scale);
  std::vector<T> r;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i <= j; ++i) r.push_back(T(std::fabs(double(qr[i + j * kLda]))));  // signs may differ
  sum.AddVector(r);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(tau));
  CUDA_CHECK(cudaFree(info));
}

// The symmetric eigensolver (Xsyevd, vectors, lower): A v = lambda v for
// every pair, the eigenvalues ascending.
template <class T>
void Eigen(cusolverDnHandle_t h, cusolverDnParams_t params, cudaStream_t stream, rtest::Rng& rng,
           rtest::Checksum& sum) {
  constexpr int64_t n = 12;
  std::vector<T> a(size_t(kLda) * n, T(0));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = j; i < n; ++i) a[i + j * kLda] = a[j + i * kLda] = T(rng.Double(-1.0, 1.0));
  T *da = rtest::ToDevice(a), *w = nullptr;
  CUDA_CHECK(cudaMalloc(&w, sizeof(T) * n));
  size_t device_bytes = 0, host_bytes = 0;
  CUSOLVER_CHECK(cusolverDnXsyevd_bufferSize(h, params, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n, kType<T>,
                                             da, kLda, kType<T>, w, kType<T>, &device_bytes, &host_bytes));
  Workspaces work(device_bytes, host_bytes);
  int* info = nullptr;
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  CUSOLVER_CHECK(cusolverDnXsyevd(h, params, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n, kType<T>, da, kLda,
                                  kType<T>, w, kType<T>, work.device, device_bytes, work.host_pointer(), host_bytes,
                                  info));
  CHECKF(DeviceInfo(info, stream) == 0, "Xsyevd (%zu-byte): info %d", sizeof(T), DeviceInfo(info, stream));
  const std::vector<T> vectors = rtest::FromDevice(da, a.size(), stream), values = rtest::FromDevice(w, n, stream);
  for (int64_t e = 0; e < n; ++e) {
    if (e > 0) CHECKF(values[e - 1] <= values[e], "Xsyevd: eigenvalues not ascending at %lld", (long long)e);
    double residual = 0;
    for (int64_t i = 0; i < n; ++i) {
      double av = 0;
      for (int64_t k = 0; k < n; ++k) av += double(a[i + k * kLda]) * double(vectors[k + e * kLda]);
      residual = std::max(residual, std::fabs(av - double(values[e]) * double(vectors[i + e * kLda])));
    }
    CHECKF(residual <= 100 * kTolerance<T> * n, "Xsyevd (%zu-byte): pair %lld's residual %g", sizeof(T),
           (long long)e, residual);
  }
  sum.AddVector(values);
  CUDA_CHECK(cudaFree(da));
  CUDA_CHECK(cudaFree(w));
  CUDA_CHECK(cudaFree(info));
}

void SessionChecks(cusolverDnHandle_t h, cusolverDnParams_t params, cudaStream_t stream) {
  constexpr int64_t n = 8;
  const auto kInvalid = CUSOLVER_STATUS_INVALID_VALUE;
  std::vector<float> identity(n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i) identity[i + i * n] = 1.0f;
  float* a = rtest::ToDevice(identity);
  size_t device_bytes = 0, host_bytes = 0;
  CUSOLVER_CHECK(cusolverDnXgetrf_bufferSize(h, params, n, n, CUDA_R_32F, a, n, CUDA_R_32F, &device_bytes,
                                             &host_bytes));
  Workspaces work(device_bytes, host_bytes);
  int64_t* ipiv = nullptr;
  int* info = nullptr;
  CUDA_CHECK(cudaMalloc(&ipiv, sizeof(int64_t) * n));
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  // Workspaces smaller than the query's answer (when it asks for any): the
  // worker asks the real query itself and refuses them.
  if (device_bytes > 0)
    CUSOLVER_EXPECT(cusolverDnXgetrf(h, params, n, n, CUDA_R_32F, a, n, ipiv, CUDA_R_32F, work.device,
                                     device_bytes - 1, work.host_pointer(), host_bytes, info),
                    kInvalid);
  if (host_bytes > 0)
    CUSOLVER_EXPECT(cusolverDnXgetrf(h, params, n, n, CUDA_R_32F, a, n, ipiv, CUDA_R_32F, work.device,
                                     device_bytes, work.host_pointer(), host_bytes - 1, info),
                    kInvalid);
  // A device workspace beyond its allocation; a matrix one column beyond its own.
  CUSOLVER_EXPECT(cusolverDnXgetrf(h, params, n, n, CUDA_R_32F, a, n, ipiv, CUDA_R_32F, work.device,
                                   device_bytes + 4096, work.host_pointer(), host_bytes, info),
                  kInvalid);
  CUSOLVER_EXPECT(cusolverDnXpotrs(h, params, CUBLAS_FILL_MODE_LOWER, n, 1, CUDA_R_32F, a, n, CUDA_R_32F, a + n * n,
                                   n, info),
                  kInvalid);
  // A made-up parameters object.
  auto fake = reinterpret_cast<cusolverDnParams_t>(uintptr_t{0xbad});
  CUSOLVER_EXPECT(cusolverDnXgetrf(h, fake, n, n, CUDA_R_32F, a, n, ipiv, CUDA_R_32F, work.device, device_bytes,
                                   work.host_pointer(), host_bytes, info),
                  kInvalid);
  CUSOLVER_EXPECT(cusolverDnDestroyParams(fake), kInvalid);
  // Still serving: the identity factors with info 0.
  CUSOLVER_CHECK(cusolverDnXgetrf(h, params, n, n, CUDA_R_32F, a, n, ipiv, CUDA_R_32F, work.device, device_bytes,
                                  work.host_pointer(), host_bytes, info));
  CHECKF(DeviceInfo(info, stream) == 0, "after the refusals: info %d", DeviceInfo(info, stream));
  CUDA_CHECK(cudaFree(a));
  CUDA_CHECK(cudaFree(ipiv));
  CUDA_CHECK(cudaFree(info));
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("cusolver_x");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cusolverDnHandle_t h = nullptr;
  CUSOLVER_CHECK(cusolverDnCreate(&h));
  CUSOLVER_CHECK(cusolverDnSetStream(h, stream));
  cusolverDnParams_t params = nullptr;
  CUSOLVER_CHECK(cusolverDnCreateParams(&params));
  CUSOLVER_CHECK(cusolverDnSetAdvOptions(params, CUSOLVERDN_GETRF, CUSOLVER_ALG_0));
  Lu<float>(h, params, stream, rng, sum);
  Lu<double>(h, params, stream, rng, sum);
  Cholesky<float>(h, params, stream, rng, sum);
  Cholesky<double>(h, params, stream, rng, sum);
  Qr<float>(h, params, stream, rng, sum);
  Qr<double>(h, params, stream, rng, sum);
  Eigen<float>(h, params, stream, rng, sum);
  Eigen<double>(h, params, stream, rng, sum);
  if (session_checks) SessionChecks(h, params, stream);
  CUSOLVER_CHECK(cusolverDnDestroyParams(params));
  CUSOLVER_CHECK(cusolverDnDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
