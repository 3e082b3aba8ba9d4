// The bytes of the alpha and beta of cuBLAS's Ex functions (cublasGemmEx,
// cublasGemmStridedBatchedEx, cublasGemmBatchedEx): their type is the
// compute type's scale type, complex when C is (cuBLAS's documentation of
// cublasGemmEx: CUBLAS_COMPUTE_32F with Ctype CUDA_C_32F takes cuComplex
// scalars). Both ends of a forwarded call compute it from the same two
// arguments (the client's thunk sends that many bytes in host pointer mode;
// the worker checks that many in device mode), so it lives in common/.
#pragma once

#include <cublas_api.h>
#include <library_types.h>

#include <cstddef>
#include <cstdint>

namespace rcuda {

// 0 for a compute type this table does not know: the worker refuses it.
inline size_t CublasScaleBytes(int64_t compute_type, int64_t c_type) {
  size_t real = 0;
  switch (compute_type) {
    case CUBLAS_COMPUTE_16F: case CUBLAS_COMPUTE_16F_PEDANTIC:
      real = 2;  // half
      break;
    case CUBLAS_COMPUTE_32F: case CUBLAS_COMPUTE_32F_PEDANTIC: case CUBLAS_COMPUTE_32F_FAST_16F:
    case CUBLAS_COMPUTE_32F_FAST_16BF: case CUBLAS_COMPUTE_32F_FAST_TF32: case CUBLAS_COMPUTE_32F_EMULATED_16BFX9:
      real = 4;  // float
      break;
    case CUBLAS_COMPUTE_64F: case CUBLAS_COMPUTE_64F_PEDANTIC: case CUBLAS_COMPUTE_64F_EMULATED_FIXEDPOINT:
      real = 8;  // double
      break;
    case CUBLAS_COMPUTE_32I: case CUBLAS_COMPUTE_32I_PEDANTIC:
      real = 4;  // int (or float, for 8-bit integer C: 4 bytes either way)
      break;
    default: return 0;
  }
  const bool complex = c_type == CUDA_C_16F || c_type == CUDA_C_16BF || c_type == CUDA_C_32F ||
                       c_type == CUDA_C_64F || c_type == CUDA_C_8I || c_type == CUDA_C_32I;
  return complex ? 2 * real : real;
}

}  // namespace rcuda
