// Parameter types of the kernels in kernels.cu. The unit tests include this
// header too: the host compiler's offsetof/sizeof/alignof is the reference
// for the layout the cubin and PTX parsers must report, because a CUDA
// kernel's parameters follow the host ABI's struct layout.
#pragma once

struct Bytes32 {
  char b[32];
};

struct Pair {
  int a;
  double b;
};

struct Odd {
  char c;
  short s;
  char t[3];
};

struct alignas(16) Vec4 {
  float x, y, z, w;
};

// Parameter records switch from EIATTR_KPARAM_INFO (0x17) to the large form
// (0x45) above 4 KiB.
struct Big4000 {
  char bytes[4000];
};
struct Big5000 {
  char bytes[5000];
};
struct Big20000 {
  unsigned char bytes[20000];
};

// Kernel and variable names, as the tests look them up.
#define RCUDA_UNIT_PAIR_INIT {7, 8.25}
