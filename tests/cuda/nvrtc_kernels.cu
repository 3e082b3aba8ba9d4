// nvrtc_kernels: kernels compiled at run time with NVRTC (on the client's
// CPU, as natively) and loaded with the driver API, through rcuda's
// libcuda.so.1: the images NVRTC gives are bare PTX and bare cubins, which
// the client wraps into fatbinaries for the session. Checks, against host
// references (integers: exact on any device):
//   - a kernel compiled to PTX for the device's architecture (JIT-compiled by
//     the worker's driver) and the same compiled to a cubin;
//   - a template instantiated by name expression, launched by its lowered
//     (mangled) name;
//   - a module variable written by a kernel and read by cuModuleGetGlobal;
//   - a source with an error fails to compile, with a log (NVRTC's own).
// The kernels' host implementations for the test backend and the fake
// driver are in tests/kernels/nvrtc_kernels.cc.
#include <cuda.h>
#include <nvrtc.h>

#include <string>
#include <vector>

#include "driver_check.h"
#include "test_util.h"

#define NVRTC_CHECK(call)                                                                  \
  do {                                                                                     \
    nvrtcResult r_ = (call);                                                               \
    if (r_ != NVRTC_SUCCESS) rtest::Fail("%s:%d %s: %s", __FILE__, __LINE__, #call, nvrtcGetErrorString(r_)); \
  } while (0)

namespace {

const char* kSource = R"(
__device__ int nvrtcLaunches;

extern "C" __global__ void nvrtcAxpy(const int* x, int* y, int a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
  if (i == 0) atomicAdd(&nvrtcLaunches, 1);
}

template <int K>
__global__ void nvrtcScale(int* v, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) v[i] *= K;
}
)";

const char* kScaleExpression = "nvrtcScale<7>";

struct Compiled {
  std::string image;         // PTX text or a cubin
  std::string scale_lowered; // the mangled name of nvrtcScale<7>
};

// Compiles kSource for `arch` ("compute_90": PTX; "sm_90": a cubin).
Compiled Compile(const std::string& arch, bool cubin) {
  nvrtcProgram program;
  NVRTC_CHECK(nvrtcCreateProgram(&program, kSource, "nvrtc_kernels.cu", 0, nullptr, nullptr));
  NVRTC_CHECK(nvrtcAddNameExpression(program, kScaleExpression));
  std::string option = "--gpu-architecture=" + arch;
  const char* options[] = {option.c_str()};
  nvrtcResult compiled = nvrtcCompileProgram(program, 1, options);
  if (compiled != NVRTC_SUCCESS) {
    size_t log_size = 0;
    nvrtcGetProgramLogSize(program, &log_size);
    std::string log(log_size, '\0');
    nvrtcGetProgramLog(program, log.data());
    rtest::Fail("nvrtcCompileProgram for %s: %s\n%s", arch.c_str(), nvrtcGetErrorString(compiled), log.c_str());
  }
  Compiled out;
  size_t size = 0;
  if (cubin) {
    NVRTC_CHECK(nvrtcGetCUBINSize(program, &size));
    out.image.resize(size);
    NVRTC_CHECK(nvrtcGetCUBIN(program, out.image.data()));
  } else {
    NVRTC_CHECK(nvrtcGetPTXSize(program, &size));  // with its NUL
    out.image.resize(size);
    NVRTC_CHECK(nvrtcGetPTX(program, out.image.data()));
  }
  const char* lowered = nullptr;
  NVRTC_CHECK(nvrtcGetLoweredName(program, kScaleExpression, &lowered));
  out.scale_lowered = lowered;
  NVRTC_CHECK(nvrtcDestroyProgram(&program));
  return out;
}

