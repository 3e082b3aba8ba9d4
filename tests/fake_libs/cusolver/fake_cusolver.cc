// TEST EQUIPMENT: a host libcusolver.so.12 for rcuda-server's test backend
// (README.md). It implements exactly the functions rcuda forwards
// (client/libs/cusolver.def), LU and Cholesky by the textbook algorithms on
// the fake driver's "device" memory, which is host memory of the worker
// process (tests/fake_driver). Nothing it computes or times says anything
// about a GPU or about NVIDIA's cuSOLVER.
//
// Stream order (tests/fake_libs/driver_streams.h): each call that touches
// memory queues an empty host function on the handle's stream and waits for
// it, then computes on the calling thread. Not asynchronous, unlike cuSOLVER.
#include <cuda.h>
#include <cusolverDn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "tests/fake_libs/cusolver/fake_cusolver.h"

namespace {

// A = L L^T (lower) or U^T U (upper), in place; info = the order of the
// first leading minor that is not positive definite, 0 if none.
template <class T>
cusolverStatus_t Potrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, T* A, int lda, T* work, int lwork,
                       int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!ValidFill(uplo) || n < 0 || lda < std::max(1, n) || info == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  if (n > 0 && (work == nullptr || lwork < WorkElements(n))) return CUSOLVER_STATUS_INVALID_VALUE;
  cusolverStatus_t s = WaitForStream(h);
  if (s != CUSOLVER_STATUS_SUCCESS) return s;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  // The stored triangle's (i, j), i >= j, as the lower one's.
  auto L = [&](int i, int j) -> T& { return lower ? At(A, lda, i, j) : At(A, lda, j, i); };
  *info = 0;
  for (int j = 0; j < n; ++j) {
    T d = L(j, j);
    for (int k = 0; k < j; ++k) d -= L(j, k) * L(j, k);
    if (!(d > T(0))) {
      *info = j + 1;
      return CUSOLVER_STATUS_SUCCESS;
    }
    d = std::sqrt(d);
    L(j, j) = d;
    for (int i = j + 1; i < n; ++i) {
      T x = L(i, j);
      for (int k = 0; k < j; ++k) x -= L(i, k) * L(j, k);
      L(i, j) = x / d;
    }
  }
  return CUSOLVER_STATUS_SUCCESS;
}

