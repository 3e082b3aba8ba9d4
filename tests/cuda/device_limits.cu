// device_limits: cudaDeviceGetLimit/SetLimit (stack size, printf FIFO, device
// malloc heap: raised above what a kernel then needs, so the kernel's device
// mallocs succeed only if the limit really reached the device);
// cudaDeviceGetPCIBusId and cudaDeviceGetByPCIBusId (long and short forms,
// either case) agreeing with the properties; cudaSetDeviceFlags and
// cudaGetDeviceFlags; cudaInitDevice; cudaChooseDevice;
// cudaDeviceGetStreamPriorityRange with out-of-range priorities clamped;
// cudaDeviceSetCacheConfig.
#include <cctype>

#include "test_util.h"

// Each thread mallocs `perThread` ints on the device heap, fills and sums
// them; -1 if the heap was exhausted.
__global__ void heapUser(long long* out, int n, int perThread) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int* p = static_cast<int*>(malloc(perThread * sizeof(int)));
  if (!p) {
    out[i] = -1;
    return;
  }
  long long s = 0;
  for (int j = 0; j < perThread; ++j) p[j] = i + j;
  for (int j = 0; j < perThread; ++j) s += p[j];
  free(p);
  out[i] = s;
}

static size_t Limit(cudaLimit limit) {
  size_t v = 0;
  CUDA_CHECK(cudaDeviceGetLimit(&v, limit));
  return v;
}

