// One session waiting on long kernels, for bench/micro/waiting_sessions.sh
// (the issue's "32 sessions waiting on long kernels: server CPU use"): runs
// a kernel of <ms> milliseconds on the legacy stream and waits for it with
// cudaDeviceSynchronize, again and again, until the file <stop> exists (or
// <max rounds> are done). Prints "waiting" once the first kernel is
// launched, then "METRIC rounds <n>" at the end.
//
//   waiting_session [ms, default 100] [stop file, default none] [max rounds, default 1]
#include <cuda_runtime.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

// Runs for `ns` nanoseconds of the GPU's global timer.
__global__ void spin_for(long long ns) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < static_cast<unsigned long long>(ns));
}

int main(int argc, char** argv) {
  const long long ms = argc > 1 ? std::atoll(argv[1]) : 100;
  const char* stop = argc > 2 ? argv[2] : nullptr;
  const int max_rounds = argc > 3 ? std::atoi(argv[3]) : 1;
  int rounds = 0;
  while (rounds < max_rounds && !(stop && access(stop, F_OK) == 0)) {
    spin_for<<<1, 1>>>(ms * 1000000);
    if (cudaGetLastError() != cudaSuccess) {
      std::fprintf(stderr, "launch failed\n");
      return 1;
    }
    if (rounds == 0) {
      std::printf("waiting\n");
      std::fflush(stdout);
    }
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
      std::fprintf(stderr, "cudaDeviceSynchronize: %s\n", cudaGetErrorString(e));
      return 1;
    }
    ++rounds;
  }
  std::printf("METRIC rounds %d\n", rounds);
  return 0;
}
