// Types that tests/cuda/many_params.cu passes to kernels, shared with its host
// kernels (tests/kernels/many_params.cc).
#pragma once

struct Pair {
  int a;
  float b;
};

// 12 bytes, alignment 4.
struct Vec3 {
  float x, y, z;
};

// 6000 bytes by value: above the 4 KiB limit of older CUDA versions, within
// the 32764-byte limit of CUDA 12.1+ on Volta and later.
constexpr int kCoeffCount = 1500;
struct Coeffs {
  float v[kCoeffCount];
};

// What manyParams received, written back by its thread 0.
struct ParamEcho {
  char c8;
  unsigned char u8;
  short s16;
  unsigned short u16;
  int i32;
  unsigned u32;
  long long i64;
  unsigned long long u64;
  float f32;
  double f64;
  bool flag;
  const int* ptr;
  Pair pair;
  char c8b;
  double f64b;
  short s16b;
  float* fptr;
  Vec3 v3;
  long long i64b;
  char c8c;
  int i32b;
  double f64c;
};
