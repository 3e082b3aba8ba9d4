// cusolver_solve: an unmodified cuSOLVER dense program (linked with NVIDIA's
// libcusolver.so.12; through rcuda it binds to rcuda's, client/libs/). On a
// stream of the program's, in single and double precision:
//   * LU with partial pivoting (getrf_bufferSize, getrf) of a random
//     diagonally dominant matrix with a padded leading dimension, then
//     getrs for three right-hand sides, plain and transposed;
//   * Cholesky (potrf_bufferSize, potrf, potrs) of a random symmetric
//     positive definite matrix, lower and upper;
// each checked by its relative residual ||A x - b|| / (||A|| ||x||) against
// a tolerance of the precision (documented below), and the pivots by their
// range. What the library reports in devInfo: a matrix with a zero column
// (getrf: the column, 1-based) and one that is not positive definite
// (potrf: the order of the failing minor). The solutions, pivots and infos
// go in the checksum, so native and remote runs on one GPU compare exactly.
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): a matrix, workspace, pivot or info range beyond
// its allocation, a pointer that is no allocation, a made-up handle and an
// unknown function id are refused with CUSOLVER_STATUS_INVALID_VALUE, and
// the session still serves.
#include <cusolverDn.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "library_session.h"
#include "device_vectors.h"
#include "solve_residual.h"
#include "test_util.h"

#define CUSOLVER_CHECK(call) RTEST_LIBRARY_CHECK("cuSOLVER", call)
#define CUSOLVER_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuSOLVER", call, expected)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

constexpr int kN = 48, kLda = kN + 3, kRhs = 3, kLdb = kN + 1;

// The functions of one precision.
template <class T>
struct Dense;
template <>
struct Dense<float> {
  static constexpr auto getrf_bufferSize = cusolverDnSgetrf_bufferSize;
  static constexpr auto getrf = cusolverDnSgetrf;
  static constexpr auto getrs = cusolverDnSgetrs;
  static constexpr auto potrf_bufferSize = cusolverDnSpotrf_bufferSize;
  static constexpr auto potrf = cusolverDnSpotrf;
  static constexpr auto potrs = cusolverDnSpotrs;
  static constexpr double kTolerance = 1e-5;  // relative residual, float (eps 1.2e-7, n = 48)
  static constexpr const char* kName = "float";
};
template <>
struct Dense<double> {
  static constexpr auto getrf_bufferSize = cusolverDnDgetrf_bufferSize;
  static constexpr auto getrf = cusolverDnDgetrf;
  static constexpr auto getrs = cusolverDnDgetrs;
  static constexpr auto potrf_bufferSize = cusolverDnDpotrf_bufferSize;
  static constexpr auto potrf = cusolverDnDpotrf;
  static constexpr auto potrs = cusolverDnDpotrs;
  static constexpr double kTolerance = 1e-13;  // relative residual, double (eps 2.2e-16, n = 48)
  static constexpr const char* kName = "double";
};

template <class T>
std::vector<T> RandomRhs(rtest::Rng& rng) {
  std::vector<T> b(size_t(kLdb) * kRhs, T(0));
  for (int c = 0; c < kRhs; ++c) {
    for (int i = 0; i < kN; ++i) b[i + c * kLdb] = T(rng.Float(-1.0f, 1.0f));
  }
  return b;
}

