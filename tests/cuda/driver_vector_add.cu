// driver_vector_add: a driver-API program (cuInit, cuModuleLoadData,
// cuLaunchKernel ...) that also uses the runtime API, as programs mixing both
// do. Its kernels (driver_kernels.cu) are built apart, as two fatbinaries
// next to the program: one with the sm_XX cubin, one with PTX only (which
// the driver must JIT-compile). Checks, against host references:
//   - a vector add launched with kernelParams, from each module;
//   - a launch with a packed parameter buffer (CU_LAUNCH_PARAM_BUFFER_POINTER);
//   - cuModuleGetGlobal's address and size, written and read back;
//   - one memory map for both APIs: cudaMalloc memory written with
//     cuMemcpyHtoD, cuMemAlloc memory read with cudaMemcpy;
//   - the primary context is the runtime's device; streams and events;
//   - bare images (driver_kernels.cubin and .ptx, as NVRTC gives them), from
//     memory and from files (cuModuleLoad), and images that are neither;
//   - the calls of driver_calls.h (contexts, streams, host and pitched memory,
//     2D and unified copies, function settings, a cooperative launch, a
//     created context and what its destruction releases; CUDA arrays,
//     texture, surface and mipmapped arrays).
#include <cuda.h>

#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "driver_calls.h"
#include "driver_check.h"
#include "test_util.h"

namespace {

// The path of a file next to the program.
std::string PathBeside(const char* name) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) rtest::Fail("readlink /proc/self/exe");
  self[n] = '\0';
  std::string path(self);
  return path.substr(0, path.rfind('/') + 1) + name;
}

std::string ReadBeside(const char* name) {
  std::string path = PathBeside(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) rtest::Fail("cannot read %s", path.c_str());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void VectorAdd(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum, int n) {
  CUfunction add;
  CU_CHECK(cuModuleGetFunction(&add, module, "drvVecAdd"));
  std::vector<float> a(n), b(n), c(n);
  rng.FillFloats(a, -100, 100);
  rng.FillFloats(b, -100, 100);
  CUdeviceptr da, db, dc;
  CU_CHECK(cuMemAlloc(&da, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&db, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&dc, n * sizeof(float)));
  CU_CHECK(cuMemcpyHtoD(da, a.data(), n * sizeof(float)));
  CU_CHECK(cuMemcpyHtoD(db, b.data(), n * sizeof(float)));
  CU_CHECK(cuMemsetD8(dc, 0xff, n * sizeof(float)));
  void* params[] = {&da, &db, &dc, &n};
  CU_CHECK(cuLaunchKernel(add, rtest::BlocksFor(n, 128), 1, 1, 128, 1, 1, 0, nullptr, params, nullptr));
  CU_CHECK(cuCtxSynchronize());
  CU_CHECK(cuMemcpyDtoH(c.data(), dc, n * sizeof(float)));
  for (int i = 0; i < n; ++i) CHECKF(c[i] == a[i] + b[i], "drvVecAdd c[%d] = %g, expected %g", i, c[i], a[i] + b[i]);
  sum.AddVector(c);
  CU_CHECK(cuMemFree(da));
  CU_CHECK(cuMemFree(db));
  CU_CHECK(cuMemFree(dc));
}

// Packed parameters, on a stream, timed by events.
void PackedLaunch(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum) {
  CUfunction f;
  CU_CHECK(cuModuleGetFunction(&f, module, "drvScaleOffset"));
  const int n = 3000;
  std::vector<float> a(n), c(n);
  rng.FillFloats(a, -10, 10);
  CUdeviceptr da, dc;
  CU_CHECK(cuMemAlloc(&da, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&dc, n * sizeof(float)));
  CUstream stream;
  CUevent start, stop;
  CU_CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  CU_CHECK(cuEventCreate(&start, CU_EVENT_DEFAULT));
  CU_CHECK(cuEventCreate(&stop, CU_EVENT_DEFAULT));
  CU_CHECK(cuMemcpyHtoDAsync(da, a.data(), n * sizeof(float), stream));
  struct {
    CUdeviceptr a, c;
    float scale;
    long long offset;  // at 24: aligned to 8
    int n;
  } packed = {da, dc, 1.5f, -7, n};
  size_t size = sizeof packed;
  void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &packed, CU_LAUNCH_PARAM_BUFFER_SIZE, &size, CU_LAUNCH_PARAM_END};
  CU_CHECK(cuEventRecord(start, stream));
  CU_CHECK(cuLaunchKernel(f, rtest::BlocksFor(n, 256), 1, 1, 256, 1, 1, 0, stream, nullptr, extra));
  CU_CHECK(cuEventRecord(stop, stream));
  CU_CHECK(cuMemcpyDtoHAsync(c.data(), dc, n * sizeof(float), stream));
  CU_CHECK(cuStreamSynchronize(stream));
  CU_CHECK(cuEventSynchronize(stop));
  float ms = -1;
  CU_CHECK(cuEventElapsedTime(&ms, start, stop));
  CHECKF(ms >= 0, "elapsed time %g ms", ms);
  for (int i = 0; i < n; ++i) {
    float product = a[i] * 1.5f;
    float expected = product + -7.0f;
    CHECKF(c[i] == expected, "drvScaleOffset c[%d] = %g, expected %g", i, c[i], expected);
  }
  sum.AddVector(c);
  CU_CHECK(cuEventDestroy(start));
  CU_CHECK(cuEventDestroy(stop));
  CU_CHECK(cuStreamDestroy(stream));
  CU_CHECK(cuMemFree(da));
  CU_CHECK(cuMemFree(dc));
}