// Solves A X = B with A's Cholesky factor from Potrf.
template <class T>
cusolverStatus_t Potrs(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, int nrhs, const T* A, int lda, T* B,
                       int ldb, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (info == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  int bad = !ValidFill(uplo) ? 1 : n < 0 ? 2 : nrhs < 0 ? 3 : lda < std::max(1, n) ? 5 : ldb < std::max(1, n) ? 7 : 0;
  cusolverStatus_t s = WaitForStream(h);
  if (s != CUSOLVER_STATUS_SUCCESS) return s;
  *info = -bad;
  if (bad) return CUSOLVER_STATUS_INVALID_VALUE;
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  auto L = [&](int i, int j) { return lower ? At(A, lda, i, j) : At(A, lda, j, i); };
  for (int c = 0; c < nrhs; ++c) {
    T* b = B + static_cast<long long>(c) * ldb;
    for (int i = 0; i < n; ++i) {  // L y = b
      T x = b[i];
      for (int k = 0; k < i; ++k) x -= L(i, k) * b[k];
      b[i] = x / L(i, i);
    }
    for (int i = n - 1; i >= 0; --i) {  // L^T x = y
      T x = b[i];
      for (int k = i + 1; k < n; ++k) x -= L(k, i) * b[k];
      b[i] = x / L(i, i);
    }
  }
  return CUSOLVER_STATUS_SUCCESS;
}

// P A = L U with partial pivoting, in place (LAPACK's getrf): ipiv[i] is the
// 1-based row swapped with row i; info = the first zero pivot, 0 if none.
template <class T, class Pivot>
cusolverStatus_t Getrf(cusolverDnHandle_t h, int m, int n, T* A, int lda, T* work, Pivot* ipiv, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || lda < std::max(1, m) || info == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  if (m > 0 && n > 0 && work == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  cusolverStatus_t s = WaitForStream(h);
  if (s != CUSOLVER_STATUS_SUCCESS) return s;
  *info = 0;
  for (int j = 0; j < std::min(m, n); ++j) {
    int p = j;
    for (int i = j + 1; i < m; ++i) {
      if (std::fabs(At(A, lda, i, j)) > std::fabs(At(A, lda, p, j))) p = i;
    }
    if (ipiv != nullptr) ipiv[j] = static_cast<Pivot>(p + 1);
    if (At(A, lda, p, j) == T(0)) {
      if (*info == 0) *info = j + 1;
      continue;
    }
    if (p != j) {
      for (int k = 0; k < n; ++k) std::swap(At(A, lda, j, k), At(A, lda, p, k));
    }
    for (int i = j + 1; i < m; ++i) {
      At(A, lda, i, j) /= At(A, lda, j, j);
      for (int k = j + 1; k < n; ++k) At(A, lda, i, k) -= At(A, lda, i, j) * At(A, lda, j, k);
    }
  }
  return CUSOLVER_STATUS_SUCCESS;
}

// Solves op(A) X = B with A's LU factors and pivots from Getrf.
template <class T, class Pivot>
cusolverStatus_t Getrs(cusolverDnHandle_t h, cublasOperation_t trans, int n, int nrhs, const T* A, int lda,
                       const Pivot* ipiv, T* B, int ldb, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (info == nullptr || ipiv == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  const bool valid_op = trans == CUBLAS_OP_N || trans == CUBLAS_OP_T || trans == CUBLAS_OP_C;
  int bad = !valid_op ? 1 : n < 0 ? 2 : nrhs < 0 ? 3 : lda < std::max(1, n) ? 5 : ldb < std::max(1, n) ? 8 : 0;
  cusolverStatus_t s = WaitForStream(h);
  if (s != CUSOLVER_STATUS_SUCCESS) return s;
  *info = -bad;
  if (bad) return CUSOLVER_STATUS_INVALID_VALUE;
  for (int i = 0; i < n; ++i) {
    if (ipiv[i] < 1 || ipiv[i] > n) {
      *info = -7;
      return CUSOLVER_STATUS_INVALID_VALUE;
    }
  }
  for (int c = 0; c < nrhs; ++c) {
    T* b = B + static_cast<long long>(c) * ldb;
    if (trans == CUBLAS_OP_N) {
      for (int i = 0; i < n; ++i) std::swap(b[i], b[ipiv[i] - 1]);
      for (int i = 0; i < n; ++i) {  // L (unit diagonal)
        for (int k = 0; k < i; ++k) b[i] -= At(A, lda, i, k) * b[k];
      }
      for (int i = n - 1; i >= 0; --i) {  // U
        for (int k = i + 1; k < n; ++k) b[i] -= At(A, lda, i, k) * b[k];
        b[i] /= At(A, lda, i, i);
      }
    } else {  // A^T = U^T L^T P
      for (int i = 0; i < n; ++i) {  // U^T
        for (int k = 0; k < i; ++k) b[i] -= At(A, lda, k, i) * b[k];
        b[i] /= At(A, lda, i, i);
      }
      for (int i = n - 1; i >= 0; --i) {  // L^T
        for (int k = i + 1; k < n; ++k) b[i] -= At(A, lda, k, i) * b[k];
      }
      for (int i = n - 1; i >= 0; --i) std::swap(b[i], b[ipiv[i] - 1]);
    }
  }
  return CUSOLVER_STATUS_SUCCESS;
}


}  // namespace

FAKE_EXPORT cusolverStatus_t cusolverGetVersion(int* version) {
  if (version == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  kDouble.Log("cusolverGetVersion: %d, the headers' version; this is a test double", CUSOLVER_VERSION);
  *version = CUSOLVER_VERSION;
  return CUSOLVER_STATUS_SUCCESS;
}

// The headers' version, as the real library answers its own; an unknown
// property is CUSOLVER_STATUS_INVALID_VALUE (as the real library answers, measured).
FAKE_EXPORT cusolverStatus_t cusolverGetProperty(libraryPropertyType type, int* value) {
  kDouble.Log("cusolverGetProperty: answering the headers' version (a test double's)");
  return rcuda::fake_libs::VersionProperty(type, value, CUSOLVER_VER_MAJOR, CUSOLVER_VER_MINOR, CUSOLVER_VER_PATCH,
                                           CUSOLVER_STATUS_SUCCESS, CUSOLVER_STATUS_INVALID_VALUE);
}

FAKE_EXPORT cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* handle) {
  if (handle == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  DriverReached();  // announces the double
  *handle = new cusolverDnContext;
  return CUSOLVER_STATUS_SUCCESS;
}

FAKE_EXPORT cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle) {
  if (handle == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUSOLVER_STATUS_SUCCESS;
}

FAKE_EXPORT cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUSOLVER_STATUS_SUCCESS;
}

FAKE_EXPORT cusolverStatus_t cusolverDnGetStream(cusolverDnHandle_t handle, cudaStream_t* stream) {
  if (handle == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (stream == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUSOLVER_STATUS_SUCCESS;
}

FAKE_EXPORT cusolverStatus_t cusolverDnSpotrf_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, float*,
                                                         int lda, int* lwork) {
  return ValidFill(uplo) ? Query(h, n, n, lda, lwork) : CUSOLVER_STATUS_INVALID_VALUE;
}
FAKE_EXPORT cusolverStatus_t cusolverDnDpotrf_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double*,
                                                         int lda, int* lwork) {
  return ValidFill(uplo) ? Query(h, n, n, lda, lwork) : CUSOLVER_STATUS_INVALID_VALUE;
}
FAKE_EXPORT cusolverStatus_t cusolverDnSpotrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, float* A, int lda,
                                              float* work, int lwork, int* info) {
  return Potrf(h, uplo, n, A, lda, work, lwork, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnDpotrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A, int lda,
                                              double* work, int lwork, int* info) {
  return Potrf(h, uplo, n, A, lda, work, lwork, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnSpotrs(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, int nrhs,
                                              const float* A, int lda, float* B, int ldb, int* info) {
  return Potrs(h, uplo, n, nrhs, A, lda, B, ldb, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnDpotrs(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, int nrhs,
                                              const double* A, int lda, double* B, int ldb, int* info) {
  return Potrs(h, uplo, n, nrhs, A, lda, B, ldb, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnSgetrf_bufferSize(cusolverDnHandle_t h, int m, int n, float*, int lda,
                                                         int* lwork) {
  return Query(h, m, n, lda, lwork);
}
FAKE_EXPORT cusolverStatus_t cusolverDnDgetrf_bufferSize(cusolverDnHandle_t h, int m, int n, double*, int lda,
                                                         int* lwork) {
  return Query(h, m, n, lda, lwork);
}
FAKE_EXPORT cusolverStatus_t cusolverDnSgetrf(cusolverDnHandle_t h, int m, int n, float* A, int lda, float* work,
                                              int* ipiv, int* info) {
  return Getrf(h, m, n, A, lda, work, ipiv, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnDgetrf(cusolverDnHandle_t h, int m, int n, double* A, int lda, double* work,
                                              int* ipiv, int* info) {
  return Getrf(h, m, n, A, lda, work, ipiv, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnSgetrs(cusolverDnHandle_t h, cublasOperation_t trans, int n, int nrhs,
                                              const float* A, int lda, const int* ipiv, float* B, int ldb, int* info) {
  return Getrs(h, trans, n, nrhs, A, lda, ipiv, B, ldb, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnDgetrs(cusolverDnHandle_t h, cublasOperation_t trans, int n, int nrhs,
                                              const double* A, int lda, const int* ipiv, double* B, int ldb,
                                              int* info) {
  return Getrs(h, trans, n, nrhs, A, lda, ipiv, B, ldb, info);
}

// ---- The 64-bit generic API (cusolverDnX*): R_32F and R_64F ------------------

struct cusolverDnParams {
  int algo = 0;  // SetAdvOptions' algorithm, recorded and otherwise unused
};


FAKE_EXPORT cusolverStatus_t cusolverDnCreateParams(cusolverDnParams_t* params) {
  if (params == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  *params = new cusolverDnParams;
  return CUSOLVER_STATUS_SUCCESS;
}
FAKE_EXPORT cusolverStatus_t cusolverDnDestroyParams(cusolverDnParams_t params) {
  if (params == nullptr) return CUSOLVER_STATUS_INVALID_VALUE;
  delete params;
  return CUSOLVER_STATUS_SUCCESS;
}
FAKE_EXPORT cusolverStatus_t cusolverDnSetAdvOptions(cusolverDnParams_t params, cusolverDnFunction_t function,
                                                     cusolverAlgMode_t algo) {
  if (params == nullptr || function != CUSOLVERDN_GETRF || (algo != CUSOLVER_ALG_0 && algo != CUSOLVER_ALG_1))
    return CUSOLVER_STATUS_INVALID_VALUE;
  params->algo = algo;
  return CUSOLVER_STATUS_SUCCESS;
}

FAKE_EXPORT cusolverStatus_t cusolverDnXpotrf_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params,
                                                         cublasFillMode_t uplo, int64_t n, cudaDataType type_a,
                                                         const void*, int64_t lda, cudaDataType compute,
                                                         size_t* device, size_t* host) {
  if (!ValidFill(uplo)) return CUSOLVER_STATUS_INVALID_VALUE;
  return XQuery(h, params, n, n, lda, type_a, compute, device, host);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXpotrf(cusolverDnHandle_t h, cusolverDnParams_t params, cublasFillMode_t uplo,
                                              int64_t n, cudaDataType type_a, void* A, int64_t lda,
                                              cudaDataType compute, void* device, size_t device_bytes, void* host,
                                              size_t /*host_bytes*/, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, compute);
  if (params == nullptr || !FitsInt(n) || !FitsInt(lda) || bytes == 0 ||
      !UseWorkspaces(n, device, host))
    return CUSOLVER_STATUS_INVALID_VALUE;
  const int lwork = static_cast<int>(device_bytes / bytes);
  if (bytes == 4)
    return Potrf(h, uplo, int(n), static_cast<float*>(A), int(lda), static_cast<float*>(device), lwork, info);
  return Potrf(h, uplo, int(n), static_cast<double*>(A), int(lda), static_cast<double*>(device), lwork, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXpotrs(cusolverDnHandle_t h, cusolverDnParams_t params, cublasFillMode_t uplo,
                                              int64_t n, int64_t nrhs, cudaDataType type_a, const void* A,
                                              int64_t lda, cudaDataType type_b, void* B, int64_t ldb, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, type_b);
  if (params == nullptr || !FitsInt(n) || !FitsInt(nrhs) || !FitsInt(lda) || !FitsInt(ldb) || bytes == 0)
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (bytes == 4)
    return Potrs(h, uplo, int(n), int(nrhs), static_cast<const float*>(A), int(lda), static_cast<float*>(B), int(ldb),
                 info);
  return Potrs(h, uplo, int(n), int(nrhs), static_cast<const double*>(A), int(lda), static_cast<double*>(B), int(ldb),
               info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXgetrf_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params, int64_t m,
                                                         int64_t n, cudaDataType type_a, const void*, int64_t lda,
                                                         cudaDataType compute, size_t* device, size_t* host) {
  return XQuery(h, params, m, n, lda, type_a, compute, device, host);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXgetrf(cusolverDnHandle_t h, cusolverDnParams_t params, int64_t m, int64_t n,
                                              cudaDataType type_a, void* A, int64_t lda, int64_t* ipiv,
                                              cudaDataType compute, void* device, size_t /*device_bytes*/, void* host,
                                              size_t /*host_bytes*/, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, compute);
  if (params == nullptr || !FitsInt(m) || !FitsInt(n) || !FitsInt(lda) || bytes == 0 ||
      !UseWorkspaces(n, device, host))
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (bytes == 4)
    return Getrf(h, int(m), int(n), static_cast<float*>(A), int(lda), static_cast<float*>(device), ipiv, info);
  return Getrf(h, int(m), int(n), static_cast<double*>(A), int(lda), static_cast<double*>(device), ipiv, info);
}
FAKE_EXPORT cusolverStatus_t cusolverDnXgetrs(cusolverDnHandle_t h, cusolverDnParams_t params, cublasOperation_t trans,
                                              int64_t n, int64_t nrhs, cudaDataType type_a, const void* A,
                                              int64_t lda, const int64_t* ipiv, cudaDataType type_b, void* B,
                                              int64_t ldb, int* info) {
  if (h == nullptr) return CUSOLVER_STATUS_NOT_INITIALIZED;
  const size_t bytes = RealBytes(type_a, type_b);
  if (params == nullptr || !FitsInt(n) || !FitsInt(nrhs) || !FitsInt(lda) || !FitsInt(ldb) || bytes == 0)
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (bytes == 4)
    return Getrs(h, trans, int(n), int(nrhs), static_cast<const float*>(A), int(lda), ipiv, static_cast<float*>(B),
                 int(ldb), info);
  return Getrs(h, trans, int(n), int(nrhs), static_cast<const double*>(A), int(lda), ipiv, static_cast<double*>(B),
               int(ldb), info);
}
