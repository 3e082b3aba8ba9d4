// TEST EQUIPMENT: a host libcublas.so.13 for rcuda-server's test backend
// (README.md). It implements exactly the functions rcuda forwards
// (client/libs/cublas.def), on the fake driver's "device" memory, which is
// host memory of the worker process (tests/fake_driver). Nothing it computes
// or times says anything about a GPU or about NVIDIA's cuBLAS.
//
// Stream order: each call queues an empty host function on its stream and
// waits for it (the fake driver's cuLaunchHostFunc and cuStreamSynchronize),
// then computes on the calling thread, so it runs after the stream's earlier
// work (and the legacy stream's, on a blocking stream) and before anything
// queued after it returns. Not asynchronous, unlike cuBLAS.
#include <cublas_api.h>
#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas.h"

namespace {

// One element of a typed matrix, as a double; the double knows the real
// types of half, single and double precision (the others answer
// CUBLAS_STATUS_NOT_SUPPORTED, a limit of this test double, not of cuBLAS).
bool KnownType(cudaDataType t) { return t == CUDA_R_16F || t == CUDA_R_32F || t == CUDA_R_64F; }

double Load(cudaDataType t, const void* base, long long i) {
  switch (t) {
    case CUDA_R_16F: return __half2float(static_cast<const __half*>(base)[i]);
    case CUDA_R_32F: return static_cast<const float*>(base)[i];
    default: return static_cast<const double*>(base)[i];
  }
}

void Store(cudaDataType t, void* base, long long i, double v) {
  switch (t) {
    case CUDA_R_16F: static_cast<__half*>(base)[i] = __float2half(static_cast<float>(v)); break;
    case CUDA_R_32F: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    default: static_cast<double*>(base)[i] = v; break;
  }
}

// The scale type of a compute type (real C only): half, float or double.
bool ScaleType(cublasComputeType_t compute, cudaDataType* scale) {
  switch (compute) {
    case CUBLAS_COMPUTE_16F: case CUBLAS_COMPUTE_16F_PEDANTIC: *scale = CUDA_R_16F; return true;
    case CUBLAS_COMPUTE_32F: case CUBLAS_COMPUTE_32F_PEDANTIC: case CUBLAS_COMPUTE_32F_FAST_16F:
    case CUBLAS_COMPUTE_32F_FAST_16BF: case CUBLAS_COMPUTE_32F_FAST_TF32: *scale = CUDA_R_32F; return true;
    case CUBLAS_COMPUTE_64F: case CUBLAS_COMPUTE_64F_PEDANTIC: *scale = CUDA_R_64F; return true;
    default: return false;
  }
}

// C_b = alpha op(A_b) op(B_b) + beta C_b for each batch b, the matrices
// given by their base pointers, summed in double.
cublasStatus_t GemmTyped(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                         const void* alpha_p, const void* const* As, cudaDataType at, int lda, const void* const* Bs,
                         cudaDataType bt, int ldb, const void* beta_p, void* const* Cs, cudaDataType ct, int ldc,
                         int batch, cublasComputeType_t compute) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  cudaDataType scale;
  if (!KnownType(at) || !KnownType(bt) || !KnownType(ct) || !ScaleType(compute, &scale)) {
    kDouble.Log("GEMM Ex: types %d %d %d, compute %d: not modelled by this double", at, bt, ct, compute);
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  if (!ValidOp(ta) || !ValidOp(tb) || m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  int a_rows = Transposed(ta) ? k : m, b_rows = Transposed(tb) ? n : k;
  if (lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (alpha_p == nullptr || beta_p == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  cublasStatus_t s = WaitForStream(h);
  if (s != CUBLAS_STATUS_SUCCESS) return s;
  const double alpha = Load(scale, alpha_p, 0), beta = Load(scale, beta_p, 0);
  for (int b = 0; b < batch; ++b) {
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        double sum = 0;
        for (int p = 0; p < k; ++p) {
          sum += Load(at, As[b], Transposed(ta) ? p + i * static_cast<long long>(lda) : i + p * static_cast<long long>(lda)) *
                 Load(bt, Bs[b], Transposed(tb) ? j + p * static_cast<long long>(ldb) : p + j * static_cast<long long>(ldb));
        }
        const long long at_c = i + j * static_cast<long long>(ldc);
        Store(ct, Cs[b], at_c, beta == 0 ? alpha * sum : alpha * sum + beta * Load(ct, Cs[b], at_c));
      }
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}

// The bases of a strided batch.
std::vector<void*> Strided(const void* base, cudaDataType t, long long stride, int batch) {
  const size_t bytes = t == CUDA_R_16F ? 2 : t == CUDA_R_32F ? 4 : 8;
  std::vector<void*> bases(std::max(batch, 0));
  for (int b = 0; b < batch; ++b) {
    bases[b] = const_cast<char*>(static_cast<const char*>(base)) + static_cast<long long>(bytes) * stride * b;
  }
  return bases;
}


// The strided GEMMs (and the single ones: one batch) through GemmTyped.
cublasStatus_t StridedGemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const void* alpha, const void* A, cudaDataType type, int lda, long long sa, const void* B,
                           int ldb, long long sb, const void* beta, void* C, int ldc, long long sc, int batch,
                           cublasComputeType_t compute) {
  if (!KnownType(type)) return CUBLAS_STATUS_NOT_SUPPORTED;
  std::vector<void*> as = Strided(A, type, sa, batch), bs = Strided(B, type, sb, batch), cs = Strided(C, type, sc, batch);
  return GemmTyped(h, ta, tb, m, n, k, alpha, as.data(), type, lda, bs.data(), type, ldb, beta, cs.data(), type, ldc,
                   batch, compute);
}


}  // namespace

FAKE_EXPORT cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (!DriverReached()) return CUBLAS_STATUS_NOT_INITIALIZED;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (version == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  kDouble.Log("cublasGetVersion: answering the headers' %d (a test double's)", CUBLAS_VERSION);
  *version = CUBLAS_VERSION;
  return CUBLAS_STATUS_SUCCESS;
}

// The headers' version, as the real library answers its own; an unknown
// property is CUBLAS_STATUS_INVALID_VALUE (as the real library answers, measured).
FAKE_EXPORT cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value) {
  kDouble.Log("cublasGetProperty: answering the headers' version (a test double's)");
  return rcuda::fake_libs::VersionProperty(type, value, CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH,
                                           CUBLAS_STATUS_SUCCESS, CUBLAS_STATUS_INVALID_VALUE);
}

FAKE_EXPORT cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (stream == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE) return CUBLAS_STATUS_INVALID_VALUE;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t* mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t bytes) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (workspace == nullptr && bytes != 0) return CUBLAS_STATUS_INVALID_VALUE;
  handle->workspace = workspace;  // the host loops need none
  handle->workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