void ModuleGlobal(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum) {
  CUdeviceptr table;
  size_t bytes = 0;
  CU_CHECK(cuModuleGetGlobal(&table, &bytes, module, "drvTable"));
  CHECKF(bytes == 64 * sizeof(int), "drvTable is %zu bytes", bytes);
  std::vector<int> in(64), out(64);
  rng.FillInts(in, -1000, 1000);
  CU_CHECK(cuMemcpyHtoD(table, in.data(), bytes));
  CU_CHECK(cuMemcpyDtoH(out.data(), table, bytes));
  CHECKF(in == out, "drvTable did not read back");
  sum.AddVector(out);
  CUdeviceptr none;
  CHECKF(cuModuleGetGlobal(&none, &bytes, module, "noSuchGlobal") == CUDA_ERROR_NOT_FOUND, "unknown global found");
  CUfunction nf;
  CHECKF(cuModuleGetFunction(&nf, module, "noSuchKernel") == CUDA_ERROR_NOT_FOUND, "unknown kernel found");
}

// One memory map: each API's allocations are the other's.
void MixedApis(rtest::Rng& rng, rtest::Checksum& sum) {
  const int n = 1000;
  std::vector<int> in(n), out(n);
  rng.FillInts(in, 0, 1 << 30);
  int* runtime_ptr = nullptr;
  CUDA_CHECK(cudaMalloc(&runtime_ptr, n * sizeof(int)));
  CU_CHECK(cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(runtime_ptr), in.data(), n * sizeof(int)));
  CUDA_CHECK(cudaMemcpy(out.data(), runtime_ptr, n * sizeof(int), cudaMemcpyDeviceToHost));
  CHECKF(in == out, "cuMemcpyHtoD into cudaMalloc memory did not arrive");
  CUdeviceptr driver_ptr;
  CU_CHECK(cuMemAlloc(&driver_ptr, n * sizeof(int)));
  CUDA_CHECK(cudaMemcpy(reinterpret_cast<void*>(driver_ptr), runtime_ptr, n * sizeof(int), cudaMemcpyDeviceToDevice));
  std::fill(out.begin(), out.end(), 0);
  CU_CHECK(cuMemcpyDtoH(out.data(), driver_ptr, n * sizeof(int)));
  CHECKF(in == out, "cudaMemcpy into cuMemAlloc memory did not arrive");
  sum.AddVector(out);
  CUDA_CHECK(cudaFree(reinterpret_cast<void*>(driver_ptr)));
  CU_CHECK(cuMemFree(reinterpret_cast<CUdeviceptr>(runtime_ptr)));
}

}  // namespace

