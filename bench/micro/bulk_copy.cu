// Bulk copies for the striped TCP benchmark (bench/micro/tcp_stripes.sh):
// synchronous cudaMemcpy of a pinned buffer host-to-device and back, timed
// in the program. Prints "METRIC h2d <GB/s> GB/s" and "METRIC d2h ..." (the
// median of the repetitions) and checks that the data came back intact.
//
//   bulk_copy <MiB> [repetitions]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool Ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t bytes = static_cast<size_t>(argc > 1 ? std::atoi(argv[1]) : 64) << 20;
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  char *host = nullptr, *back = nullptr;
  void* dev = nullptr;
  if (!Ok(cudaMallocHost(&host, bytes), "cudaMallocHost") || !Ok(cudaMallocHost(&back, bytes), "cudaMallocHost") ||
      !Ok(cudaMalloc(&dev, bytes), "cudaMalloc")) {
    return 1;
  }
  for (size_t i = 0; i < bytes; ++i) host[i] = static_cast<char>(i * 131 + (i >> 20));
  using Clock = std::chrono::steady_clock;
  std::vector<double> h2d, d2h;
  for (int r = 0; r <= reps; ++r) {  // the first round warms up
    auto t0 = Clock::now();
    // rcuda returns from a host-to-device cudaMemcpy once the data is sent
    // (as CUDA may for pageable memory): the clock stops when it arrived.
    if (!Ok(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice), "H2D")) return 1;
    if (!Ok(cudaDeviceSynchronize(), "cudaDeviceSynchronize")) return 1;
    auto t1 = Clock::now();
    if (!Ok(cudaMemcpy(back, dev, bytes, cudaMemcpyDeviceToHost), "D2H")) return 1;
    auto t2 = Clock::now();
    if (r == 0) continue;
    h2d.push_back(bytes / std::chrono::duration<double>(t1 - t0).count() / 1e9);
    d2h.push_back(bytes / std::chrono::duration<double>(t2 - t1).count() / 1e9);
  }
  if (std::memcmp(host, back, bytes) != 0) {
    std::fprintf(stderr, "bulk_copy: the data came back changed\n");
    return 1;
  }
  std::printf("METRIC h2d %.3f GB/s\nMETRIC d2h %.3f GB/s\n", Median(h2d), Median(d2h));
  return 0;
}
