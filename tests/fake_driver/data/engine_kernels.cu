// TEST EQUIPMENT input: a small module for the fake driver's own tests
// (fake_driver_test.cc). Host implementations: engine_kernels_host.cc.

__device__ int counter = 5;

__global__ void fill(int* p, int n, int value) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = value;
}

__global__ void addOne(int* p, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] += 1;
}

__global__ void bumpCounter(int by) {
  if (blockIdx.x == 0 && threadIdx.x == 0) counter += by;
}

// Writes through whatever pointer it gets: a wild one faults.
__global__ void wildWrite(int* p) { *p = 1; }

__global__ void __launch_bounds__(128) bounded(int* p) { p[threadIdx.x] = threadIdx.x; }

// Deliberately without a host implementation.
__global__ void noHost(int x) {}