// Images that are not fatbinaries, as NVRTC and `nvcc -cubin`/`-ptx` give
// them: a bare cubin and PTX text from memory, the same from files
// (cuModuleLoad), and what is neither.
void BareImages(rtest::Rng& rng, rtest::Checksum& sum) {
  std::string cubin = ReadBeside("driver_kernels.cubin");
  std::string ptx = ReadBeside("driver_kernels.ptx");  // a std::string: NUL-terminated
  CUmodule from_cubin, from_ptx, cubin_file, ptx_file;
  CU_CHECK(cuModuleLoadData(&from_cubin, cubin.data()));
  CU_CHECK(cuModuleLoadData(&from_ptx, ptx.c_str()));
  CU_CHECK(cuModuleLoad(&cubin_file, PathBeside("driver_kernels.cubin").c_str()));
  CU_CHECK(cuModuleLoad(&ptx_file, PathBeside("driver_kernels.ptx").c_str()));
  VectorAdd(from_cubin, rng, sum, 300);
  VectorAdd(from_ptx, rng, sum, 301);
  VectorAdd(cubin_file, rng, sum, 302);
  VectorAdd(ptx_file, rng, sum, 303);
  ModuleGlobal(from_ptx, rng, sum);
  PackedLaunch(ptx_file, rng, sum);
  for (CUmodule m : {from_cubin, from_ptx, cubin_file, ptx_file}) CU_CHECK(cuModuleUnload(m));

  CUmodule none;
  CUresult r = cuModuleLoad(&none, PathBeside("no_such_module.cubin").c_str());
  CHECKF(r == CUDA_ERROR_FILE_NOT_FOUND, "cuModuleLoad of a missing file returned %d", r);
  r = cuModuleLoadData(&none, "neither a cubin nor PTX");
  CHECKF(r == CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData of text that is not PTX returned %d", r);
}

int main() {
  rtest::Rng rng = rtest::Init("driver_vector_add");
  rtest::Checksum sum;
  CU_CHECK(cuInit(0));
  int version = 0, count = 0;
  CU_CHECK(cuDriverGetVersion(&version));
  CHECKF(version >= 13000, "driver version %d", version);
  CU_CHECK(cuDeviceGetCount(&count));
  CHECKF(count >= 1, "%d devices", count);
  CUdevice device;
  CU_CHECK(cuDeviceGet(&device, 0));
  char name[256];
  CU_CHECK(cuDeviceGetName(name, sizeof name, device));
  int major = 0, minor = 0, sms = 0;
  CU_CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  CU_CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  CU_CHECK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device));
  CHECKF(major >= 1 && sms >= 1, "compute capability %d.%d, %d SMs", major, minor, sms);
  size_t total = 0;
  CU_CHECK(cuDeviceTotalMem(&total, device));
  CHECKF(total > 0, "total memory 0");
  CUcontext context, current;
  CU_CHECK(cuDevicePrimaryCtxRetain(&context, device));
  CU_CHECK(cuCtxSetCurrent(context));
  CU_CHECK(cuCtxGetCurrent(&current));
  CHECKF(current == context, "the current context is not the primary context");
  CUdevice context_device = -1;
  CU_CHECK(cuCtxGetDevice(&context_device));
  int runtime_device = -1;
  CUDA_CHECK(cudaGetDevice(&runtime_device));
  CHECKF(context_device == device && runtime_device == device, "context device %d, runtime device %d",
         context_device, runtime_device);
  rtest::Note("%s, sm_%d%d", name, major, minor);

  std::string cubin_fatbin = ReadBeside("driver_kernels.fatbin");
  std::string ptx_fatbin = ReadBeside("driver_kernels_ptx.fatbin");
  CUmodule cubin_module, ptx_module;
  CU_CHECK(cuModuleLoadData(&cubin_module, cubin_fatbin.data()));
  CU_CHECK(cuModuleLoadDataEx(&ptx_module, ptx_fatbin.data(), 0, nullptr, nullptr));
  for (int n : {1, 127, 128, 1000, 4097}) VectorAdd(cubin_module, rng, sum, n);
  VectorAdd(ptx_module, rng, sum, 777);
  PackedLaunch(cubin_module, rng, sum);
  ModuleGlobal(cubin_module, rng, sum);
  CUfunction add;
  CU_CHECK(cuModuleGetFunction(&add, cubin_module, "drvVecAdd"));
  int threads = 0;
  CU_CHECK(cuFuncGetAttribute(&threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, add));
  CHECKF(threads >= 128, "drvVecAdd allows %d threads per block", threads);
  MixedApis(rng, sum);
  BareImages(rng, sum);
  DriverCalls(cubin_module, cubin_fatbin, rng, sum);
  DriverArrays(cubin_module, rng, sum);
  CU_CHECK(cuModuleUnload(ptx_module));
  CU_CHECK(cuModuleUnload(cubin_module));
  CHECKF(cuModuleGetFunction(&add, cubin_module, "drvVecAdd") != CUDA_SUCCESS, "an unloaded module still answers");
  CU_CHECK(cuDevicePrimaryCtxRelease(device));
  return rtest::Pass(sum);
}
