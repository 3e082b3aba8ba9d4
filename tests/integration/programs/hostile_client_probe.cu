// hostile_client_probe: the CUDA program the hostile-server tests
// (tests/integration/hostile_client_server.cc) run through rcuda against a
// fake server that answers wrongly. It makes one CUDA call (after whatever
// set-up the call needs), prints
//
//   RESULT <call> <error number> <error name>
//
// and exits 0: the test judges the error. The program must never crash or
// hang, whatever the server sends. Calls:
//
//   malloc meminfo stream event elapsed pitch limit pool graph launch
//   hostfunc (a host function, then a copy that must wait for it)
//
// Not a GPU program: it only makes sense against rcuda's fake servers, so it
// is not in the list that tests/gpu/run.sh runs natively.
#include <cstdio>
#include <cstring>
#include <string>

#include <cuda_runtime.h>

extern "C" __global__ void hostile_kernel(int a, float* b) {
  if (b) b[threadIdx.x] = static_cast<float>(a);
}

namespace {

void HostFunction(void*) {}

cudaError_t Run(const std::string& call) {
  if (call == "malloc") {
    void* p = nullptr;
    return cudaMalloc(&p, 256);
  }
  if (call == "meminfo") {
    size_t free = 0, total = 0;
    return cudaMemGetInfo(&free, &total);
  }
  if (call == "stream") {
    cudaStream_t s;
    return cudaStreamCreate(&s);
  }
  if (call == "event") {
    cudaEvent_t e;
    return cudaEventCreate(&e);
  }
  if (call == "elapsed") {
    cudaEvent_t a, b;
    cudaError_t e = cudaEventCreate(&a);
    if (e == cudaSuccess) e = cudaEventCreate(&b);
    if (e != cudaSuccess) return e;
    float ms = 0;
    return cudaEventElapsedTime(&ms, a, b);
  }
  if (call == "pitch") {
    void* p = nullptr;
    size_t pitch = 0;
    return cudaMallocPitch(&p, &pitch, 100, 10);
  }
  if (call == "limit") {
    size_t v = 0;
    return cudaDeviceGetLimit(&v, cudaLimitStackSize);
  }
  if (call == "pool") {
    cudaMemPool_t pool;
    return cudaDeviceGetDefaultMemPool(&pool, 0);
  }
  if (call == "graph") {
    cudaGraph_t graph;
    cudaGraphNode_t node;
    cudaGraphExec_t exec;
    cudaError_t e = cudaGraphCreate(&graph, 0);
    if (e == cudaSuccess) e = cudaGraphAddEmptyNode(&node, graph, nullptr, 0);
    if (e == cudaSuccess) e = cudaGraphInstantiate(&exec, graph, 0);
    return e;
  }
  if (call == "launch") {
    hostile_kernel<<<1, 32>>>(7, nullptr);
    cudaError_t e = cudaGetLastError();
    return e != cudaSuccess ? e : cudaDeviceSynchronize();
  }
  if (call == "hostfunc") {
    float* d = nullptr;
    cudaError_t e = cudaMalloc(&d, sizeof(float));
    if (e == cudaSuccess) e = cudaLaunchHostFunc(0, HostFunction, nullptr);
    float x = 1;
    // A copy from host memory waits for the host functions launched before.
    if (e == cudaSuccess) e = cudaMemcpy(d, &x, sizeof x, cudaMemcpyHostToDevice);
    return e;
  }
  std::fprintf(stderr, "unknown call %s\n", call.c_str());
  return cudaErrorUnknown;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CALL\n", argv[0]);
    return 2;
  }
  cudaError_t e = Run(argv[1]);
  std::printf("RESULT %s %d %s\n", argv[1], static_cast<int>(e), cudaGetErrorName(e));
  std::fflush(stdout);
  return 0;
}