FAKE_EXPORT cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                                          const float* beta, float* C, int ldc) {
  return StridedGemm(h, ta, tb, m, n, k, alpha, A, CUDA_R_32F, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, CUBLAS_COMPUTE_32F);
}

FAKE_EXPORT cublasStatus_t cublasDgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const double* alpha, const double* A, int lda, const double* B,
                                          int ldb, const double* beta, double* C, int ldc) {
  return StridedGemm(h, ta, tb, m, n, k, alpha, A, CUDA_R_64F, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, CUBLAS_COMPUTE_64F);
}

// Half precision (summed in double by this double).
FAKE_EXPORT cublasStatus_t cublasHgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                       int k, const __half* alpha, const __half* A, int lda, const __half* B, int ldb,
                                       const __half* beta, __half* C, int ldc) {
  return StridedGemm(h, ta, tb, m, n, k, alpha, A, CUDA_R_16F, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, CUBLAS_COMPUTE_16F);
}

FAKE_EXPORT cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                     int m, int n, int k, const float* alpha, const float* A, int lda,
                                                     long long sa, const float* B, int ldb, long long sb,
                                                     const float* beta, float* C, int ldc, long long sc, int batch) {
  return StridedGemm(h, ta, tb, m, n, k, alpha, A, CUDA_R_32F, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch,
                     CUBLAS_COMPUTE_32F);
}