// Runs both kernels of `module` on random data and checks them.
void RunModule(CUmodule module, const std::string& scale_name, int launches_before, rtest::Rng& rng,
               rtest::Checksum& sum) {
  CUfunction axpy, scale;
  CU_CHECK(cuModuleGetFunction(&axpy, module, "nvrtcAxpy"));
  CU_CHECK(cuModuleGetFunction(&scale, module, scale_name.c_str()));
  for (int n : {1, 255, 4099}) {
    std::vector<int> x(n), y(n), got(n), want(n);
    rng.FillInts(x, -1000, 1000);
    rng.FillInts(y, -1000, 1000);
    int a = static_cast<int>(rng.Int(-50, 50));
    CUdeviceptr dx, dy;
    CU_CHECK(cuMemAlloc(&dx, n * sizeof(int)));
    CU_CHECK(cuMemAlloc(&dy, n * sizeof(int)));
    CU_CHECK(cuMemcpyHtoD(dx, x.data(), n * sizeof(int)));
    CU_CHECK(cuMemcpyHtoD(dy, y.data(), n * sizeof(int)));
    void* axpy_params[] = {&dx, &dy, &a, &n};
    CU_CHECK(cuLaunchKernel(axpy, rtest::BlocksFor(n, 128), 1, 1, 128, 1, 1, 0, nullptr, axpy_params, nullptr));
    void* scale_params[] = {&dy, &n};
    CU_CHECK(cuLaunchKernel(scale, rtest::BlocksFor(n, 64), 1, 1, 64, 1, 1, 0, nullptr, scale_params, nullptr));
    CU_CHECK(cuMemcpyDtoH(got.data(), dy, n * sizeof(int)));
    for (int i = 0; i < n; ++i) want[i] = (a * x[i] + y[i]) * 7;
    rtest::ExpectEqual(got, want, "nvrtcAxpy then nvrtcScale<7>");
    sum.AddVector(got);
    CU_CHECK(cuMemFree(dx));
    CU_CHECK(cuMemFree(dy));
  }
  CUdeviceptr counter;
  size_t bytes = 0;
  CU_CHECK(cuModuleGetGlobal(&counter, &bytes, module, "nvrtcLaunches"));
  CHECKF(bytes == sizeof(int), "nvrtcLaunches is %zu bytes", bytes);
  int launches = -1;
  CU_CHECK(cuMemcpyDtoH(&launches, counter, sizeof launches));
  CHECKF(launches == launches_before + 3, "nvrtcLaunches is %d after 3 launches", launches);
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("nvrtc_kernels");
  rtest::Checksum sum;
  int nvrtc_major = 0, nvrtc_minor = 0;
  NVRTC_CHECK(nvrtcVersion(&nvrtc_major, &nvrtc_minor));
  CU_CHECK(cuInit(0));
  CUdevice device;
  CU_CHECK(cuDeviceGet(&device, 0));
  int major = 0, minor = 0;
  CU_CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  CU_CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  CUcontext context;
  CU_CHECK(cuDevicePrimaryCtxRetain(&context, device));
  CU_CHECK(cuCtxSetCurrent(context));
  // The device's architecture, or NVRTC's newest when the device is newer.
  int num_archs = 0;
  NVRTC_CHECK(nvrtcGetNumSupportedArchs(&num_archs));
  std::vector<int> archs(num_archs);
  NVRTC_CHECK(nvrtcGetSupportedArchs(archs.data()));
  int arch = major * 10 + minor;
  CHECKF(!archs.empty() && archs.front() <= arch, "NVRTC %d.%d cannot compile for sm_%d", nvrtc_major, nvrtc_minor,
         arch);
  if (arch > archs.back()) arch = archs.back();
  rtest::Note("NVRTC %d.%d, device sm_%d%d, compiling for sm_%d", nvrtc_major, nvrtc_minor, major, minor, arch);

  Compiled ptx = Compile("compute_" + std::to_string(arch), false);
  Compiled cubin = Compile("sm_" + std::to_string(arch), true);
  CHECKF(ptx.scale_lowered == cubin.scale_lowered, "lowered names differ: %s, %s", ptx.scale_lowered.c_str(),
         cubin.scale_lowered.c_str());
  CUmodule from_ptx, from_cubin;
  CU_CHECK(cuModuleLoadDataEx(&from_ptx, ptx.image.data(), 0, nullptr, nullptr));
  CU_CHECK(cuModuleLoadData(&from_cubin, cubin.image.data()));
  RunModule(from_ptx, ptx.scale_lowered, 0, rng, sum);
  RunModule(from_cubin, cubin.scale_lowered, 0, rng, sum);  // its own variable
  CU_CHECK(cuModuleUnload(from_ptx));
  CU_CHECK(cuModuleUnload(from_cubin));

  // A source that does not compile: NVRTC says so on the client.
  nvrtcProgram bad;
  NVRTC_CHECK(nvrtcCreateProgram(&bad, "__global__ void k() { undeclared = 1; }", "bad.cu", 0, nullptr, nullptr));
  nvrtcResult r = nvrtcCompileProgram(bad, 0, nullptr);
  CHECKF(r == NVRTC_ERROR_COMPILATION, "a broken source compiled: %s", nvrtcGetErrorString(r));
  size_t log_size = 0;
  NVRTC_CHECK(nvrtcGetProgramLogSize(bad, &log_size));
  CHECKF(log_size > 1, "no compilation log for a broken source");
  NVRTC_CHECK(nvrtcDestroyProgram(&bad));

  CU_CHECK(cuDevicePrimaryCtxRelease(device));
  return rtest::Pass(sum);
}