int main() {
  rtest::Init("device_limits");
  rtest::Checksum sum;
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));

  // Device flags first, before the context does much.
  CUDA_CHECK(cudaInitDevice(0, 0, 0));
  CUDA_CHECK(cudaSetDevice(0));
  CUDA_CHECK(cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync));
  unsigned flags = 0;
  CUDA_CHECK(cudaGetDeviceFlags(&flags));
  CHECKF((flags & cudaDeviceScheduleMask) == cudaDeviceScheduleBlockingSync, "cudaGetDeviceFlags gave 0x%x", flags);

  // Limits.
  const size_t heapBefore = Limit(cudaLimitMallocHeapSize);
  CHECKF(Limit(cudaLimitStackSize) > 0 && heapBefore > 0 && Limit(cudaLimitPrintfFifoSize) > 0,
         "limits: stack %zu, heap %zu, printf %zu", Limit(cudaLimitStackSize), heapBefore, Limit(cudaLimitPrintfFifoSize));
  const size_t heap = 96ull << 20;
  CUDA_CHECK(cudaDeviceSetLimit(cudaLimitMallocHeapSize, heap));
  CHECKF(Limit(cudaLimitMallocHeapSize) >= heap, "heap limit %zu after setting %zu", Limit(cudaLimitMallocHeapSize), heap);
  CUDA_CHECK(cudaDeviceSetLimit(cudaLimitStackSize, 8192));
  CHECKF(Limit(cudaLimitStackSize) >= 8192, "stack limit %zu after setting 8192", Limit(cudaLimitStackSize));
  CUDA_CHECK(cudaDeviceSetLimit(cudaLimitPrintfFifoSize, 4u << 20));
  CHECKF(Limit(cudaLimitPrintfFifoSize) >= (4u << 20), "printf FIFO %zu after setting 4 MiB", Limit(cudaLimitPrintfFifoSize));
  sum.AddValue(Limit(cudaLimitMallocHeapSize));
  rtest::Note("malloc heap limit %zu after setting %zu", Limit(cudaLimitMallocHeapSize), heap);

  // The kernels need 40000 x 1 KiB of heap at once: more than the default
  // 8 MiB, within the 96 MiB set above.
  {
    const int n = 40000, perThread = 256;
    long long* d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(long long)));
    heapUser<<<rtest::BlocksFor(n, 256), 256>>>(d, n, perThread);
    CUDA_CHECK_LAUNCH();
    std::vector<long long> got(n), want(n);
    CUDA_CHECK(cudaMemcpy(got.data(), d, n * sizeof(long long), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = static_cast<long long>(perThread) * i + static_cast<long long>(perThread) * (perThread - 1) / 2;
    for (int i = 0; i < n; ++i)
      CHECKF(got[i] != -1, "thread %d's device malloc failed: the heap limit (%zu) did not reach the device", i, heap);
    rtest::ExpectEqual(got, want, "heapUser sums over device-malloc'd memory");
    sum.AddVector(got);
    CUDA_CHECK(cudaFree(d));
  }

  // PCI bus ids.
  for (int dev = 0; dev < count; ++dev) {
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    char busId[64];
    CUDA_CHECK(cudaDeviceGetPCIBusId(busId, sizeof busId, dev));
    unsigned domain = 0, bus = 0, device = 0, function = 0;
    CHECKF(std::sscanf(busId, "%x:%x:%x.%x", &domain, &bus, &device, &function) == 4,
           "device %d: cudaDeviceGetPCIBusId gave \"%s\", not domain:bus:device.function", dev, busId);
    CHECKF(domain == static_cast<unsigned>(prop.pciDomainID) && bus == static_cast<unsigned>(prop.pciBusID) &&
               device == static_cast<unsigned>(prop.pciDeviceID),
           "device %d: cudaDeviceGetPCIBusId gave \"%s\", properties say %04x:%02x:%02x", dev, busId, prop.pciDomainID,
           prop.pciBusID, prop.pciDeviceID);
    int found = -1;
    CUDA_CHECK(cudaDeviceGetByPCIBusId(&found, busId));
    CHECKF(found == dev, "cudaDeviceGetByPCIBusId(\"%s\") gave %d, expected %d", busId, found, dev);
    for (char* c = busId; *c; ++c) *c = static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    CUDA_CHECK(cudaDeviceGetByPCIBusId(&found, busId));
    CHECKF(found == dev, "cudaDeviceGetByPCIBusId(\"%s\") (lower case) gave %d, expected %d", busId, found, dev);
    char shortId[32];
    std::snprintf(shortId, sizeof shortId, "%02x:%02x.0", prop.pciBusID, prop.pciDeviceID);
    if (prop.pciDomainID == 0) {
      CUDA_CHECK(cudaDeviceGetByPCIBusId(&found, shortId));
      CHECKF(found == dev, "cudaDeviceGetByPCIBusId(\"%s\") gave %d, expected %d", shortId, found, dev);
    }
    sum.AddString(busId);
    rtest::Note("device %d: PCI bus id %s", dev, busId);
  }
  {
    int found = -1;
    cudaError_t err = cudaDeviceGetByPCIBusId(&found, "ffff:ff:1f.7");
    CHECKF(err != cudaSuccess, "cudaDeviceGetByPCIBusId of a bus id with no GPU gave device %d", found);
    CUDA_EXPECT(cudaGetLastError(), err);
  }

  // cudaChooseDevice picks a device matching the requested capability.
  {
    cudaDeviceProp prop0, request;
    CUDA_CHECK(cudaGetDeviceProperties(&prop0, 0));
    std::memset(&request, 0, sizeof request);
    request.major = prop0.major;
    request.minor = prop0.minor;
    int chosen = -1;
    CUDA_CHECK(cudaChooseDevice(&chosen, &request));
    CHECKF(chosen >= 0 && chosen < count, "cudaChooseDevice gave %d of %d devices", chosen, count);
    cudaDeviceProp chosenProp;
    CUDA_CHECK(cudaGetDeviceProperties(&chosenProp, chosen));
    CHECKF(chosenProp.major == prop0.major, "cudaChooseDevice chose compute capability %d.x, asked for %d.x",
           chosenProp.major, prop0.major);
  }

  // Stream priorities are clamped to the range.
  {
    int least = 0, greatest = 0;
    CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
    CHECKF(greatest <= least, "priority range %d..%d", greatest, least);
    cudaStream_t tooHigh, tooLow;
    CUDA_CHECK(cudaStreamCreateWithPriority(&tooHigh, cudaStreamNonBlocking, greatest - 10));
    CUDA_CHECK(cudaStreamCreateWithPriority(&tooLow, cudaStreamNonBlocking, least + 10));
    int p = 0;
    CUDA_CHECK(cudaStreamGetPriority(tooHigh, &p));
    CHECKF(p == greatest, "priority %d was clamped to %d, expected %d", greatest - 10, p, greatest);
    CUDA_CHECK(cudaStreamGetPriority(tooLow, &p));
    CHECKF(p == least, "priority %d was clamped to %d, expected %d", least + 10, p, least);
    CUDA_CHECK(cudaStreamDestroy(tooHigh));
    CUDA_CHECK(cudaStreamDestroy(tooLow));
    sum.AddValue(least);
    sum.AddValue(greatest);
    rtest::Note("stream priorities from %d to %d", least, greatest);
  }

  CUDA_CHECK(cudaDeviceSetCacheConfig(cudaFuncCachePreferShared));
  cudaFuncCache cache;
  CUDA_CHECK(cudaDeviceGetCacheConfig(&cache));
  CUDA_CHECK(cudaSetDeviceFlags(cudaDeviceScheduleAuto));
  CUDA_CHECK(cudaDeviceSynchronize());
  return rtest::Pass(sum);
}