template <class T>
void Lu(cusolverDnHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using D = Dense<T>;
  // Diagonally dominant: well conditioned, and pivoting still happens below
  // the diagonal where an entry beats the diagonal's column.
  std::vector<T> a(size_t(kLda) * kN, T(0));
  for (int j = 0; j < kN; ++j) {
    for (int i = 0; i < kN; ++i) a[i + j * kLda] = T(rng.Float(-1.0f, 1.0f));
    a[j + j * kLda] += T(j % 2 ? kN : -kN / 2);
  }
  T* d_a = ToDevice(a);
  int lwork = -1;
  CUSOLVER_CHECK(D::getrf_bufferSize(h, kN, kN, d_a, kLda, &lwork));
  CHECKF(lwork >= 0, "%s getrf_bufferSize: Lwork %d", D::kName, lwork);
  T* d_work = nullptr;
  CUDA_CHECK(cudaMalloc(&d_work, sizeof(T) * size_t(lwork > 0 ? lwork : 1)));
  int* d_ipiv = nullptr;
  int* d_info = nullptr;
  CUDA_CHECK(cudaMalloc(&d_ipiv, sizeof(int) * kN));
  CUDA_CHECK(cudaMalloc(&d_info, sizeof(int)));
  CUSOLVER_CHECK(D::getrf(h, kN, kN, d_a, kLda, d_work, d_ipiv, d_info));
  std::vector<int> info = FromDevice(d_info, 1, stream), ipiv = FromDevice(d_ipiv, kN, stream);
  CHECKF(info[0] == 0, "%s getrf: devInfo %d", D::kName, info[0]);
  for (int i = 0; i < kN; ++i) CHECKF(ipiv[i] >= i + 1 && ipiv[i] <= kN, "%s getrf: ipiv[%d] = %d", D::kName, i, ipiv[i]);
  sum.AddVector(ipiv);
  sum.AddVector(FromDevice(d_a, a.size(), stream));

  for (cublasOperation_t op : {CUBLAS_OP_N, CUBLAS_OP_T}) {
    std::vector<T> b = RandomRhs<T>(rng);
    T* d_b = ToDevice(b);
    CUSOLVER_CHECK(D::getrs(h, op, kN, kRhs, d_a, kLda, d_ipiv, d_b, kLdb, d_info));
    std::vector<T> x = FromDevice(d_b, b.size(), stream);
    CHECKF(FromDevice(d_info, 1, stream)[0] == 0, "%s getrs: devInfo", D::kName);
    double r = rtest::SolveResidual(kN, kRhs, a, kLda, op == CUBLAS_OP_T, x, b, kLdb);
    std::printf("LU %-6s op %d: relative residual %.3g (tolerance %.0g)\n", D::kName, int(op), r, D::kTolerance);
    CHECKF(r <= D::kTolerance, "%s getrs op %d: relative residual %g", D::kName, int(op), r);
    sum.AddVector(x);
    CUDA_CHECK(cudaFree(d_b));
  }

  // A zero column (the sixth): U's sixth pivot is zero, devInfo 6.
  std::vector<T> singular = a;
  for (int i = 0; i < kN; ++i) singular[i + 5 * kLda] = T(0);
  CUDA_CHECK(cudaMemcpy(d_a, singular.data(), singular.size() * sizeof(T), cudaMemcpyHostToDevice));
  CUSOLVER_CHECK(D::getrf(h, kN, kN, d_a, kLda, d_work, d_ipiv, d_info));
  info = FromDevice(d_info, 1, stream);
  CHECKF(info[0] == 6, "%s getrf of a matrix with a zero sixth column: devInfo %d, expected 6", D::kName, info[0]);
  sum.AddVector(info);
  for (void* p : {static_cast<void*>(d_a), static_cast<void*>(d_work), static_cast<void*>(d_ipiv),
                  static_cast<void*>(d_info)}) {
    CUDA_CHECK(cudaFree(p));
  }
}

