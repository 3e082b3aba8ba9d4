// fork_probe: a CUDA program that forks after using CUDA, run through rcuda
// by tests/integration/hostile_client_fork.cc. The parent computes, forks,
// and the child computes on a session of its own while the parent's session
// must go on untouched:
//
//   parent: vector addition on device 0 (its buffers stay allocated), a host
//           function on a stream (so that its host channel is open), fork
//   child:  the parent's device pointer is not the child's (an error, not
//           the parent's memory), then a vector addition of its own,
//           checked; exits 0 when all held
//   parent: waits for the child, then checks that its earlier buffers still
//           hold its results and computes again in the same session
//
// Prints CHILD OK / PARENT OK (or what failed) and exits 0 when both held.
// Natively, CUDA does not support a child that uses CUDA after its parent
// did: this program runs only through rcuda (not in tests/gpu/run.sh).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include <cuda_runtime.h>

extern "C" __global__ void fault_vec_add(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

namespace {

constexpr int kN = 4096;

#define CHECK(call, who)                                                                          \
  do {                                                                                            \
    cudaError_t e_ = (call);                                                                      \
    if (e_ != cudaSuccess) {                                                                      \
      std::printf("%s FAILED %s: %s\n", who, #call, cudaGetErrorName(e_));                        \
      std::fflush(stdout);                                                                        \
      return false;                                                                               \
    }                                                                                             \
  } while (0)

struct Buffers {
  float *a = nullptr, *b = nullptr, *c = nullptr;
};

// c = a + b with a[i] = i * scale, b[i] = 1, computed and checked.
bool Compute(const char* who, float scale, Buffers* d) {
  std::vector<float> a(kN), b(kN, 1.0f), c(kN, 0.0f);
  for (int i = 0; i < kN; ++i) a[i] = i * scale;
  if (!d->a) {
    CHECK(cudaMalloc(&d->a, kN * sizeof(float)), who);
    CHECK(cudaMalloc(&d->b, kN * sizeof(float)), who);
    CHECK(cudaMalloc(&d->c, kN * sizeof(float)), who);
  }
  CHECK(cudaMemcpy(d->a, a.data(), kN * sizeof(float), cudaMemcpyHostToDevice), who);
  CHECK(cudaMemcpy(d->b, b.data(), kN * sizeof(float), cudaMemcpyHostToDevice), who);
  fault_vec_add<<<(kN + 255) / 256, 256>>>(d->a, d->b, d->c, kN);
  CHECK(cudaGetLastError(), who);
  CHECK(cudaMemcpy(c.data(), d->c, kN * sizeof(float), cudaMemcpyDeviceToHost), who);
  for (int i = 0; i < kN; ++i) {
    if (c[i] != a[i] + 1.0f) {
      std::printf("%s FAILED: c[%d] = %g, expected %g\n", who, i, c[i], a[i] + 1.0f);
      return false;
    }
  }
  return true;
}

// The parent's results are still in its device buffer.
bool Holds(const char* who, const Buffers& d, float scale) {
  std::vector<float> c(kN);
  CHECK(cudaMemcpy(c.data(), d.c, kN * sizeof(float), cudaMemcpyDeviceToHost), who);
  for (int i = 0; i < kN; ++i) {
    if (c[i] != i * scale + 1.0f) {
      std::printf("%s FAILED: its buffer changed: c[%d] = %g\n", who, i, c[i]);
      return false;
    }
  }
  return true;
}

void NoOp(void*) {}

bool Child(const Buffers& parents) {
  // The parent's allocation is not the child's: CUDA says so.
  std::vector<float> c(kN);
  cudaError_t e = cudaMemcpy(c.data(), parents.c, kN * sizeof(float), cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) {
    std::printf("CHILD FAILED: read its parent's device memory\n");
    return false;
  }
  cudaGetLastError();
  Buffers mine;
  if (!Compute("CHILD", 3.0f, &mine)) return false;
  CHECK(cudaLaunchHostFunc(0, NoOp, nullptr), "CHILD");
  CHECK(cudaDeviceSynchronize(), "CHILD");
  return true;
}

bool Parent() {
  Buffers d;
  if (!Compute("PARENT", 2.0f, &d)) return false;
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream), "PARENT");
  CHECK(cudaLaunchHostFunc(stream, NoOp, nullptr), "PARENT");
  CHECK(cudaStreamSynchronize(stream), "PARENT");
  std::fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    std::printf("PARENT FAILED: fork\n");
    return false;
  }
  if (child == 0) {
    bool ok = Child(d);
    if (ok) std::printf("CHILD OK\n");
    std::fflush(stdout);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::printf("PARENT: the child failed (status %d)\n", status);
    return false;
  }
  if (!Holds("PARENT", d, 2.0f)) return false;
  CHECK(cudaLaunchHostFunc(stream, NoOp, nullptr), "PARENT");
  CHECK(cudaStreamSynchronize(stream), "PARENT");
  return Compute("PARENT", 5.0f, &d);
}

}  // namespace

int main() {
  bool ok = Parent();
  if (ok) std::printf("PARENT OK\n");
  return ok ? 0 : 1;
}
