// Types that tests/cuda/struct_by_value.cu passes to kernels by value, shared
// with its host kernels (tests/kernels/struct_by_value.cc) so both sides agree
// on the layout.
#pragma once

#include <cstdint>

// 8 bytes: 3 bytes of padding after c.
struct Small {
  char c;
  int i;
};

// 3 bytes, alignment 1.
struct Packed3 {
  char a, b, c;
};

// 24 bytes, alignment 8, padding inside.
struct Mixed {
  char a;
  double d;
  short s;
  float f;
};

// 16 bytes, alignment 16: its offset in the parameter buffer must be rounded
// up to 16.
struct alignas(16) Aligned16 {
  float v[3];
  int tag;
};

// 32 bytes.
struct Vec32 {
  double x, y, z, w;
};

// Nested structs with a 64-bit member after an odd-sized one.
struct Nested {
  Small s;
  Packed3 p;
  long long ll;
};

// A struct that carries device pointers, as real code passes views.
struct Range {
  const int* src;
  int* dst;
  int n;
  int scale;
};

// Everything a kernel saw, written back field by field.
struct Echo {
  Small small;
  Packed3 packed;
  Mixed mixed;
  Aligned16 aligned;
  Vec32 vec;
  Nested nested;
  char tag1;
  char tag2;
};