FAKE_EXPORT cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                     int m, int n, int k, const double* alpha, const double* A,
                                                     int lda, long long sa, const double* B, int ldb, long long sb,
                                                     const double* beta, double* C, int ldc, long long sc,
                                                     int batch) {
  return StridedGemm(h, ta, tb, m, n, k, alpha, A, CUDA_R_64F, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch,
                     CUBLAS_COMPUTE_64F);
}

// ---- Levels 1, 2 and 3 beyond GEMM -----------------------------------------

namespace {

template <class T>
cublasStatus_t Axpy(cublasHandle_t h, int n, const T* alpha, const T* x, int incx, T* y, int incy) {
  if (h != nullptr && alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (h != nullptr && n <= 0) return CUBLAS_STATUS_SUCCESS;
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) y[At(i, n, incy)] += *alpha * x[At(i, n, incx)];
  });
}

template <class T>
cublasStatus_t Scal(cublasHandle_t h, int n, const T* alpha, T* x, int incx) {
  if (h != nullptr && alpha == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  if (h != nullptr && (n <= 0 || incx <= 0)) return CUBLAS_STATUS_SUCCESS;
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) x[static_cast<long long>(i) * incx] *= *alpha;
  });
}

template <class T>
cublasStatus_t Dot(cublasHandle_t h, int n, const T* x, int incx, const T* y, int incy, T* result) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += static_cast<double>(x[At(i, n, incx)]) * y[At(i, n, incy)];
    *result = static_cast<T>(sum);
  });
}

// Nrm2 (sum of squares, then its root) and Asum (sum of magnitudes).
template <class T>
cublasStatus_t Reduce(cublasHandle_t h, int n, const T* x, int incx, T* result, bool norm) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    double sum = 0;
    for (int i = 0; incx > 0 && i < n; ++i) {
      const double v = x[static_cast<long long>(i) * incx];
      sum += norm ? v * v : std::fabs(v);
    }
    *result = static_cast<T>(norm ? std::sqrt(sum) : sum);
  });
}

// Copy (y = x) or swap (x <-> y).
template <class T>
cublasStatus_t Move(cublasHandle_t h, int n, T* x, int incx, T* y, int incy, bool swap) {
  return OnStream(h, [&] {
    for (int i = 0; i < n; ++i) {
      T& a = x[At(i, n, incx)];
      T& b = y[At(i, n, incy)];
      if (swap) std::swap(a, b);
      else b = a;
    }
  });
}

// y = alpha op(A) x + beta y; A m x n, column-major.
template <class T>
cublasStatus_t Gemv(cublasHandle_t h, cublasOperation_t trans, int m, int n, const T* alpha, const T* A, int lda,
                    const T* x, int incx, const T* beta, T* y, int incy) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(trans) || m < 0 || n < 0 || lda < std::max(1, m) || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool t = Transposed(trans);
  const int rows = t ? n : m, cols = t ? m : n;  // of op(A)
  return OnStream(h, [&] {
    for (int i = 0; i < rows; ++i) {
      double sum = 0;
      for (int j = 0; j < cols; ++j) {
        const T a = t ? A[j + static_cast<long long>(i) * lda] : A[i + static_cast<long long>(j) * lda];
        sum += static_cast<double>(a) * x[At(j, cols, incx)];
      }
      T& out = y[At(i, rows, incy)];
      out = static_cast<T>(*beta == T(0) ? *alpha * sum : *alpha * sum + *beta * static_cast<double>(out));
    }
  });
}

