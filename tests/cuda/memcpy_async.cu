// memcpy_async: cudaMemcpyAsync in every direction (H2D, D2H, D2D, H2H,
// cudaMemcpyDefault) with pinned and pageable host memory, ordered with
// kernels on the same stream, on several streams at once. Checks the
// guarantees CUDA gives: a pageable source may be reused as soon as the call
// returns; a copy into pageable memory has completed when the call returns; a
// copy into pinned memory is complete after the synchronization that covers
// it, and holds the data as of its place in the stream (not older, not
// newer); large copies arrive whole.
#include "test_util.h"

__global__ void mulAdd(int* x, int n, int mul, int add) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * mul + add;
}

static std::vector<int> MulAdd(std::vector<int> v, int mul, int add) {
  for (auto& x : v) x = static_cast<int>(static_cast<unsigned>(x) * static_cast<unsigned>(mul) + static_cast<unsigned>(add));
  return v;
}

int main() {
  rtest::Rng rng = rtest::Init("memcpy_async");
  rtest::Checksum sum;
  const int n = 262147;
  const size_t bytes = n * sizeof(int);
  const int blocks = rtest::BlocksFor(n, 256);

  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  int *d1, *d2, *pinA, *pinB;
  CUDA_CHECK(cudaMalloc(&d1, bytes));
  CUDA_CHECK(cudaMalloc(&d2, bytes));
  CUDA_CHECK(cudaMallocHost(&pinA, bytes));
  CUDA_CHECK(cudaMallocHost(&pinB, bytes));
  std::vector<int> src(n);
  rng.FillInts(src, -100000, 100000);

  // Pinned H2D, kernel, pinned D2H on one stream.
  {
    std::copy(src.begin(), src.end(), pinA);
    CUDA_CHECK(cudaMemcpyAsync(d1, pinA, bytes, cudaMemcpyHostToDevice, s));
    mulAdd<<<blocks, 256, 0, s>>>(d1, n, 3, -7);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinB, d1, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    auto want = MulAdd(src, 3, -7);
    rtest::ExpectEqual(pinB, want.data(), n, "pinned H2D, kernel, pinned D2H");
    sum.Add(pinB, bytes);
  }

  // A pageable source may be overwritten as soon as cudaMemcpyAsync returns.
  {
    std::vector<int> pageable(src);
    CUDA_CHECK(cudaMemcpyAsync(d2, pageable.data(), bytes, cudaMemcpyHostToDevice, s));
    std::fill(pageable.begin(), pageable.end(), -1);
    mulAdd<<<blocks, 256, 0, s>>>(d2, n, 1, 1);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinB, d2, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    auto want = MulAdd(src, 1, 1);
    rtest::ExpectEqual(pinB, want.data(), n, "pageable H2D whose source was overwritten right after the call");
  }

  // A copy into pageable memory has completed when cudaMemcpyAsync returns,
  // after the kernel before it on the stream.
  {
    mulAdd<<<blocks, 256, 0, s>>>(d2, n, -2, 5);
    CUDA_CHECK_LAUNCH();
    std::vector<int> pageable(n, 0);
    CUDA_CHECK(cudaMemcpyAsync(pageable.data(), d2, bytes, cudaMemcpyDeviceToHost, s));
    auto want = MulAdd(MulAdd(src, 1, 1), -2, 5);
    rtest::ExpectEqual(pageable, want, "pageable D2H, read right after the call returned");
    CUDA_CHECK(cudaStreamSynchronize(s));
    sum.AddVector(pageable);
  }

  // Copies take the data as of their place in the stream: one before a
  // kernel, one after it.
  {
    CUDA_CHECK(cudaMemcpyAsync(d1, src.data(), bytes, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(cudaMemcpyAsync(pinA, d1, bytes, cudaMemcpyDeviceToHost, s));
    mulAdd<<<blocks, 256, 0, s>>>(d1, n, 5, 3);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinB, d1, bytes, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    rtest::ExpectEqual(pinA, src.data(), n, "pinned D2H queued before a kernel (stale or too new)");
    auto want = MulAdd(src, 5, 3);
    rtest::ExpectEqual(pinB, want.data(), n, "pinned D2H queued after a kernel");
    sum.Add(pinB, bytes);
  }

  // D2D, H2H and cudaMemcpyDefault, async.
  {
    std::vector<int> other(n);
    rng.FillInts(other, -50, 50);
    std::copy(other.begin(), other.end(), pinA);
    CUDA_CHECK(cudaMemcpyAsync(d1, pinA, bytes, cudaMemcpyDefault, s));
    CUDA_CHECK(cudaMemcpyAsync(d2 + 1, d1, bytes - sizeof(int), cudaMemcpyDeviceToDevice, s));
    CUDA_CHECK(cudaMemsetAsync(d2, 0, sizeof(int), s));
    CUDA_CHECK(cudaMemcpyAsync(pinB, d2, bytes, cudaMemcpyDefault, s));
    std::vector<int> h2h(n, 0);
    CUDA_CHECK(cudaMemcpyAsync(h2h.data(), pinB, bytes, cudaMemcpyHostToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<int> want(n);
    want[0] = 0;
    std::copy(other.begin(), other.end() - 1, want.begin() + 1);
    rtest::ExpectEqual(pinB, want.data(), n, "Default H2D, D2D shifted by one element, Default D2H");
    rtest::ExpectEqual(h2h, want, "H2H after the D2H on the same stream");
    sum.AddVector(h2h);
  }

  // Four streams at once, each with its own chunk: H2D, kernel, D2H.
  {
    const int chunks = 4, chunkN = 1 << 20;
    cudaStream_t ss[chunks];
    int *dev[chunks], *in[chunks], *out[chunks];
    std::vector<int> data[chunks];
    for (int c = 0; c < chunks; ++c) {
      CUDA_CHECK(cudaStreamCreateWithFlags(&ss[c], cudaStreamNonBlocking));
      CUDA_CHECK(cudaMalloc(&dev[c], chunkN * sizeof(int)));
      CUDA_CHECK(cudaMallocHost(&in[c], chunkN * sizeof(int)));
      CUDA_CHECK(cudaMallocHost(&out[c], chunkN * sizeof(int)));
      data[c].resize(chunkN);
      rng.FillInts(data[c], -1000, 1000);
      std::copy(data[c].begin(), data[c].end(), in[c]);
    }
    for (int c = 0; c < chunks; ++c) {
      CUDA_CHECK(cudaMemcpyAsync(dev[c], in[c], chunkN * sizeof(int), cudaMemcpyHostToDevice, ss[c]));
      mulAdd<<<rtest::BlocksFor(chunkN, 512), 512, 0, ss[c]>>>(dev[c], chunkN, c + 2, c);
      CUDA_CHECK_LAUNCH();
      CUDA_CHECK(cudaMemcpyAsync(out[c], dev[c], chunkN * sizeof(int), cudaMemcpyDeviceToHost, ss[c]));
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    for (int c = 0; c < chunks; ++c) {
      auto want = MulAdd(data[c], c + 2, c);
      char what[64];
      std::snprintf(what, sizeof what, "stream %d of 4 concurrent pipelines", c);
      rtest::ExpectEqual(out[c], want.data(), chunkN, what);
      sum.Add(out[c], chunkN * sizeof(int));
      CUDA_CHECK(cudaStreamDestroy(ss[c]));
      CUDA_CHECK(cudaFree(dev[c]));
      CUDA_CHECK(cudaFreeHost(in[c]));
      CUDA_CHECK(cudaFreeHost(out[c]));
    }
  }

  // 48 MiB into pinned memory, then a sync: all of it arrives.
  {
    const size_t big = 48u << 20;
    unsigned char *dBig, *hBig;
    std::vector<unsigned char> pattern(big);
    rng.FillBytes(pattern.data(), big);
    CUDA_CHECK(cudaMalloc(&dBig, big));
    CUDA_CHECK(cudaMallocHost(&hBig, big));
    std::memset(hBig, 0, big);
    CUDA_CHECK(cudaMemcpyAsync(dBig, pattern.data(), big, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(cudaMemcpyAsync(hBig, dBig, big, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    rtest::ExpectEqual(hBig, pattern.data(), big, "48 MiB async round trip");
    CUDA_CHECK(cudaFree(dBig));
    CUDA_CHECK(cudaFreeHost(hBig));
  }

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(d1));
  CUDA_CHECK(cudaFree(d2));
  CUDA_CHECK(cudaFreeHost(pinA));
  CUDA_CHECK(cudaFreeHost(pinB));
  return rtest::Pass(sum);
}
