// error_cases: errors that leave the context usable, reported as CUDA reports
// them: error names and strings; invalid launch configurations reported by
// cudaGetLastError right after the launch (not at some later call);
// cudaPeekAtLastError vs cudaGetLastError; the last error surviving later
// successful calls until it is read; cudaFree of pointers cudaMalloc did not
// return; copies past the end of an allocation; impossible allocations; an
// invalid copy direction. After each, work goes on and computes correctly.
// (A faulting kernel poisons the context: that is sticky_fault.)
#include "test_util.h"

__global__ void fillIndex(int* out, int n, int offset) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i + offset;
}

// A kernel that runs correctly proves the context survived the errors.
static void CheckContextWorks(rtest::Rng& rng, rtest::Checksum& sum, const char* after) {
  const int n = 10007;
  const int offset = static_cast<int>(rng.Int(-1000000, 1000000));
  int* d;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
  fillIndex<<<rtest::BlocksFor(n, 128), 128>>>(d, n, offset);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<int> got(n), want(n);
  CUDA_CHECK(cudaMemcpy(got.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d));
  for (int i = 0; i < n; ++i) want[i] = i + offset;
  char what[128];
  std::snprintf(what, sizeof what, "a kernel after %s", after);
  rtest::ExpectEqual(got, want, what);
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  sum.AddValue(got[n - 1] - offset);
}

// Expects `err` to be an error, then the same error from cudaGetLastError,
// then no error.
static cudaError_t ExpectReportedOnce(cudaError_t err, const char* what) {
  CHECKF(err != cudaSuccess, "%s succeeded; expected an error", what);
  cudaError_t last = cudaGetLastError();
  CHECKF(last == err, "%s returned %s but cudaGetLastError gave %s", what, cudaGetErrorName(err),
         cudaGetErrorName(last));
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  return err;
}

int main() {
  rtest::Rng rng = rtest::Init("error_cases");
  rtest::Checksum sum;

  // Names and strings are CUDA's own.
  {
    struct {
      cudaError_t err;
      const char* name;
      const char* text;
    } const table[] = {
        {cudaSuccess, "cudaSuccess", "no error"},
        {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
        {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
        {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
        {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
        {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
        {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
        {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    };
    for (const auto& e : table) {
      const char* name = cudaGetErrorName(e.err);
      const char* text = cudaGetErrorString(e.err);
      CHECKF(name && std::strcmp(name, e.name) == 0, "cudaGetErrorName(%d) = \"%s\", expected \"%s\"", e.err,
             name ? name : "(null)", e.name);
      CHECKF(text && std::strcmp(text, e.text) == 0, "cudaGetErrorString(%s) = \"%s\", expected \"%s\"", e.name,
             text ? text : "(null)", e.text);
    }
  }
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  CheckContextWorks(rng, sum, "start-up");

  int* d;
  const int n = 1000;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));

  // An invalid launch configuration is reported right after the launch.
  // cudaPeekAtLastError does not clear it, cudaGetLastError does.
  {
    fillIndex<<<1, 2048>>>(d, n, 0);
    CUDA_EXPECT_CONFIG_ERROR(cudaPeekAtLastError());
    CUDA_EXPECT_CONFIG_ERROR(cudaPeekAtLastError());
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
    CUDA_EXPECT(cudaPeekAtLastError(), cudaSuccess);
    CheckContextWorks(rng, sum, "a launch of 2048 threads per block");

    fillIndex<<<dim3(1, 70000), 32>>>(d, n, 0);
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    fillIndex<<<1, dim3(32, 32, 2)>>>(d, n, 0);
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    fillIndex<<<1, dim3(1, 1, 65)>>>(d, n, 0);
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    fillIndex<<<0, 32>>>(d, n, 0);
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);

    // More dynamic shared memory than any block can have.
    fillIndex<<<1, 32, 4u << 20>>>(d, n, 0);
    cudaError_t err = cudaGetLastError();
    CHECKF(err != cudaSuccess, "a launch with 4 MiB of dynamic shared memory was accepted");
    sum.AddValue(err);
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
    CheckContextWorks(rng, sum, "invalid launch configurations");
  }

  // The last error survives successful calls until it is read.
  {
    void* p = nullptr;
    CUDA_EXPECT(cudaMalloc(&p, 1ull << 52), cudaErrorMemoryAllocation);
    int host[4] = {1, 2, 3, 4};
    CUDA_CHECK(cudaMemcpy(d, host, sizeof host, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_EXPECT(cudaPeekAtLastError(), cudaErrorMemoryAllocation);
    CUDA_EXPECT(cudaGetLastError(), cudaErrorMemoryAllocation);
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
    CheckContextWorks(rng, sum, "an impossible cudaMalloc");
  }

  // cudaFree of what cudaMalloc did not return.
  {
    CUDA_CHECK(cudaFree(nullptr));
    sum.AddValue(ExpectReportedOnce(cudaFree(d + 10), "cudaFree of a pointer inside an allocation"));
    std::vector<int> hostBuffer(64);
    sum.AddValue(ExpectReportedOnce(cudaFree(hostBuffer.data()), "cudaFree of a host pointer"));
    int* e;
    CUDA_CHECK(cudaMalloc(&e, 4096));
    CUDA_CHECK(cudaFree(e));
    sum.AddValue(ExpectReportedOnce(cudaFree(e), "a second cudaFree of the same pointer"));
    // The allocation the failed frees pointed into is still intact.
    std::vector<int> before(n), after(n);
    for (int i = 0; i < n; ++i) before[i] = static_cast<int>(rng.U32());
    CUDA_CHECK(cudaMemcpy(d, before.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(after.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(after, before, "an allocation after failed cudaFree calls into it");
    CheckContextWorks(rng, sum, "invalid cudaFree calls");
  }

  // Copies that run past the end of an allocation, in both directions.
  {
    const size_t size = 1u << 20;
    unsigned char* small;
    CUDA_CHECK(cudaMalloc(&small, size));
    std::vector<unsigned char> host(2 * size, 0x5A);
    sum.AddValue(ExpectReportedOnce(cudaMemcpy(host.data(), small, 2 * size, cudaMemcpyDeviceToHost),
                                    "a D2H copy of 2 MiB from a 1 MiB allocation"));
    sum.AddValue(ExpectReportedOnce(cudaMemcpy(small + size / 2, host.data(), size, cudaMemcpyHostToDevice),
                                    "an H2D copy running 512 KiB past the end of an allocation"));
    sum.AddValue(ExpectReportedOnce(cudaMemcpy(host.data(), small + 100, 64, static_cast<cudaMemcpyKind>(42)),
                                    "a copy with an invalid direction"));
    CUDA_CHECK(cudaFree(small));
    CheckContextWorks(rng, sum, "copies out of bounds");
  }

  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  return rtest::Pass(sum);
}