// Solves op(A) X = alpha B (side left) or X op(A) = alpha B (right) in
// place of B; A triangular (uplo), its diagonal unit or not (diag).
template <class T>
cublasStatus_t Trsm(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
                    cublasDiagType_t diag, int m, int n, const T* alpha, const T* A, int lda, T* B, int ldb) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool left = side == CUBLAS_SIDE_LEFT;
  const int k = left ? m : n;
  if (!ValidOp(trans) || m < 0 || n < 0 || lda < std::max(1, k) || ldb < std::max(1, m) || !alpha)
    return CUBLAS_STATUS_INVALID_VALUE;
  // op(A)[r][c], the triangle only.
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER, t = Transposed(trans);
  auto op = [&](int r, int c) -> double {
    const int rr = t ? c : r, cc = t ? r : c;
    if (rr == cc && diag == CUBLAS_DIAG_UNIT) return 1.0;
    if (lower ? rr < cc : rr > cc) return 0.0;
    return A[rr + static_cast<long long>(cc) * lda];
  };
  const bool op_lower = lower != t;  // the triangle of op(A)
  return OnStream(h, [&] {
    std::vector<double> v(k);
    // Each right-hand side is a column (left) or a row (right) of B.
    for (int r = 0; r < (left ? n : m); ++r) {
      auto b = [&](int i) -> T& { return left ? B[i + static_cast<long long>(r) * ldb] : B[r + static_cast<long long>(i) * ldb]; };
      for (int i = 0; i < k; ++i) v[i] = *alpha * static_cast<double>(b(i));
      // left: op(A) x = v; right: x op(A) = v, i.e. op(A)^T x = v.
      const bool forward = left ? op_lower : !op_lower;
      for (int step = 0; step < k; ++step) {
        const int i = forward ? step : k - 1 - step;
        double sum = v[i];
        for (int j = 0; j < k; ++j) {
          if (j == i || (forward ? j > i : j < i)) continue;
          sum -= (left ? op(i, j) : op(j, i)) * static_cast<double>(b(j));
        }
        b(i) = static_cast<T>(sum / op(i, i));
      }
    }
  });
}

// C = alpha op(A) + beta op(B), m x n.
template <class T>
cublasStatus_t Geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, const T* alpha,
                    const T* A, int lda, const T* beta, const T* B, int ldb, T* C, int ldc) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ValidOp(ta) || !ValidOp(tb) || m < 0 || n < 0 || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        const double a = Transposed(ta) ? A[j + static_cast<long long>(i) * lda] : A[i + static_cast<long long>(j) * lda];
        const double b = Transposed(tb) ? B[j + static_cast<long long>(i) * ldb] : B[i + static_cast<long long>(j) * ldb];
        C[i + static_cast<long long>(j) * ldc] = static_cast<T>(*alpha * a + *beta * b);
      }
  });
}

}  // namespace

#define FAKE_LEVEL1(T, S, D)                                                                                      \
  FAKE_EXPORT cublasStatus_t cublas##S##axpy_v2(cublasHandle_t h, int n, const T* a, const T* x, int incx, T* y,   \
                                               int incy) {                                                        \
    return Axpy(h, n, a, x, incx, y, incy);                                                                       \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##scal_v2(cublasHandle_t h, int n, const T* a, T* x, int incx) {            \
    return Scal(h, n, a, x, incx);                                                                                \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##dot_v2(cublasHandle_t h, int n, const T* x, int incx, const T* y, int incy, \
                                              T* r) {                                                             \
    return Dot(h, n, x, incx, y, incy, r);                                                                        \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##nrm2_v2(cublasHandle_t h, int n, const T* x, int incx, T* r) {            \
    return Reduce(h, n, x, incx, r, /*norm=*/true);                                                               \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##copy_v2(cublasHandle_t h, int n, const T* x, int incx, T* y, int incy) {  \
    return Move(h, n, const_cast<T*>(x), incx, y, incy, /*swap=*/false);                                          \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##gemv_v2(cublasHandle_t h, cublasOperation_t t, int m, int n, const T* a,  \
                                               const T* A, int lda, const T* x, int incx, const T* b, T* y,      \
                                               int incy) {                                                        \
    return Gemv(h, t, m, n, a, A, lda, x, incx, b, y, incy);                                                      \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##trsm_v2(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo,   \
                                               cublasOperation_t t, cublasDiagType_t diag, int m, int n,         \
                                               const T* a, const T* A, int lda, T* B, int ldb) {                  \
    return Trsm(h, side, uplo, t, diag, m, n, a, A, lda, B, ldb);                                                 \
  }                                                                                                               \
  FAKE_EXPORT cublasStatus_t cublas##S##geam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,  \
                                            int n, const T* a, const T* A, int lda, const T* b, const T* B,      \
                                            int ldb, T* C, int ldc) {                                             \
    return Geam(h, ta, tb, m, n, a, A, lda, b, B, ldb, C, ldc);                                                   \
  }

