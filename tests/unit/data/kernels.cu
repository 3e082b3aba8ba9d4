// Kernels and module variables whose fatbinaries and cubins the unit tests
// parse (tests/unit/CMakeLists.txt builds this file with nvcc in several
// ways: plain, compressed with ZSTD or LZ4, PTX only). Never run: only the
// parsers read what nvcc makes of it.
#include "param_types.h"

// ---- kernels -----------------------------------------------------------

extern "C" __global__ void no_params() {}

// The layout checked on an H100 by the driver's cuFuncGetParamInfo:
// 1@0 2@2 4@4 8@8 4@16 8@24 8@32 32@40.
extern "C" __global__ void mixed(char c, short s, int i, long long ll, float f, double d, int* p, Bytes32 b) {
  p[0] = c + s + i + (int)ll + (int)f + (int)d + b.b[31];
}

extern "C" __global__ void structs(Pair pair, Odd odd, Vec4 v, int* out) {
  out[0] = pair.a + (int)pair.b + odd.c + odd.s + odd.t[2] + (int)(v.x + v.w);
}

extern "C" __global__ void big4000(Big4000 big, int* out) { out[0] = big.bytes[3999]; }
extern "C" __global__ void big5000(Big5000 big, int* out) { out[0] = big.bytes[4999]; }
extern "C" __global__ void big20000(int x, Big20000 big, int* out) { out[0] = big.bytes[19999] + x; }

// C++ names: the parsers report mangled names.
template <typename T>
__global__ void scale(T* data, T factor, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= factor;
}
template __global__ void scale<float>(float*, float, int);
template __global__ void scale<double>(double*, double, int);

// ---- module variables --------------------------------------------------

__device__ int answer = 42;
__device__ double table[5] = {0.5, 1.5, 2.5, 3.5, 4.5};
__device__ int zeros[100];  // no initializer: zero-filled, no bytes stored
__constant__ float coeffs[4] = {1.f, 2.f, 3.f, 4.f};
__constant__ Pair constant_pair = RCUDA_UNIT_PAIR_INIT;

// Reads every variable so that none is optimized away.
extern "C" __global__ void touch_variables(double* out) {
  out[0] = answer + table[4] + zeros[99] + coeffs[3] + constant_pair.b;
}
