// Function objects that tests/cuda/templates.cu passes to templated kernels by
// value, shared with its host kernels (tests/kernels/templates.cc).
#pragma once

#ifndef __CUDACC__
#define __host__
#define __device__
#endif

// Empty: passed as a 1-byte parameter.
struct Square {
  __host__ __device__ int operator()(int x) const { return x * x; }
};

struct AddConst {
  int c;
  __host__ __device__ int operator()(int x) const { return x + c; }
};

struct Clamp {
  float lo, hi;
  __host__ __device__ float operator()(float x) const { return x < lo ? lo : (x > hi ? hi : x); }
};
