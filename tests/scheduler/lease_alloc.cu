// Checks a session's memory partition from the inside: cudaMemGetInfo's
// total is the lease's grant, an allocation within it succeeds, and one
// beyond what is left fails with cudaErrorMemoryAllocation, like a smaller
// GPU. Usage: lease_alloc <grant bytes>. Exit 0 when all holds.
//
// lease_alloc --hold READY_FILE: holds a session open (an allocation),
// creates READY_FILE, then asks the GPU for its memory every 50 ms, for at
// most 30 s, until a call fails: the server ended the session (its lease was
// released). Exit 0 then, 1 if the session outlived the 30 s.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#define CHECK(cond, ...)                  \
  do {                                    \
    if (!(cond)) {                        \
      std::printf("FAIL lease_alloc: ");  \
      std::printf(__VA_ARGS__);           \
      std::printf("\n");                  \
      return 1;                           \
    }                                     \
  } while (0)

int Hold(const char* ready_file) {
  void* held = nullptr;
  cudaError_t e = cudaMalloc(&held, 1 << 20);
  CHECK(e == cudaSuccess, "cudaMalloc: %s", cudaGetErrorName(e));
  FILE* ready = std::fopen(ready_file, "w");
  CHECK(ready != nullptr, "cannot create %s", ready_file);
  std::fputs("ready\n", ready);
  std::fclose(ready);
  for (int i = 0; i < 600; ++i) {
    size_t free_bytes = 0, total = 0;
    e = cudaMemGetInfo(&free_bytes, &total);
    if (e != cudaSuccess) {
      std::printf("SESSION ENDED after %d polls: %s\n", i, cudaGetErrorName(e));
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("FAIL lease_alloc: the session was not ended within 30 s\n");
  return 1;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--hold") == 0) return Hold(argv[2]);
  if (argc != 2) return 2;
  size_t grant = std::strtoull(argv[1], nullptr, 10);
  size_t free_bytes = 0, total = 0;
  cudaError_t e = cudaMemGetInfo(&free_bytes, &total);
  CHECK(e == cudaSuccess, "cudaMemGetInfo: %s", cudaGetErrorName(e));
  CHECK(total == grant, "total %zu, grant %zu", total, grant);
  void* half = nullptr;
  e = cudaMalloc(&half, grant / 2);
  CHECK(e == cudaSuccess, "cudaMalloc of half the grant: %s", cudaGetErrorName(e));
  void* over = nullptr;
  e = cudaMalloc(&over, grant / 2 + (64 << 20));
  CHECK(e == cudaErrorMemoryAllocation, "cudaMalloc past the grant returned %s", cudaGetErrorName(e));
  CHECK(cudaGetLastError() == cudaErrorMemoryAllocation, "the last error is not cudaErrorMemoryAllocation");
  void* rest = nullptr;
  e = cudaMalloc(&rest, grant / 4);
  CHECK(e == cudaSuccess, "cudaMalloc within what is left: %s", cudaGetErrorName(e));
  CHECK(cudaFree(half) == cudaSuccess && cudaFree(rest) == cudaSuccess, "cudaFree");
  std::printf("PASS lease_alloc\n");
  return 0;
}