FAKE_LEVEL1(float, S, 4)
FAKE_LEVEL1(double, D, 8)

// The batched TRSM and GEMV: the single ones on each batch's operands.
#define FAKE_BATCHED(T, S)                                                                                         \
  FAKE_EXPORT cublasStatus_t cublas##S##trsmBatched(cublasHandle_t h, cublasSideMode_t side, cublasFillMode_t uplo, \
                                                   cublasOperation_t t, cublasDiagType_t diag, int m, int n,       \
                                                   const T* a, const T* const A[], int lda, T* const B[], int ldb, \
                                                   int batch) {                                                    \
    if (batch < 0) return CUBLAS_STATUS_INVALID_VALUE;                                                             \
    for (int b = 0; b < batch; ++b) {                                                                              \
      cublasStatus_t s = Trsm(h, side, uplo, t, diag, m, n, a, A[b], lda, B[b], ldb);                              \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                    \
    }                                                                                                              \
    return CUBLAS_STATUS_SUCCESS;                                                                                  \
  }                                                                                                                \
  FAKE_EXPORT cublasStatus_t cublas##S##gemvBatched(cublasHandle_t h, cublasOperation_t t, int m, int n,          \
                                                   const T* a, const T* const A[], int lda, const T* const x[],    \
                                                   int incx, const T* b, T* const y[], int incy, int batch) {      \
    if (batch < 0) return CUBLAS_STATUS_INVALID_VALUE;                                                             \
    for (int q = 0; q < batch; ++q) {                                                                              \
      cublasStatus_t s = Gemv(h, t, m, n, a, A[q], lda, x[q], incx, b, y[q], incy);                                \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                    \
    }                                                                                                              \
    return CUBLAS_STATUS_SUCCESS;                                                                                  \
  }                                                                                                                \
  FAKE_EXPORT cublasStatus_t cublas##S##gemvStridedBatched(                                                        \
      cublasHandle_t h, cublasOperation_t t, int m, int n, const T* a, const T* A, int lda, long long sa,          \
      const T* x, int incx, long long sx, const T* b, T* y, int incy, long long sy, int batch) {                   \
    if (batch < 0) return CUBLAS_STATUS_INVALID_VALUE;                                                             \
    for (int q = 0; q < batch; ++q) {                                                                              \
      cublasStatus_t s = Gemv(h, t, m, n, a, A + sa * q, lda, x + sx * q, incx, b, y + sy * q, incy);              \
      if (s != CUBLAS_STATUS_SUCCESS) return s;                                                                    \
    }                                                                                                              \
    return CUBLAS_STATUS_SUCCESS;                                                                                  \
  }

FAKE_BATCHED(float, S)
FAKE_BATCHED(double, D)

FAKE_EXPORT cublasStatus_t cublasSswap_v2(cublasHandle_t h, int n, float* x, int incx, float* y, int incy) {
  return Move(h, n, x, incx, y, incy, /*swap=*/true);
}

FAKE_EXPORT cublasStatus_t cublasSasum_v2(cublasHandle_t h, int n, const float* x, int incx, float* result) {
  return Reduce(h, n, x, incx, result, /*norm=*/false);
}

FAKE_EXPORT cublasStatus_t cublasDswap_v2(cublasHandle_t h, int n, double* x, int incx, double* y, int incy) {
  return Move(h, n, x, incx, y, incy, /*swap=*/true);
}

FAKE_EXPORT cublasStatus_t cublasDasum_v2(cublasHandle_t h, int n, const double* x, int incx, double* result) {
  return Reduce(h, n, x, incx, result, /*norm=*/false);
}

