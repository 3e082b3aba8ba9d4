// memset_async: cudaMemsetAsync ordered with kernels on the same stream
// (before and after), at byte offsets and lengths that split 32-bit elements,
// with values above 255 (only the low byte counts), on the legacy stream and
// on streams chained by events. Catches memsets that run early or late,
// ignore offsets, or write the wrong byte.
#include "test_util.h"

__global__ void fillIota(int* x, int n, int base) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = base + i;
}

__global__ void addOneInt(int* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1;
}

// CPU model of a byte memset over an int array.
static void Memset(std::vector<int>& v, size_t byteOffset, int value, size_t count) {
  std::memset(reinterpret_cast<unsigned char*>(v.data()) + byteOffset, value, count);
}

int main() {
  rtest::Rng rng = rtest::Init("memset_async");
  rtest::Checksum sum;
  const int n = 300007;
  const size_t bytes = n * sizeof(int);
  const int blocks = rtest::BlocksFor(n, 256);

  cudaStream_t s1, s2;
  CUDA_CHECK(cudaStreamCreate(&s1));
  CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  int* d;
  int* pinned;
  CUDA_CHECK(cudaMalloc(&d, bytes));
  CUDA_CHECK(cudaMallocHost(&pinned, bytes));
  std::vector<int> want(n);

  // kernel, memset splitting elements, kernel, on one stream.
  for (int round = 0; round < 3; ++round) {
    const int base = static_cast<int>(rng.Int(-1000000, 1000000));
    const size_t off = static_cast<size_t>(rng.Int(0, 4000)) * 4 + static_cast<size_t>(rng.Int(1, 3));
    const size_t count = static_cast<size_t>(rng.Int(1, 200000));
    const int value = static_cast<int>(rng.Int(0, 0xFFFF));
    fillIota<<<blocks, 256, 0, s1>>>(d, n, base);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemsetAsync(reinterpret_cast<unsigned char*>(d) + off, value, count, s1));
    addOneInt<<<blocks, 256, 0, s1>>>(d, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned, d, bytes, cudaMemcpyDeviceToHost, s1));
    CUDA_CHECK(cudaStreamSynchronize(s1));
    for (int i = 0; i < n; ++i) want[i] = base + i;
    Memset(want, off, value, count);
    for (auto& x : want) x = static_cast<int>(static_cast<unsigned>(x) + 1u);
    char what[128];
    std::snprintf(what, sizeof what, "round %d: fillIota, cudaMemsetAsync(+%zu bytes, 0x%x, %zu), addOneInt", round,
                  off, value, count);
    rtest::ExpectEqual(pinned, want.data(), n, what);
    sum.Add(pinned, bytes);
  }

  // A memset after a slow kernel that writes the same memory: the memset wins.
  {
    fillIota<<<blocks, 256, 0, s1>>>(d, n, 77);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemsetAsync(d, 0xC3, bytes, s1));
    CUDA_CHECK(cudaMemcpyAsync(pinned, d, bytes, cudaMemcpyDeviceToHost, s1));
    CUDA_CHECK(cudaStreamSynchronize(s1));
    rtest::ExpectBytes(pinned, bytes, 0xC3, "cudaMemsetAsync after a kernel on the same stream");
  }

  // Across streams with an event: s2's memset waits for s1's kernel, then
  // s1 waits for s2's memset before its next kernel.
  {
    cudaEvent_t e1, e2;
    CUDA_CHECK(cudaEventCreateWithFlags(&e1, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&e2, cudaEventDisableTiming));
    const int base = static_cast<int>(rng.Int(-1000, 1000));
    fillIota<<<blocks, 256, 0, s1>>>(d, n, base);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventRecord(e1, s1));
    CUDA_CHECK(cudaStreamWaitEvent(s2, e1, 0));
    CUDA_CHECK(cudaMemsetAsync(d + 1000, 0, 5000 * sizeof(int), s2));
    CUDA_CHECK(cudaEventRecord(e2, s2));
    CUDA_CHECK(cudaStreamWaitEvent(s1, e2, 0));
    addOneInt<<<blocks, 256, 0, s1>>>(d, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned, d, bytes, cudaMemcpyDeviceToHost, s1));
    CUDA_CHECK(cudaStreamSynchronize(s1));
    for (int i = 0; i < n; ++i) want[i] = (i >= 1000 && i < 6000) ? 1 : base + i + 1;
    rtest::ExpectEqual(pinned, want.data(), n, "kernel on s1, memset on s2, kernel on s1, chained by events");
    sum.Add(pinned, bytes);
    CUDA_CHECK(cudaEventDestroy(e1));
    CUDA_CHECK(cudaEventDestroy(e2));
  }

  // On the legacy stream, and zero bytes.
  {
    CUDA_CHECK(cudaMemsetAsync(d, 0x01, bytes));
    CUDA_CHECK(cudaMemsetAsync(d, 0x7F, 0));
    CUDA_CHECK(cudaMemsetAsync(reinterpret_cast<char*>(d) + bytes - 3, 0x1FE, 3, 0));
    CUDA_CHECK(cudaMemcpy(pinned, d, bytes, cudaMemcpyDeviceToHost));
    std::vector<unsigned char> b(bytes, 0x01);
    std::memset(b.data() + bytes - 3, 0xFE, 3);
    rtest::ExpectEqual(reinterpret_cast<unsigned char*>(pinned), b.data(), bytes, "cudaMemsetAsync on the legacy stream");
    sum.Add(pinned, bytes);
  }

  CUDA_CHECK(cudaStreamDestroy(s1));
  CUDA_CHECK(cudaStreamDestroy(s2));
  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaFreeHost(pinned));
  return rtest::Pass(sum);
}
