// A type of a __constant__ variable of tests/cuda/symbols.cu, shared with its
// host kernels (tests/kernels/symbols.cc).
#pragma once

struct LinearParams {
  float bias;
  int stride;
};

constexpr int kCoeffs = 64;
constexpr int kTable = 1000;
