// pointer_attributes: cudaPointerGetAttributes on device memory (the start
// and the inside of an allocation, from cudaMalloc and cudaMallocAsync),
// pinned host memory (cudaMallocHost, cudaHostAlloc) and pageable host memory
// (heap and stack: unregistered, not an error). The memory is used as the
// attributes say, so a wrong answer is also a failed copy.
#include "test_util.h"

__global__ void writeIndex(int* p, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = i ^ 0x5a5a;
}

static cudaPointerAttributes Attributes(const void* p, const char* what) {
  cudaPointerAttributes a;
  std::memset(&a, 0xCD, sizeof a);
  cudaError_t err = cudaPointerGetAttributes(&a, p);
  if (err != cudaSuccess) rtest::Fail("cudaPointerGetAttributes(%s) returned %s", what, rtest::ErrorText(err));
  return a;
}

int main() {
  rtest::Init("pointer_attributes");
  rtest::Checksum sum;
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));

  for (int dev = 0; dev < count; ++dev) {
    CUDA_CHECK(cudaSetDevice(dev));
    const int n = 4099;
    int* d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    cudaPointerAttributes a = Attributes(d, "cudaMalloc memory");
    CHECKF(a.type == cudaMemoryTypeDevice, "device %d: cudaMalloc memory has type %d", dev, a.type);
    CHECKF(a.device == dev, "device %d: cudaMalloc memory reports device %d", dev, a.device);
    CHECKF(a.devicePointer == d, "device %d: devicePointer %p, expected %p", dev, a.devicePointer, static_cast<void*>(d));
    CHECKF(a.hostPointer == nullptr, "device %d: cudaMalloc memory has hostPointer %p", dev, a.hostPointer);
    a = Attributes(d + 1000, "a pointer inside a cudaMalloc allocation");
    CHECKF(a.type == cudaMemoryTypeDevice && a.devicePointer == d + 1000 && a.device == dev,
           "device %d: inside an allocation: type %d device %d devicePointer %p (expected %p)", dev, a.type, a.device,
           a.devicePointer, static_cast<void*>(d + 1000));
    sum.AddValue(a.type);

    // Used as what it is.
    writeIndex<<<rtest::BlocksFor(n, 128), 128>>>(d, n);
    CUDA_CHECK_LAUNCH();
    int* pinned;
    CUDA_CHECK(cudaMallocHost(&pinned, n * sizeof(int)));
    a = Attributes(pinned, "cudaMallocHost memory");
    CHECKF(a.type == cudaMemoryTypeHost, "cudaMallocHost memory has type %d", a.type);
    CHECKF(a.hostPointer == pinned, "cudaMallocHost memory: hostPointer %p, expected %p", a.hostPointer,
           static_cast<void*>(pinned));
    sum.AddValue(a.type);
    CUDA_CHECK(cudaMemcpy(pinned, d, n * sizeof(int), cudaMemcpyDefault));
    std::vector<int> want(n);
    for (int i = 0; i < n; ++i) want[i] = i ^ 0x5a5a;
    rtest::ExpectEqual(pinned, want.data(), n, "cudaMemcpyDefault from device memory to cudaMallocHost memory");
    sum.Add(pinned, n * sizeof(int));
    CUDA_CHECK(cudaFreeHost(pinned));

    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreate(&s));
    int* pooled;
    CUDA_CHECK(cudaMallocAsync(&pooled, 1 << 20, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    a = Attributes(pooled, "cudaMallocAsync memory");
    CHECKF(a.type == cudaMemoryTypeDevice && a.device == dev && a.devicePointer == pooled,
           "cudaMallocAsync memory: type %d device %d", a.type, a.device);
    CUDA_CHECK(cudaFreeAsync(pooled, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK(cudaStreamDestroy(s));
    CUDA_CHECK(cudaFree(d));
  }
  CUDA_CHECK(cudaSetDevice(0));

  {
    char* mapped;
    CUDA_CHECK(cudaHostAlloc(&mapped, 12345, cudaHostAllocPortable));
    cudaPointerAttributes a = Attributes(mapped + 100, "inside cudaHostAlloc memory");
    CHECKF(a.type == cudaMemoryTypeHost && a.hostPointer == mapped + 100,
           "inside cudaHostAlloc memory: type %d hostPointer %p (expected %p)", a.type, a.hostPointer,
           static_cast<void*>(mapped + 100));
    sum.AddValue(a.type);
    CUDA_CHECK(cudaFreeHost(mapped));
  }

  // Pageable memory is unregistered: success, type cudaMemoryTypeUnregistered.
  {
    std::vector<double> heap(1000);
    int onStack[16] = {0};
    cudaPointerAttributes a = Attributes(heap.data(), "pageable heap memory");
    CHECKF(a.type == cudaMemoryTypeUnregistered, "pageable heap memory has type %d", a.type);
    a = Attributes(onStack, "a stack array");
    CHECKF(a.type == cudaMemoryTypeUnregistered, "a stack array has type %d", a.type);
    sum.AddValue(a.type);
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  }
  return rtest::Pass(sum);
}
