// TEST EQUIPMENT, shared by the host library doubles (tests/fake_libs/*):
// how they keep stream order on the fake driver (tests/fake_driver). A
// double's call queues an empty host function on its stream and waits for
// it, then computes on the calling thread (the session's). Queued work is
// what orders the call after the stream's earlier work and, on a blocking
// stream, after the legacy stream's (as a kernel of the real library would
// be), which cuStreamSynchronize alone would not.
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstdlib>

namespace rcuda::fake_libs {

// The fake driver's entry points the doubles need.
struct DriverStreams {
  CUresult (*launch_host_func)(CUstream, CUhostFn, void*) = nullptr;
  CUresult (*stream_synchronize)(CUstream) = nullptr;
  bool ok() const { return launch_host_func != nullptr && stream_synchronize != nullptr; }
};

// Resolves them: the worker loaded the driver (its path in
// RCUDA_TEST_DRIVER, set by rcuda-server --backend test), so dlopen finds
// the same copy, and its cuGetProcAddress_v2 names them. Not ok() when
// they cannot be reached (the caller logs it).
inline DriverStreams ResolveDriverStreams() {
  DriverStreams d;
  const char* path = std::getenv("RCUDA_TEST_DRIVER");
  void* dl = dlopen(path != nullptr && path[0] != '\0' ? path : "libcuda.so.1", RTLD_NOW);
  using GetProc = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
  auto get = dl ? reinterpret_cast<GetProc>(dlsym(dl, "cuGetProcAddress_v2")) : nullptr;
  void* launch = nullptr;
  void* sync = nullptr;
  CUdriverProcAddressQueryResult found{};
  if (get != nullptr &&
      get("cuLaunchHostFunc", &launch, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &found) == CUDA_SUCCESS &&
      get("cuStreamSynchronize", &sync, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &found) == CUDA_SUCCESS) {
    d.launch_host_func = reinterpret_cast<CUresult (*)(CUstream, CUhostFn, void*)>(launch);
    d.stream_synchronize = reinterpret_cast<CUresult (*)(CUstream)>(sync);
  }
  return d;
}

inline void NothingOnTheHost(void*) {}

// Returns once `stream` (null: the legacy stream) reached this call; false
// when the driver refused to queue or wait.
inline bool WaitForStream(const DriverStreams& d, cudaStream_t stream) {
  CUstream s = stream == nullptr ? CU_STREAM_LEGACY : reinterpret_cast<CUstream>(stream);
  return d.launch_host_func(s, NothingOnTheHost, nullptr) == CUDA_SUCCESS && d.stream_synchronize(s) == CUDA_SUCCESS;
}

}  // namespace rcuda::fake_libs
