// The bytes of one element of a cudaDataType (library_types.h), for the
// values a library types by an argument: cuSPARSE's alpha and beta (of its
// compute type), and the arrays its descriptors capture. Both ends of a
// forwarded call compute it from the same argument (client/libs/ thunks,
// server/library_call.h), so it lives here, not in either.
#pragma once

#include <library_types.h>

#include <cstddef>
#include <cstdint>

namespace rcuda {

// 0 for a type that is not a whole number of bytes (4- and 6-bit types) or
// that this table does not know: a caller refuses what it cannot size.
inline size_t CudaDataTypeBytes(int64_t type) {
  switch (type) {
    case CUDA_R_8I: case CUDA_R_8U: case CUDA_R_8F_E4M3: case CUDA_R_8F_E5M2: case CUDA_R_8F_UE8M0: return 1;
    case CUDA_R_16F: case CUDA_R_16BF: case CUDA_C_8I: case CUDA_C_8U: case CUDA_R_16I: case CUDA_R_16U: return 2;
    case CUDA_R_32F: case CUDA_C_16F: case CUDA_C_16BF: case CUDA_R_32I: case CUDA_R_32U: case CUDA_C_16I:
    case CUDA_C_16U: return 4;
    case CUDA_R_64F: case CUDA_C_32F: case CUDA_R_64I: case CUDA_R_64U: case CUDA_C_32I: case CUDA_C_32U: return 8;
    case CUDA_C_64F: case CUDA_C_64I: case CUDA_C_64U: return 16;
    default: return 0;
  }
}

}  // namespace rcuda
