// cuBLAS's functions that need no worker (the `local` lines of
// client/libs/cublas.def): the status names and strings, the runtime version
// the library was built with, and the helpers that move vectors and matrices
// between host and device. The helpers are strided copies, which the
// program's runtime (rcuda's libcudart.so.13, the session's) carries as
// cudaMemcpy or cudaMemcpy2D, as NVIDIA's cuBLAS carries them through its
// static runtime; sending them to the worker would only add a round trip.
//
// Argument checks follow the real library, as measured against
// libcublas.so.13 (13.1.0): a nonpositive element size, increment or leading
// dimension is CUBLAS_STATUS_INVALID_VALUE; a negative count or a leading
// dimension below the rows is a copy that fails, CUBLAS_STATUS_MAPPING_ERROR;
// nothing to copy is CUBLAS_STATUS_SUCCESS.
#include <cublas_api.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#define RCUDA_CUBLAS_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// `count` blocks of `width` bytes, `src_pitch` and `dst_pitch` bytes apart,
// in `stream` when there is one (the Async helpers), else synchronously.
cublasStatus_t StridedCopy(int64_t count, int64_t width, const void* src, int64_t src_pitch, void* dst,
                           int64_t dst_pitch, cudaMemcpyKind kind, std::optional<cudaStream_t> stream) {
  if (count < 0) return CUBLAS_STATUS_MAPPING_ERROR;
  if (count == 0 || width == 0) return CUBLAS_STATUS_SUCCESS;
  if (src_pitch < width || dst_pitch < width) return CUBLAS_STATUS_MAPPING_ERROR;
  cudaError_t e;
  if (src_pitch == width && dst_pitch == width) {
    int64_t bytes = 0;
    if (__builtin_mul_overflow(count, width, &bytes)) return CUBLAS_STATUS_MAPPING_ERROR;
    e = stream ? cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), kind, *stream)
               : cudaMemcpy(dst, src, static_cast<size_t>(bytes), kind);
  } else {
    e = stream ? cudaMemcpy2DAsync(dst, static_cast<size_t>(dst_pitch), src, static_cast<size_t>(src_pitch),
                                   static_cast<size_t>(width), static_cast<size_t>(count), kind, *stream)
               : cudaMemcpy2D(dst, static_cast<size_t>(dst_pitch), src, static_cast<size_t>(src_pitch),
                              static_cast<size_t>(width), static_cast<size_t>(count), kind);
  }
  return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_MAPPING_ERROR;
}

// x (every incx-th element) to y (every incy-th element).
cublasStatus_t VectorCopy(int64_t n, int64_t elem_size, const void* x, int64_t incx, void* y, int64_t incy,
                          cudaMemcpyKind kind, std::optional<cudaStream_t> stream) {
  if (elem_size <= 0 || incx <= 0 || incy <= 0) return CUBLAS_STATUS_INVALID_VALUE;
  int64_t x_pitch = 0, y_pitch = 0;
  if (__builtin_mul_overflow(incx, elem_size, &x_pitch) || __builtin_mul_overflow(incy, elem_size, &y_pitch)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  return StridedCopy(n, elem_size, x, x_pitch, y, y_pitch, kind, stream);
}

// The column-major rows x cols matrix A (leading dimension lda) to B (ldb).
cublasStatus_t MatrixCopy(int64_t rows, int64_t cols, int64_t elem_size, const void* a, int64_t lda, void* b,
                          int64_t ldb, cudaMemcpyKind kind, std::optional<cudaStream_t> stream) {
  if (elem_size <= 0 || lda <= 0 || ldb <= 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (rows < 0 || cols < 0) return CUBLAS_STATUS_MAPPING_ERROR;
  int64_t width = 0, a_pitch = 0, b_pitch = 0;
  if (__builtin_mul_overflow(rows, elem_size, &width) || __builtin_mul_overflow(lda, elem_size, &a_pitch) ||
      __builtin_mul_overflow(ldb, elem_size, &b_pitch)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  return StridedCopy(cols, width, a, a_pitch, b, b_pitch, kind, stream);
}

}  // namespace

RCUDA_CUBLAS_EXPORT const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "unrecognized status";
}

RCUDA_CUBLAS_EXPORT const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an unsupported value or parameter was passed to the function";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "the function requires an architectural feature absent from the device";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the function failed to launch on the GPU";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the requested functionality is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "the license check failed";
  }
  return "unrecognized status";
}

