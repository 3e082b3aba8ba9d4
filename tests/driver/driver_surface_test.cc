// What rcuda's libcuda.so.1 answers without a session: the generated stubs
// refuse (CUDA_ERROR_NOT_SUPPORTED, never a silent success), cuGetProcAddress
// serves exactly the forwarded names, the error names are the driver's, and
// nothing runs before cuInit. Exits 1 with a message on the first mismatch.
#include <cuda.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#define EXPECT(cond)                                                    \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                     \
    }                                                                   \
  } while (0)

int main() {
  // Before cuInit.
  CUdeviceptr p = 0;
  EXPECT(cuMemAlloc(&p, 16) == CUDA_ERROR_NOT_INITIALIZED);
  int count = -1;
  EXPECT(cuDeviceGetCount(&count) == CUDA_ERROR_NOT_INITIALIZED);
  EXPECT(cuInit(1) == CUDA_ERROR_INVALID_VALUE);

  // A generated stub, called twice (logged once).
  CUarray plane;
  EXPECT(cuArrayGetPlane(&plane, nullptr, 0) == CUDA_ERROR_NOT_SUPPORTED);
  EXPECT(cuArrayGetPlane(&plane, nullptr, 0) == CUDA_ERROR_NOT_SUPPORTED);
  CUlinkState link;
  EXPECT(cuLinkCreate(0, nullptr, nullptr, &link) == CUDA_ERROR_NOT_SUPPORTED);
  // Forwarded calls refuse before cuInit.
  CUarray array;
  CUDA_ARRAY_DESCRIPTOR desc = {};
  EXPECT(cuArrayCreate(&array, &desc) == CUDA_ERROR_NOT_INITIALIZED);
  CUcontext context;
  EXPECT(cuCtxCreate(&context, nullptr, 0, 0) == CUDA_ERROR_NOT_INITIALIZED);

  // cuGetProcAddress: the served name gives our export, others NOT_FOUND.
  void* self = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  EXPECT(self != nullptr);
  void* fn = nullptr;
  CUdriverProcAddressQueryResult status;
  EXPECT(cuGetProcAddress("cuMemAlloc", &fn, 13000, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_SUCCESS);
  EXPECT(status == CU_GET_PROC_ADDRESS_SUCCESS);
  EXPECT(fn == dlsym(self, "cuMemAlloc_v2"));
  EXPECT(cuGetProcAddress("cuLaunchKernel", &fn, 13000, 0, &status) == CUDA_SUCCESS);
  EXPECT(fn == dlsym(self, "cuLaunchKernel"));
  EXPECT(cuGetProcAddress("cuArrayGetPlane", &fn, 13000, 0, &status) == CUDA_ERROR_NOT_FOUND);
  EXPECT(fn == nullptr && status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
  // An older ABI (cuMemAlloc before 3.2 took 32-bit sizes) or the
  // per-thread-default-stream variant would be other functions.
  EXPECT(cuGetProcAddress("cuMemAlloc", &fn, 2000, 0, &status) == CUDA_ERROR_NOT_FOUND);
  EXPECT(fn == nullptr && status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  EXPECT(cuGetProcAddress("cuLaunchKernel", &fn, 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &status) ==
         CUDA_ERROR_NOT_FOUND);
  EXPECT(cuGetProcAddress("cuInit", &fn, 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &status) ==
         CUDA_SUCCESS);
  EXPECT(cuGetProcAddress("cuNoSuchFunction", &fn, 13000, 0, nullptr) == CUDA_ERROR_NOT_FOUND);

  // Error names and strings, answered locally.
  const char* text = nullptr;
  EXPECT(cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &text) == CUDA_SUCCESS);
  EXPECT(std::strcmp(text, "CUDA_ERROR_INVALID_VALUE") == 0);
  EXPECT(cuGetErrorName(CUDA_ERROR_NOT_SUPPORTED, &text) == CUDA_SUCCESS);
  EXPECT(std::strcmp(text, "CUDA_ERROR_NOT_SUPPORTED") == 0);
  EXPECT(cuGetErrorName(static_cast<CUresult>(123456), &text) == CUDA_ERROR_INVALID_VALUE);
  EXPECT(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &text) == CUDA_SUCCESS && text && *text);
  std::printf("PASS driver_surface_test\n");
  return 0;
}
