// host_register: cudaHostRegister/cudaHostUnregister on page-aligned malloc'd
// memory, cudaHostGetDevicePointer on registered memory and on
// cudaHostAllocMapped memory, and kernels writing host memory through those
// device pointers (zero-copy). A remoting layer cannot always honour these:
// each call may either succeed and then behave exactly as CUDA does (correct
// data through copies and through the device pointer), or fail with a clean
// CUDA error that leaves the context usable. Wrong data is never acceptable.
// Copies to and from the buffer work whether or not it was registered.
// (Native CUDA takes the success path everywhere; stderr notes which path
// each call took.)
#include <cstdlib>

#include "test_util.h"

__global__ void writeThrough(int* p, int n, int base) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = base + 3 * i;
}

// A call that may be refused: success, or an error reported once and then
// cleared.
static bool Accepted(cudaError_t err, const char* what) {
  if (err == cudaSuccess) {
    rtest::Note("%s: succeeded", what);
    return true;
  }
  rtest::Note("%s: refused with %s", what, rtest::ErrorText(err));
  cudaError_t last = cudaGetLastError();
  CHECKF(last == err, "%s returned %s but cudaGetLastError gave %s", what, cudaGetErrorName(err), cudaGetErrorName(last));
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  return false;
}

// Zero-copy: a kernel writes host memory through its device pointer; after
// the synchronization the host sees exactly that.
static void CheckZeroCopy(int* host, int* devicePtr, int n, int base, const char* what) {
  std::memset(host, 0, n * sizeof(int));
  writeThrough<<<rtest::BlocksFor(n, 256), 256>>>(devicePtr, n, base);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<int> want(n);
  for (int i = 0; i < n; ++i) want[i] = base + 3 * i;
  rtest::ExpectEqual(host, want.data(), n, what);
}

int main() {
  rtest::Rng rng = rtest::Init("host_register");
  rtest::Checksum sum;
  const int n = 1 << 18;
  const size_t bytes = n * sizeof(int);
  int* d;
  CUDA_CHECK(cudaMalloc(&d, bytes));

  int* buf = static_cast<int*>(std::aligned_alloc(4096, bytes));
  CHECKF(buf != nullptr, "aligned_alloc failed");
  std::vector<int> data(n);
  rng.FillInts(data, -1000000, 1000000);
  std::copy(data.begin(), data.end(), buf);

  const bool registered = Accepted(cudaHostRegister(buf, bytes, cudaHostRegisterDefault), "cudaHostRegister");
  if (registered) {
    cudaPointerAttributes a;
    CUDA_CHECK(cudaPointerGetAttributes(&a, buf));
    CHECKF(a.type == cudaMemoryTypeHost, "registered memory has type %d", a.type);
  }
  // Copies work either way, sync and async.
  CUDA_CHECK(cudaMemcpy(d, buf, bytes, cudaMemcpyHostToDevice));
  std::fill(buf, buf + n, 0);
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaMemcpyAsync(buf, d, bytes, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  rtest::ExpectEqual(buf, data.data(), n, "round trip through a (possibly) registered buffer");
  sum.Add(buf, bytes);

  if (registered) {
    int* dp = nullptr;
    if (Accepted(cudaHostGetDevicePointer(reinterpret_cast<void**>(&dp), buf, 0), "cudaHostGetDevicePointer(registered)")) {
      CHECKF(dp != nullptr, "cudaHostGetDevicePointer gave a null pointer");
      CheckZeroCopy(buf, dp, n, static_cast<int>(rng.Int(-1000, 1000)), "a kernel writing registered memory");
    }
    CUDA_CHECK(cudaHostUnregister(buf));
  } else {
    // Unregistering what was not registered is an error.
    cudaError_t err = cudaHostUnregister(buf);
    CHECKF(err != cudaSuccess, "cudaHostUnregister of memory that was never registered succeeded");
    Accepted(err, "cudaHostUnregister of unregistered memory");
  }
  std::free(buf);

  // Mapped pinned memory.
  int* mapped = nullptr;
  if (Accepted(cudaHostAlloc(reinterpret_cast<void**>(&mapped), bytes, cudaHostAllocMapped), "cudaHostAlloc(Mapped)")) {
    int* dp = nullptr;
    if (Accepted(cudaHostGetDevicePointer(reinterpret_cast<void**>(&dp), mapped, 0), "cudaHostGetDevicePointer(mapped)")) {
      CheckZeroCopy(mapped, dp, n, static_cast<int>(rng.Int(-1000, 1000)), "a kernel writing cudaHostAllocMapped memory");
    }
    // Copies through it work in any case.
    std::copy(data.begin(), data.end(), mapped);
    CUDA_CHECK(cudaMemcpy(d, mapped, bytes, cudaMemcpyHostToDevice));
    std::vector<int> back(n);
    CUDA_CHECK(cudaMemcpy(back.data(), d, bytes, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(back, data, "copies from cudaHostAllocMapped memory");
    CUDA_CHECK(cudaFreeHost(mapped));
  }

  // The context is still usable.
  writeThrough<<<rtest::BlocksFor(n, 256), 256>>>(d, n, 7);
  CUDA_CHECK_LAUNCH();
  std::vector<int> got(n), want(n);
  CUDA_CHECK(cudaMemcpy(got.data(), d, bytes, cudaMemcpyDeviceToHost));
  for (int i = 0; i < n; ++i) want[i] = 7 + 3 * i;
  rtest::ExpectEqual(got, want, "a kernel on device memory at the end");
  sum.AddVector(got);
  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(d));
  return rtest::Pass(sum);
}
