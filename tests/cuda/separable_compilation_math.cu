// separable_compilation, second translation unit: a __device__ function and
// __device__ variables that the kernel of the first unit uses (-rdc=true: the
// device linker resolves them), and a kernel of this unit's own.
#include "separable_compilation.h"

__device__ float sepOffset = kSepOffsetInit;  // initialized from the linked image
__device__ int sepCalls;                      // counted by sepAxpb, read by the host

// a * x + sepOffset, counting its calls. noinline keeps it a real call across
// units (the device linker, not the compiler, resolves it).
__device__ __noinline__ float sepAxpb(float a, float x) {
  atomicAdd(&sepCalls, 1);
  return __fadd_rn(__fmul_rn(a, x), sepOffset);
}

// The second unit's own kernel: y[i] = -y[i].
__global__ void sepNegate(float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = -y[i];
}