// The 1-based index of the first element of largest magnitude (0 for n <= 0).
FAKE_EXPORT cublasStatus_t cublasIsamax_v2(cublasHandle_t h, int n, const float* x, int incx, int* result) {
  if (h != nullptr && result == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  return OnStream(h, [&] {
    int best = 0;
    for (int i = 0; incx > 0 && i < n; ++i) {
      if (best == 0 || std::fabs(x[static_cast<long long>(i) * incx]) > std::fabs(x[static_cast<long long>(best - 1) * incx]))
        best = i + 1;
    }
    *result = best;
  });
}

// ---- The Ex GEMMs and the batched ones --------------------------------------


FAKE_EXPORT cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                        int k, const void* alpha, const void* A, cudaDataType Atype, int lda,
                                        const void* B, cudaDataType Btype, int ldb, const void* beta, void* C,
                                        cudaDataType Ctype, int ldc, cublasComputeType_t compute, cublasGemmAlgo_t) {
  return GemmTyped(h, ta, tb, m, n, k, alpha, &A, Atype, lda, &B, Btype, ldb, beta, &C, Ctype, ldc, 1, compute);
}

FAKE_EXPORT cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                      int m, int n, int k, const void* alpha, const void* A,
                                                      cudaDataType Atype, int lda, long long sa, const void* B,
                                                      cudaDataType Btype, int ldb, long long sb, const void* beta,
                                                      void* C, cudaDataType Ctype, int ldc, long long sc, int batch,
                                                      cublasComputeType_t compute, cublasGemmAlgo_t) {
  if (!KnownType(Atype) || !KnownType(Btype) || !KnownType(Ctype)) return CUBLAS_STATUS_NOT_SUPPORTED;
  std::vector<void*> as = Strided(A, Atype, sa, batch), bs = Strided(B, Btype, sb, batch),
                     cs = Strided(C, Ctype, sc, batch);
  return GemmTyped(h, ta, tb, m, n, k, alpha, as.data(), Atype, lda, bs.data(), Btype, ldb, beta, cs.data(), Ctype,
                   ldc, batch, compute);
}

FAKE_EXPORT cublasStatus_t cublasGemmBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                               int n, int k, const void* alpha, const void* const Aarray[],
                                               cudaDataType Atype, int lda, const void* const Barray[],
                                               cudaDataType Btype, int ldb, const void* beta, void* const Carray[],
                                               cudaDataType Ctype, int ldc, int batch, cublasComputeType_t compute,
                                               cublasGemmAlgo_t) {
  return GemmTyped(h, ta, tb, m, n, k, alpha, Aarray, Atype, lda, Barray, Btype, ldb, beta, Carray, Ctype, ldc, batch,
                   compute);
}

FAKE_EXPORT cublasStatus_t cublasSgemmBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                              int n, int k, const float* alpha, const float* const Aarray[], int lda,
                                              const float* const Barray[], int ldb, const float* beta,
                                              float* const Carray[], int ldc, int batch) {
  return GemmTyped(h, ta, tb, m, n, k, alpha, reinterpret_cast<const void* const*>(Aarray), CUDA_R_32F, lda,
                   reinterpret_cast<const void* const*>(Barray), CUDA_R_32F, ldb, beta,
                   reinterpret_cast<void* const*>(Carray), CUDA_R_32F, ldc, batch, CUBLAS_COMPUTE_32F);
}

FAKE_EXPORT cublasStatus_t cublasDgemmBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                              int n, int k, const double* alpha, const double* const Aarray[],
                                              int lda, const double* const Barray[], int ldb, const double* beta,
                                              double* const Carray[], int ldc, int batch) {
  return GemmTyped(h, ta, tb, m, n, k, alpha, reinterpret_cast<const void* const*>(Aarray), CUDA_R_64F, lda,
                   reinterpret_cast<const void* const*>(Barray), CUDA_R_64F, ldb, beta,
                   reinterpret_cast<void* const*>(Carray), CUDA_R_64F, ldc, batch, CUBLAS_COMPUTE_64F);
}
