// memcpy_directions: cudaMemcpy in every direction (H2D, D2H, D2D, H2H) with
// explicit kinds and with cudaMemcpyDefault, from and to pageable and pinned
// (cudaMallocHost, cudaHostAlloc) memory, at unaligned offsets and odd
// lengths, a 64 MiB copy, zero-byte copies, cudaMemset of whole and partial
// ranges, and guard bytes around every host destination. Catches wrong
// directions, offsets dropped or applied twice, truncated or torn transfers,
// and writes past the end of a destination.
#include "test_util.h"

__global__ void addOne(unsigned char* p, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) p[i] += 1;
}

constexpr size_t kGuard = 64;
constexpr unsigned char kGuardByte = 0xEE;

// A host buffer with guard bytes on both sides.
struct Guarded {
  explicit Guarded(size_t n) : bytes(n + 2 * kGuard, kGuardByte), size(n) {}
  unsigned char* data() { return bytes.data() + kGuard; }
  void CheckGuards(const char* what) {
    rtest::ExpectBytes(bytes.data(), kGuard, kGuardByte, what);
    rtest::ExpectBytes(bytes.data() + kGuard + size, kGuard, kGuardByte, what);
  }
  std::vector<unsigned char> bytes;
  size_t size;
};

int main() {
  rtest::Rng rng = rtest::Init("memcpy_directions");
  rtest::Checksum sum;

  const size_t n = 1000003;
  std::vector<unsigned char> src(n);
  rng.FillBytes(src.data(), n);
  unsigned char *d1, *d2;
  CUDA_CHECK(cudaMalloc(&d1, n));
  CUDA_CHECK(cudaMalloc(&d2, n));

  // Explicit kinds, pageable memory, and a kernel between to prove the data
  // really was on the device.
  {
    CUDA_CHECK(cudaMemcpy(d1, src.data(), n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(d2, d1, n, cudaMemcpyDeviceToDevice));
    addOne<<<97, 256>>>(d2, n);
    CUDA_CHECK_LAUNCH();
    Guarded dst(n);
    CUDA_CHECK(cudaMemcpy(dst.data(), d2, n, cudaMemcpyDeviceToHost));
    dst.CheckGuards("guard bytes around a pageable D2H destination");
    std::vector<unsigned char> want(src);
    for (auto& b : want) b += 1;
    rtest::ExpectEqual(dst.data(), want.data(), n, "H2D, D2D, addOne, D2H (pageable)");
    sum.Add(dst.data(), n);
    // d1 is untouched by the kernel on d2.
    std::vector<unsigned char> back(n);
    CUDA_CHECK(cudaMemcpy(back.data(), d1, n, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(back, src, "D2D source after a kernel on the destination");
  }

  // Pinned memory: cudaMallocHost and cudaHostAlloc, both directions, and
  // host to host.
  {
    unsigned char *pinnedSrc, *pinnedDst;
    CUDA_CHECK(cudaMallocHost(&pinnedSrc, n));
    CUDA_CHECK(cudaHostAlloc(&pinnedDst, n + 2 * kGuard, cudaHostAllocPortable));
    rng.FillBytes(pinnedSrc, n);
    std::memset(pinnedDst, kGuardByte, n + 2 * kGuard);
    CUDA_CHECK(cudaMemcpy(d1, pinnedSrc, n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(pinnedDst + kGuard, d1, n, cudaMemcpyDeviceToHost));
    rtest::ExpectBytes(pinnedDst, kGuard, kGuardByte, "guard before a pinned D2H destination");
    rtest::ExpectBytes(pinnedDst + kGuard + n, kGuard, kGuardByte, "guard after a pinned D2H destination");
    rtest::ExpectEqual(pinnedDst + kGuard, pinnedSrc, n, "H2D and D2H through pinned memory");
    sum.Add(pinnedDst + kGuard, n);

    Guarded h2h(n);
    CUDA_CHECK(cudaMemcpy(h2h.data(), pinnedSrc, n, cudaMemcpyHostToHost));
    h2h.CheckGuards("guard bytes around an H2H destination");
    rtest::ExpectEqual(h2h.data(), pinnedSrc, n, "H2H from pinned to pageable");
    std::vector<unsigned char> pageable(n);
    rng.FillBytes(pageable.data(), n);
    CUDA_CHECK(cudaMemcpy(pinnedDst, pageable.data(), n, cudaMemcpyHostToHost));
    rtest::ExpectEqual(pinnedDst, pageable.data(), n, "H2H from pageable to pinned");
    CUDA_CHECK(cudaFreeHost(pinnedSrc));
    CUDA_CHECK(cudaFreeHost(pinnedDst));
  }

  // cudaMemcpyDefault: the runtime infers each direction from the pointers.
  {
    std::vector<unsigned char> a(n), b(n), c(n);
    rng.FillBytes(a.data(), n);
    CUDA_CHECK(cudaMemcpy(d1, a.data(), n, cudaMemcpyDefault));           // H2D
    CUDA_CHECK(cudaMemcpy(d2, d1, n, cudaMemcpyDefault));                 // D2D
    addOne<<<13, 512>>>(d2, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(b.data(), d2, n, cudaMemcpyDefault));           // D2H
    CUDA_CHECK(cudaMemcpy(c.data(), b.data(), n, cudaMemcpyDefault));     // H2H
    for (auto& x : a) x += 1;
    rtest::ExpectEqual(b, a, "cudaMemcpyDefault H2D, D2D, D2H");
    rtest::ExpectEqual(c, a, "cudaMemcpyDefault H2H");
    sum.AddVector(c);
  }

  // Unaligned offsets and odd lengths in every direction.
  {
    const size_t len = 777777;
    CUDA_CHECK(cudaMemset(d1, 0, n));
    CUDA_CHECK(cudaMemcpy(d1 + 5, src.data() + 3, len, cudaMemcpyHostToDevice));
    Guarded dst(len);
    CUDA_CHECK(cudaMemcpy(dst.data(), d1 + 5, len, cudaMemcpyDeviceToHost));
    dst.CheckGuards("guard bytes around an unaligned D2H");
    rtest::ExpectEqual(dst.data(), src.data() + 3, len, "H2D to d+5 from h+3, D2H back");
    // The bytes around the unaligned device range stay zero.
    unsigned char around[5 + 7];
    CUDA_CHECK(cudaMemcpy(around, d1, 5, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(around + 5, d1 + 5 + len, 7, cudaMemcpyDeviceToHost));
    rtest::ExpectBytes(around, sizeof around, 0, "device bytes around an unaligned H2D");

    const size_t len2 = 500001;
    CUDA_CHECK(cudaMemset(d2, 0x77, n));
    CUDA_CHECK(cudaMemcpy(d2 + 13, d1 + 7, len2, cudaMemcpyDeviceToDevice));
    std::vector<unsigned char> all(n), want(n, 0x77);
    CUDA_CHECK(cudaMemcpy(all.data(), d2, n, cudaMemcpyDeviceToHost));
    std::vector<unsigned char> d1Host(n, 0);
    std::memcpy(d1Host.data() + 5, src.data() + 3, len);
    std::memcpy(want.data() + 13, d1Host.data() + 7, len2);
    rtest::ExpectEqual(all, want, "D2D from d1+7 to d2+13");
    sum.AddVector(all);
  }

  // cudaMemset: whole, partial at odd offsets, only the low byte of the value
  // counts.
  {
    CUDA_CHECK(cudaMemset(d1, 0xAB, n));
    CUDA_CHECK(cudaMemset(d1 + 3, 0x1234, 1001));
    CUDA_CHECK(cudaMemset(d1 + n - 9, 0, 9));
    std::vector<unsigned char> got(n), want(n, 0xAB);
    std::memset(want.data() + 3, 0x34, 1001);
    std::memset(want.data() + n - 9, 0, 9);
    CUDA_CHECK(cudaMemcpy(got.data(), d1, n, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, want, "cudaMemset whole, at offset 3, at the end");
    sum.AddVector(got);
  }

  // Zero-byte operations succeed and change nothing.
  {
    unsigned char before[16], after[16];
    CUDA_CHECK(cudaMemcpy(before, d1, 16, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(d1, src.data(), 0, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(src.data(), d1, 0, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(d1, d2, 0, cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaMemset(d1, 0, 0));
    CUDA_CHECK(cudaMemcpy(after, d1, 16, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(after, before, 16, "device bytes after zero-byte operations");
  }
  CUDA_CHECK(cudaFree(d1));
  CUDA_CHECK(cudaFree(d2));

  // 64 MiB: pageable H2D, D2D, D2H into pinned memory.
  {
    const size_t big = 64u << 20;
    std::vector<unsigned char> h(big);
    rng.FillBytes(h.data(), big);
    unsigned char *b1, *b2, *pinned;
    CUDA_CHECK(cudaMalloc(&b1, big));
    CUDA_CHECK(cudaMalloc(&b2, big));
    CUDA_CHECK(cudaMallocHost(&pinned, big));
    CUDA_CHECK(cudaMemcpy(b1, h.data(), big, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(b2, b1, big, cudaMemcpyDeviceToDevice));
    std::memset(pinned, 0, big);
    CUDA_CHECK(cudaMemcpy(pinned, b2, big, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(pinned, h.data(), big, "64 MiB H2D, D2D, D2H");
    std::vector<unsigned char> back(big);
    CUDA_CHECK(cudaMemcpy(back.data(), b1, big, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(back, h, "64 MiB D2H into pageable memory");
    sum.Add(pinned, big);
    CUDA_CHECK(cudaFree(b1));
    CUDA_CHECK(cudaFree(b2));
    CUDA_CHECK(cudaFreeHost(pinned));
  }

  return rtest::Pass(sum);
}
