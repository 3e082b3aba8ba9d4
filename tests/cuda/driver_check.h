// CU_CHECK: the driver API's counterpart of CUDA_CHECK (test_util.h) for the
// driver-API test programs: a failing call ends the program, naming the
// call and its CUresult.
#pragma once

#include <cuda.h>

#include "test_util.h"

#define CU_CHECK(call)                                                                      \
  do {                                                                                      \
    CUresult r_ = (call);                                                                   \
    if (r_ != CUDA_SUCCESS) {                                                               \
      const char* name_ = nullptr;                                                          \
      cuGetErrorName(r_, &name_);                                                           \
      rtest::Fail("%s:%d %s: %d (%s)", __FILE__, __LINE__, #call, r_, name_ ? name_ : "?"); \
    }                                                                                       \
  } while (0)
