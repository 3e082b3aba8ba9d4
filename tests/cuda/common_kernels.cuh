// Kernels that several test programs use: one definition, so one host kernel
// per name in tests/kernels/common_kernels.cc. Include after test_util.h.
#pragma once

// Every thread waits spinNs of GPU time, then writes value + i: a slow
// producer whose output a consumer must not read early.
__global__ void spinThenFill(int* out, int n, int value, long long spinNs) {
  SpinForNs(spinNs);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value + i;
}

__global__ void addFrom(const int* src, int* dst, int n, int add) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = src[i] + add;
}

// One thread polls *flag until it equals `expect` or timeoutNs passes;
// result[0] = 1 if it saw the flag, result[1] = the value it last read.
__global__ void waitForFlag(volatile int* flag, int expect, int* result, long long timeoutNs) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  unsigned long long start = GlobalTimerNs();
  int seen = 0, value = 0;
  while (static_cast<long long>(GlobalTimerNs() - start) < timeoutNs) {
    value = *flag;
    if (value == expect) {
      seen = 1;
      break;
    }
  }
  result[0] = seen;
  result[1] = value;
}

__global__ void setFlag(volatile int* flag, int value) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    __threadfence_system();
    *flag = value;
    __threadfence_system();
  }
}
