// Checks a session's memory partition from the inside: cudaMemGetInfo's
// total is the lease's grant, an allocation within it succeeds, and one
// beyond what is left fails with cudaErrorMemoryAllocation, like a smaller
// GPU. Usage: lease_alloc <grant bytes>. Exit 0 when all holds.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(cond, ...)                  \
  do {                                    \
    if (!(cond)) {                        \
      std::printf("FAIL lease_alloc: ");  \
      std::printf(__VA_ARGS__);           \
      std::printf("\n");                  \
      return 1;                           \
    }                                     \
  } while (0)

int main(int argc, char** argv) {
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
