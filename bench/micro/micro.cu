// rcuda microbenchmarks: the costs a remoting layer adds, measured the same
// way natively and through rcuda so that bench/micro/compare.sh can print
// ratios from one run. Prints one line per metric: "METRIC <name> <value> <unit>".
//
//   micro_bench [--quick]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define CHECK(call)                                                                       \
  do {                                                                                    \
    cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                       \
    }                                                                                     \
  } while (0)

__global__ void empty_kernel() {}
__global__ void touch(int* p) { p[threadIdx.x] += 1; }

using Clock = std::chrono::steady_clock;
static double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

static void Report(const char* name, double value, const char* unit) {
  std::printf("METRIC %s %.3f %s\n", name, value, unit);
}

static double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && !std::strcmp(argv[1], "--quick");
  int rounds = quick ? 300 : 2000;
  auto t_init = Clock::now();
  CHECK(cudaFree(nullptr));  // context creation (native) or session set-up (rcuda)
  int* d;
  CHECK(cudaMalloc(&d, 1 << 20));
  Report("first_call_ms", Us(Clock::now() - t_init) / 1000, "ms");
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("DEVICE %s\n", prop.name);

  // Small synchronous round trip: a 4-byte device-to-host copy.
  int value = 0;
  for (int i = 0; i < 50; ++i) CHECK(cudaMemcpy(&value, d, 4, cudaMemcpyDeviceToHost));
  std::vector<double> lat;
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    CHECK(cudaMemcpy(&value, d, 4, cudaMemcpyDeviceToHost));
    lat.push_back(Us(Clock::now() - t));
  }
  Report("memcpy_d2h_4B_p50", Percentile(lat, 0.5), "us");
  Report("memcpy_d2h_4B_p99", Percentile(lat, 0.99), "us");

  // Launch and wait.
  lat.clear();
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    empty_kernel<<<1, 1>>>();
    CHECK(cudaDeviceSynchronize());
    lat.push_back(Us(Clock::now() - t));
  }
  Report("launch_sync_p50", Percentile(lat, 0.5), "us");

  // Asynchronous launches in a row.
  int launches = quick ? 5000 : 20000;
  auto t = Clock::now();
  for (int i = 0; i < launches; ++i) empty_kernel<<<1, 1>>>();
  CHECK(cudaDeviceSynchronize());
  Report("async_launch", Us(Clock::now() - t) / launches, "us/launch");

  // A kernel that does something, to check results are not skipped.
  CHECK(cudaMemset(d, 0, 1 << 20));
  for (int i = 0; i < 100; ++i) touch<<<1, 32>>>(d);
  CHECK(cudaMemcpy(&value, d, 4, cudaMemcpyDeviceToHost));
  if (value != 100) {
    std::fprintf(stderr, "touch kernel result %d, expected 100\n", value);
    return 1;
  }

  // Allocation.
  lat.clear();
  for (int i = 0; i < (quick ? 100 : 500); ++i) {
    void* p;
    auto t0 = Clock::now();
    CHECK(cudaMalloc(&p, 1 << 20));
    CHECK(cudaFree(p));
    lat.push_back(Us(Clock::now() - t0));
  }
  Report("malloc_free_1MiB_p50", Percentile(lat, 0.5), "us");

  // Bandwidth, pageable and pinned host memory.
  size_t bytes = (quick ? 64ull : 256ull) << 20;
  void* dbuf;
  CHECK(cudaMalloc(&dbuf, bytes));
  std::vector<char> pageable(bytes, 1);
  char* pinned;
  CHECK(cudaMallocHost(&pinned, bytes));
  std::memset(pinned, 2, bytes);
  auto bandwidth = [&](const char* name, void* dst, const void* src, cudaMemcpyKind kind) {
    CHECK(cudaMemcpy(dst, src, bytes, kind));  // warm-up
    double best = 0;
    for (int i = 0; i < 3; ++i) {
      auto t0 = Clock::now();
      CHECK(cudaMemcpy(dst, src, bytes, kind));
      CHECK(cudaDeviceSynchronize());
      best = std::max(best, bytes / (Us(Clock::now() - t0) * 1e3));
    }
    Report(name, best, "GB/s");
  };
  bandwidth("h2d_pageable", dbuf, pageable.data(), cudaMemcpyHostToDevice);
  bandwidth("d2h_pageable", pageable.data(), dbuf, cudaMemcpyDeviceToHost);
  bandwidth("h2d_pinned", dbuf, pinned, cudaMemcpyHostToDevice);
  bandwidth("d2h_pinned", pinned, dbuf, cudaMemcpyDeviceToHost);
  // Pinned, asynchronous: cudaMemcpyAsync then a stream synchronize, and how
  // long the call itself takes to return (natively, and over shared memory
  // with host segments, it only queues the copy).
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream));
  auto bandwidth_async = [&](const char* name, const char* return_name, void* dst, const void* src,
                             cudaMemcpyKind kind) {
    double returned_us = 1e30;
    CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));  // warm-up
    CHECK(cudaStreamSynchronize(stream));
    double best = 0;
    for (int i = 0; i < 3; ++i) {
      auto t0 = Clock::now();
      CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));
      returned_us = std::min(returned_us, Us(Clock::now() - t0));
      CHECK(cudaStreamSynchronize(stream));
      best = std::max(best, bytes / (Us(Clock::now() - t0) * 1e3));
    }
    Report(name, best, "GB/s");
    Report(return_name, returned_us, "us");
  };
  bandwidth_async("h2d_pinned_async", "h2d_pinned_async_return", dbuf, pinned, cudaMemcpyHostToDevice);
  bandwidth_async("d2h_pinned_async", "d2h_pinned_async_return", pinned, dbuf, cudaMemcpyDeviceToHost);
  CHECK(cudaStreamDestroy(stream));
  // The host's own memcpy of the same size, in the same run: the floor a
  // copy through host memory cannot beat.
  {
    std::vector<char> other(bytes, 3);
    std::memcpy(other.data(), pageable.data(), bytes);  // warm-up (faults the pages in)
    double best = 0;
    for (int i = 0; i < 3; ++i) {
      auto t0 = Clock::now();
      std::memcpy(other.data(), pinned, bytes);
      best = std::max(best, bytes / (Us(Clock::now() - t0) * 1e3));
    }
    if (other[bytes / 3] != 2) {
      std::fprintf(stderr, "memcpy returned wrong data\n");
      return 1;
    }
    Report("memcpy_same_size", best, "GB/s");
  }
  if (pageable[bytes / 2] != 1 || pinned[bytes / 2] != 2) {
    std::fprintf(stderr, "bandwidth round trip returned wrong data\n");
    return 1;
  }
  CHECK(cudaFreeHost(pinned));
  CHECK(cudaFree(dbuf));
  CHECK(cudaFree(d));
  std::printf("PASS micro\n");
  return 0;
}
