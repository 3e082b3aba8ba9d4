// A struct parameter of tests/cuda/launch_ex.cu, shared with its host kernels
// (tests/kernels/launch_ex.cc).
#pragma once

struct AxpyParams {
  float a;
  int n;
};
