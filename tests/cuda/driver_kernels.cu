// Kernels of driver_vector_add, built apart (nvcc -fatbin) and loaded with
// cuModuleLoadData, as driver-API programs and NVRTC users load theirs.
// extern "C": the program looks them up by these names.

extern "C" __global__ void drvVecAdd(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// c[i] = a[i] * scale + offset: a mixed parameter list (pointer, float,
// 64-bit integer) for the packed-buffer launch (CU_LAUNCH_PARAM_BUFFER_POINTER).
extern "C" __global__ void drvScaleOffset(const float* a, float* c, float scale, long long offset, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = __fadd_rn(__fmul_rn(a[i], scale), static_cast<float>(offset));  // no FMA: host-exact
}

// A module variable for cuModuleGetGlobal.
__device__ int drvTable[64];

// out[y][x] = the texture's element (x - 1, y), point-sampled with
// unnormalized coordinates (column -1 is what the address mode makes it).
extern "C" __global__ void drvTexShift(unsigned long long tex, float* out, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h) out[y * w + x] = tex2D<float>(tex, x - 1 + 0.5f, y + 0.5f);
}