template <class T>
void Cholesky(cusolverDnHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum) {
  using D = Dense<T>;
  // M^T M + n I: symmetric positive definite.
  std::vector<double> m(size_t(kN) * kN);
  for (double& x : m) x = rng.Float(-1.0f, 1.0f);
  std::vector<T> spd(size_t(kLda) * kN, T(0));
  for (int j = 0; j < kN; ++j) {
    for (int i = 0; i < kN; ++i) {
      double s = i == j ? kN : 0;
      for (int k = 0; k < kN; ++k) s += m[k + i * kN] * m[k + j * kN];
      spd[i + j * kLda] = T(s);
    }
  }
  int* d_info = nullptr;
  CUDA_CHECK(cudaMalloc(&d_info, sizeof(int)));
  for (cublasFillMode_t uplo : {CUBLAS_FILL_MODE_LOWER, CUBLAS_FILL_MODE_UPPER}) {
    T* d_a = ToDevice(spd);
    int lwork = -1;
    CUSOLVER_CHECK(D::potrf_bufferSize(h, uplo, kN, d_a, kLda, &lwork));
    CHECKF(lwork >= 0, "%s potrf_bufferSize: Lwork %d", D::kName, lwork);
    T* d_work = nullptr;
    CUDA_CHECK(cudaMalloc(&d_work, sizeof(T) * size_t(lwork > 0 ? lwork : 1)));
    CUSOLVER_CHECK(D::potrf(h, uplo, kN, d_a, kLda, d_work, lwork, d_info));
    CHECKF(FromDevice(d_info, 1, stream)[0] == 0, "%s potrf: devInfo", D::kName);
    std::vector<T> b = RandomRhs<T>(rng);
    T* d_b = ToDevice(b);
    CUSOLVER_CHECK(D::potrs(h, uplo, kN, kRhs, d_a, kLda, d_b, kLdb, d_info));
    std::vector<T> x = FromDevice(d_b, b.size(), stream);
    CHECKF(FromDevice(d_info, 1, stream)[0] == 0, "%s potrs: devInfo", D::kName);
    double r = rtest::SolveResidual(kN, kRhs, spd, kLda, false, x, b, kLdb);
    std::printf("Cholesky %-6s %s: relative residual %.3g (tolerance %.0g)\n", D::kName,
                uplo == CUBLAS_FILL_MODE_LOWER ? "lower" : "upper", r, D::kTolerance);
    CHECKF(r <= D::kTolerance, "%s potrs: relative residual %g", D::kName, r);
    sum.AddVector(x);

    // Not positive definite: the fourth diagonal element negative in a
    // diagonal matrix; the failing leading minor is the fourth.
    std::vector<T> indefinite(spd.size(), T(0));
    for (int i = 0; i < kN; ++i) indefinite[i + i * kLda] = T(i == 3 ? -1 : 2);
    CUDA_CHECK(cudaMemcpy(d_a, indefinite.data(), indefinite.size() * sizeof(T), cudaMemcpyHostToDevice));
    CUSOLVER_CHECK(D::potrf(h, uplo, kN, d_a, kLda, d_work, lwork, d_info));
    std::vector<int> info = FromDevice(d_info, 1, stream);
    CHECKF(info[0] == 4, "%s potrf of an indefinite matrix: devInfo %d, expected 4", D::kName, info[0]);
    sum.AddVector(info);
    CUDA_CHECK(cudaFree(d_a));
    CUDA_CHECK(cudaFree(d_work));
    CUDA_CHECK(cudaFree(d_b));
  }
  CUDA_CHECK(cudaFree(d_info));
}