// The runtime this library was built against (the toolkit's headers), as
// the real library answers the one it links statically.
RCUDA_CUBLAS_EXPORT size_t cublasGetCudartVersion(void) { return CUDART_VERSION; }

RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetVector(int n, int elemSize, const void* x, int incx, void* devicePtr,
                                                   int incy) {
  return VectorCopy(n, elemSize, x, incx, devicePtr, incy, cudaMemcpyHostToDevice, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetVector_64(int64_t n, int64_t elemSize, const void* x, int64_t incx,
                                                      void* devicePtr, int64_t incy) {
  return VectorCopy(n, elemSize, x, incx, devicePtr, incy, cudaMemcpyHostToDevice, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetVector(int n, int elemSize, const void* x, int incx, void* y, int incy) {
  return VectorCopy(n, elemSize, x, incx, y, incy, cudaMemcpyDeviceToHost, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetVector_64(int64_t n, int64_t elemSize, const void* x, int64_t incx,
                                                      void* y, int64_t incy) {
  return VectorCopy(n, elemSize, x, incx, y, incy, cudaMemcpyDeviceToHost, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetMatrix(int rows, int cols, int elemSize, const void* A, int lda, void* B,
                                                   int ldb) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyHostToDevice, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetMatrix_64(int64_t rows, int64_t cols, int64_t elemSize, const void* A,
                                                      int64_t lda, void* B, int64_t ldb) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyHostToDevice, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetMatrix(int rows, int cols, int elemSize, const void* A, int lda, void* B,
                                                   int ldb) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyDeviceToHost, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetMatrix_64(int64_t rows, int64_t cols, int64_t elemSize, const void* A,
                                                      int64_t lda, void* B, int64_t ldb) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyDeviceToHost, std::nullopt);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetVectorAsync(int n, int elemSize, const void* hostPtr, int incx,
                                                        void* devicePtr, int incy, cudaStream_t stream) {
  return VectorCopy(n, elemSize, hostPtr, incx, devicePtr, incy, cudaMemcpyHostToDevice, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetVectorAsync_64(int64_t n, int64_t elemSize, const void* hostPtr,
                                                           int64_t incx, void* devicePtr, int64_t incy,
                                                           cudaStream_t stream) {
  return VectorCopy(n, elemSize, hostPtr, incx, devicePtr, incy, cudaMemcpyHostToDevice, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetVectorAsync(int n, int elemSize, const void* devicePtr, int incx,
                                                        void* hostPtr, int incy, cudaStream_t stream) {
  return VectorCopy(n, elemSize, devicePtr, incx, hostPtr, incy, cudaMemcpyDeviceToHost, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetVectorAsync_64(int64_t n, int64_t elemSize, const void* devicePtr,
                                                           int64_t incx, void* hostPtr, int64_t incy,
                                                           cudaStream_t stream) {
  return VectorCopy(n, elemSize, devicePtr, incx, hostPtr, incy, cudaMemcpyDeviceToHost, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetMatrixAsync(int rows, int cols, int elemSize, const void* A, int lda,
                                                        void* B, int ldb, cudaStream_t stream) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyHostToDevice, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasSetMatrixAsync_64(int64_t rows, int64_t cols, int64_t elemSize,
                                                           const void* A, int64_t lda, void* B, int64_t ldb,
                                                           cudaStream_t stream) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyHostToDevice, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetMatrixAsync(int rows, int cols, int elemSize, const void* A, int lda,
                                                        void* B, int ldb, cudaStream_t stream) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyDeviceToHost, stream);
}
RCUDA_CUBLAS_EXPORT cublasStatus_t cublasGetMatrixAsync_64(int64_t rows, int64_t cols, int64_t elemSize,
                                                           const void* A, int64_t lda, void* B, int64_t ldb,
                                                           cudaStream_t stream) {
  return MatrixCopy(rows, cols, elemSize, A, lda, B, ldb, cudaMemcpyDeviceToHost, stream);
}