void SessionChecks(cusolverDnHandle_t h) {
  rtest::RawLibraryCallFn call = rtest::PrivateLibraryCall();
  CHECKF(call != nullptr, "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  constexpr int n = 8;
  float *a = nullptr, *work = nullptr;
  int *ipiv = nullptr, *info = nullptr;
  CUDA_CHECK(cudaMalloc(&a, sizeof(float) * n * n));
  CUDA_CHECK(cudaMalloc(&ipiv, sizeof(int) * n));
  CUDA_CHECK(cudaMalloc(&info, sizeof(int)));
  int lwork = 0;
  CUSOLVER_CHECK(cusolverDnSgetrf_bufferSize(h, n, n, a, n, &lwork));
  CUDA_CHECK(cudaMalloc(&work, sizeof(float) * size_t(lwork > 0 ? lwork : 1)));
  std::vector<float> identity(n * n, 0.0f);
  for (int i = 0; i < n; ++i) identity[i + i * n] = 1.0f;
  CUDA_CHECK(cudaMemcpy(a, identity.data(), sizeof(float) * n * n, cudaMemcpyHostToDevice));
  const auto kInvalid = CUSOLVER_STATUS_INVALID_VALUE;
  // A matrix beyond its allocation (one more column), one that is no
  // allocation, and one whose size overflows 64 bits.
  CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, n + 1, a, n, work, ipiv, info), kInvalid);
  CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, n, reinterpret_cast<float*>(uintptr_t{0x1000}), n, work, ipiv, info),
                  kInvalid);
  CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, 0x7fffffff, a, 0x7fffffff, work, ipiv, info), kInvalid);
  // Pivots and info beyond their allocations: ipiv one element short, an
  // info that straddles the pivots' end.
  CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, n, a, n, work, ipiv + 1, info), kInvalid);
  int* straddling = reinterpret_cast<int*>(reinterpret_cast<char*>(ipiv) + sizeof(int) * n - 2);
  CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, n, a, n, work, ipiv, straddling), kInvalid);
  // A workspace shorter than getrf_bufferSize's answer (when it asks for any).
  if (lwork > 0) CUSOLVER_EXPECT(cusolverDnSgetrf(h, n, n, a, n, work + 1, ipiv, info), kInvalid);
  // potrf: a workspace beyond its allocation by its own Lwork.
  CUSOLVER_EXPECT(cusolverDnSpotrf(h, CUBLAS_FILL_MODE_LOWER, n, a, n, work, lwork + 1, info), kInvalid);
  // A made-up handle.
  auto fake = reinterpret_cast<cusolverDnHandle_t>(uintptr_t{0xdead});
  CUSOLVER_EXPECT(cusolverDnSetStream(fake, nullptr), kInvalid);
  CUSOLVER_EXPECT(cusolverDnDestroy(fake), kInvalid);
  // An unknown function id (wire id 4 is cuSOLVER).
  rtest::RawLibraryReply reply{};
  const int64_t values[1] = {static_cast<int64_t>(reinterpret_cast<uintptr_t>(h))};
  rtest::RawLibraryCall unknown{4, 100000, values, 1, nullptr, 0};
  CHECKF(call(&unknown, &reply) == 0 && reply.status == kInvalid, "unknown function: status %d", reply.status);
  // Still serving: the identity factors with no pivoting and info 0.
  CUSOLVER_CHECK(cusolverDnSgetrf(h, n, n, a, n, work, ipiv, info));
  int host_info = -1;
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaMemcpy(&host_info, info, sizeof host_info, cudaMemcpyDeviceToHost));
  CHECKF(host_info == 0, "after the refusals: devInfo %d", host_info);
  for (void* p : {static_cast<void*>(a), static_cast<void*>(work), static_cast<void*>(ipiv),
                  static_cast<void*>(info)}) {
    CUDA_CHECK(cudaFree(p));
  }
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("cusolver_solve");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;

  int version = 0;
  CUSOLVER_CHECK(cusolverGetVersion(&version));
  CHECKF(version / 1000 == CUSOLVER_VER_MAJOR, "cusolverGetVersion: %d", version);
  std::printf("cuSOLVER version %d\n", version);
  {
    // The library's properties (forwarded: the worker's library answers).
    int major = -1, patch = -1, ignored = 0;
    CUSOLVER_CHECK(cusolverGetProperty(MAJOR_VERSION, &major));
    CUSOLVER_CHECK(cusolverGetProperty(PATCH_LEVEL, &patch));
    CHECKF(major == CUSOLVER_VER_MAJOR && patch >= 0, "cusolverGetProperty: major %d, patch %d", major, patch);
    CUSOLVER_EXPECT(cusolverGetProperty(static_cast<libraryPropertyType>(9), &ignored), CUSOLVER_STATUS_INVALID_VALUE);
  }

  cudaStream_t stream = nullptr, got = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cusolverDnHandle_t h = nullptr;
  CUSOLVER_CHECK(cusolverDnCreate(&h));
  CUSOLVER_CHECK(cusolverDnSetStream(h, stream));
  CUSOLVER_CHECK(cusolverDnGetStream(h, &got));
  CHECKF(got == stream, "cusolverDnGetStream: %p, set %p", static_cast<void*>(got), static_cast<void*>(stream));

  Lu<float>(h, stream, rng, sum);
  Lu<double>(h, stream, rng, sum);
  Cholesky<float>(h, stream, rng, sum);
  Cholesky<double>(h, stream, rng, sum);

  if (session_checks) SessionChecks(h);

  CUSOLVER_CHECK(cusolverDnDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
