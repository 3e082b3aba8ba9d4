// Part of driver_vector_add: the driver API's calls beyond modules and
// launches, each against what it must do (see driver_calls.h).
#include "driver_calls.h"

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "driver_check.h"

namespace {

std::atomic<int> g_host_calls{0};
void CUDA_CB CountHostCall(void* data) { g_host_calls.fetch_add(*static_cast<int*>(data)); }
void CUDA_CB CountCallback(CUstream, CUresult status, void* data) {
  if (status == CUDA_SUCCESS) g_host_calls.fetch_add(*static_cast<int*>(data));
}

// Contexts: the stack of the calling thread, limits, cache configuration.
void Contexts() {
  CUcontext primary, current, popped;
  CUdevice device;
  CU_CHECK(cuCtxGetDevice(&device));
  CU_CHECK(cuDevicePrimaryCtxRetain(&primary, device));
  CU_CHECK(cuCtxPushCurrent(primary));
  CU_CHECK(cuCtxGetCurrent(&current));
  CHECKF(current == primary, "the pushed context is not current");
  CU_CHECK(cuCtxPopCurrent(&popped));
  CHECKF(popped == primary, "cuCtxPopCurrent popped another context");
  CUresult r = cuCtxPopCurrent(&popped);
  CHECKF(r == CUDA_ERROR_INVALID_CONTEXT, "popping an empty stack returned %d", r);
  r = cuCtxPushCurrent(reinterpret_cast<CUcontext>(&device));
  CHECKF(r == CUDA_ERROR_INVALID_CONTEXT, "pushing a made-up context returned %d", r);

  size_t stack = 0;
  CU_CHECK(cuCtxGetLimit(&stack, CU_LIMIT_STACK_SIZE));
  CHECKF(stack > 0, "a stack size limit of 0");
  CU_CHECK(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, stack));
  CUfunc_cache cache;
  CU_CHECK(cuCtxGetCacheConfig(&cache));
  CU_CHECK(cuCtxSetCacheConfig(cache));
  int least = 1, greatest = 1;
  CU_CHECK(cuCtxGetStreamPriorityRange(&least, &greatest));
  CHECKF(greatest <= least, "priority range [%d, %d]", least, greatest);
}

// Streams and events: priorities, queries, waits, host functions, callbacks.
void StreamsAndEvents(CUfunction add, rtest::Rng& rng, rtest::Checksum& sum) {
  int least = 0, greatest = 0;
  CU_CHECK(cuCtxGetStreamPriorityRange(&least, &greatest));
  CUstream first, second;
  CU_CHECK(cuStreamCreateWithPriority(&first, CU_STREAM_NON_BLOCKING, greatest));
  CU_CHECK(cuStreamCreate(&second, CU_STREAM_NON_BLOCKING));
  CUevent done;
  CU_CHECK(cuEventCreate(&done, CU_EVENT_DEFAULT));
  int n = 5000;
  std::vector<float> a(n), b(n), got(n);
  rng.FillFloats(a, -10, 10);
  rng.FillFloats(b, -10, 10);
  CUdeviceptr da, db, dc, dd;
  for (CUdeviceptr* p : {&da, &db, &dc, &dd}) CU_CHECK(cuMemAlloc(p, n * sizeof(float)));
  CU_CHECK(cuMemcpyHtoDAsync(da, a.data(), n * sizeof(float), first));
  CU_CHECK(cuMemcpyHtoDAsync(db, b.data(), n * sizeof(float), first));
  void* params[] = {&da, &db, &dc, &n};
  CU_CHECK(cuLaunchKernel(add, rtest::BlocksFor(n, 256), 1, 1, 256, 1, 1, 0, first, params, nullptr));
  CU_CHECK(cuEventRecord(done, first));
  // The second stream waits for the first: c + b, then into d.
  CU_CHECK(cuStreamWaitEvent(second, done, 0));
  void* params2[] = {&dc, &db, &dd, &n};
  CU_CHECK(cuLaunchKernel(add, rtest::BlocksFor(n, 256), 1, 1, 256, 1, 1, 0, second, params2, nullptr));
  int one = 1, ten = 10;
  g_host_calls = 0;
  CU_CHECK(cuLaunchHostFunc(second, CountHostCall, &one));
  CU_CHECK(cuStreamAddCallback(second, CountCallback, &ten, 0));
  CUresult r = cuStreamAddCallback(second, CountCallback, &ten, 1);
  CHECKF(r == CUDA_ERROR_INVALID_VALUE, "cuStreamAddCallback with flags 1 returned %d", r);
  CU_CHECK(cuStreamSynchronize(second));
  CU_CHECK(cuStreamQuery(second));
  CU_CHECK(cuEventQuery(done));
  CHECKF(g_host_calls == 11, "host function and callback ran %d (1 + 10 expected)", g_host_calls.load());
  CU_CHECK(cuMemcpyDtoH(got.data(), dd, n * sizeof(float)));
  std::vector<float> want(n);
  for (int i = 0; i < n; ++i) want[i] = (a[i] + b[i]) + b[i];
  rtest::ExpectEqual(got, want, "two launches ordered across streams by an event");
  sum.AddVector(got);
  for (CUdeviceptr p : {da, db, dc, dd}) CU_CHECK(cuMemFree(p));
  CU_CHECK(cuEventDestroy(done));
  CU_CHECK(cuStreamDestroy(first));
  CU_CHECK(cuStreamDestroy(second));
}

// Host memory, memory information, pitched memory with 2D copies, and
// copies between unified pointers.
void Memory(CUfunction add, rtest::Rng& rng, rtest::Checksum& sum) {
  size_t free_bytes = 0, total_bytes = 0;
  CU_CHECK(cuMemGetInfo(&free_bytes, &total_bytes));
  CHECKF(total_bytes > 0 && free_bytes <= total_bytes, "free %zu of %zu bytes", free_bytes, total_bytes);

  const int width = 37, height = 11;  // floats per row, rows
  float* host = nullptr;
  CU_CHECK(cuMemAllocHost(reinterpret_cast<void**>(&host), width * height * sizeof(float)));
  std::vector<float> values(width * height);
  rng.FillFloats(values, -5, 5);
  std::memcpy(host, values.data(), values.size() * sizeof(float));
  CUdeviceptr pitched;
  size_t pitch = 0;
  CU_CHECK(cuMemAllocPitch(&pitched, &pitch, width * sizeof(float), height, 4));
  CHECKF(pitch >= width * sizeof(float), "pitch %zu for rows of %zu bytes", pitch, width * sizeof(float));
  CUDA_MEMCPY2D up{};
  up.srcMemoryType = CU_MEMORYTYPE_HOST;
  up.srcHost = host;
  up.srcPitch = width * sizeof(float);
  up.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  up.dstDevice = pitched;
  up.dstPitch = pitch;
  up.WidthInBytes = width * sizeof(float);
  up.Height = height;
  CU_CHECK(cuMemcpy2D(&up));
  // Back: rows 2..height-1, columns 3.. of each, into a packed buffer.
  const int x0 = 3, y0 = 2, w = width - x0, h = height - y0;
  float* back = nullptr;
  CU_CHECK(cuMemHostAlloc(reinterpret_cast<void**>(&back), w * h * sizeof(float), CU_MEMHOSTALLOC_PORTABLE));
  CUDA_MEMCPY2D down{};
  down.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  down.srcDevice = pitched;
  down.srcPitch = pitch;
  down.srcXInBytes = x0 * sizeof(float);
  down.srcY = y0;
  down.dstMemoryType = CU_MEMORYTYPE_HOST;
  down.dstHost = back;
  down.dstPitch = w * sizeof(float);
  down.WidthInBytes = w * sizeof(float);
  down.Height = h;
  CU_CHECK(cuMemcpy2DAsync(&down, nullptr));
  CU_CHECK(cuCtxSynchronize());
  for (int y = 0; y < h; ++y) {
    rtest::ExpectEqual(back + y * w, values.data() + (y + y0) * width + x0, w, "a 2D copy's row");
  }
  sum.Add(back, w * h * sizeof(float));

  // Unified copies: host to device, device to device, device to host.
  const int n = width * height;
  CUdeviceptr d1, d2;
  CU_CHECK(cuMemAlloc(&d1, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&d2, n * sizeof(float)));
  CU_CHECK(cuMemcpy(d1, reinterpret_cast<CUdeviceptr>(host), n * sizeof(float)));
  CU_CHECK(cuMemcpyAsync(d2, d1, n * sizeof(float), nullptr));
  std::vector<float> got(n);
  CU_CHECK(cuMemcpy(reinterpret_cast<CUdeviceptr>(got.data()), d2, n * sizeof(float)));
  rtest::ExpectEqual(got.data(), values.data(), n, "unified copies there and back");

  // Mapped host memory: a device address exists over shared memory only.
  float* mapped = nullptr;
  CU_CHECK(cuMemHostAlloc(reinterpret_cast<void**>(&mapped), n * sizeof(float), CU_MEMHOSTALLOC_DEVICEMAP));
  CUdeviceptr through = 0;
  CUresult r = cuMemHostGetDevicePointer(&through, mapped, 0);
  if (r == CUDA_SUCCESS) {
    int count = n;
    void* params[] = {&d1, &d2, &through, &count};
    CU_CHECK(cuLaunchKernel(add, rtest::BlocksFor(n, 128), 1, 1, 128, 1, 1, 0, nullptr, params, nullptr));
    CU_CHECK(cuCtxSynchronize());
    std::vector<float> want(n);
    for (int i = 0; i < n; ++i) want[i] = values[i] + values[i];
    rtest::ExpectEqual(mapped, want.data(), n, "a kernel writing mapped host memory");
  } else {
    CHECKF(r == CUDA_ERROR_NOT_SUPPORTED, "cuMemHostGetDevicePointer returned %d", r);
    rtest::Note("cuMemHostGetDevicePointer refused (no shared memory session)");
  }
  CU_CHECK(cuMemFreeHost(mapped));
  CU_CHECK(cuMemFree(d1));
  CU_CHECK(cuMemFree(d2));
  CU_CHECK(cuMemFree(pitched));
  CU_CHECK(cuMemFreeHost(back));
  CU_CHECK(cuMemFreeHost(host));
}

// Function settings, occupancy and a cooperative launch.
void Functions(CUfunction add, rtest::Rng& rng, rtest::Checksum& sum) {
  CU_CHECK(cuFuncSetCacheConfig(add, CU_FUNC_CACHE_PREFER_L1));
  CU_CHECK(cuFuncSetAttribute(add, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 1024));
  int blocks = 0;
  CU_CHECK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, add, 128, 0));
  CHECKF(blocks >= 1, "%d blocks of 128 threads fit a multiprocessor", blocks);
  int n = 256;
  std::vector<float> a(n), b(n), got(n), want(n);
  rng.FillFloats(a, -1, 1);
  rng.FillFloats(b, -1, 1);
  CUdeviceptr da, db, dc;
  for (CUdeviceptr* p : {&da, &db, &dc}) CU_CHECK(cuMemAlloc(p, n * sizeof(float)));
  CU_CHECK(cuMemcpyHtoD(da, a.data(), n * sizeof(float)));
  CU_CHECK(cuMemcpyHtoD(db, b.data(), n * sizeof(float)));
  void* params[] = {&da, &db, &dc, &n};
  CU_CHECK(cuLaunchCooperativeKernel(add, 2, 1, 1, 128, 1, 1, 0, nullptr, params));
  CU_CHECK(cuMemcpyDtoH(got.data(), dc, n * sizeof(float)));
  for (int i = 0; i < n; ++i) want[i] = a[i] + b[i];
  rtest::ExpectEqual(got, want, "a cooperative launch");
  sum.AddVector(got);
  for (CUdeviceptr p : {da, db, dc}) CU_CHECK(cuMemFree(p));
  CUresult r = cuFuncSetAttribute(add, CU_FUNC_ATTRIBUTE_NUM_REGS, 1);
  CHECKF(r == CUDA_ERROR_NOT_SUPPORTED, "setting a read-only attribute returned %d", r);
}

// A created context: current once created, with memory, a module, a
// stream and an event of its own, all released by cuCtxDestroy, after
// which the primary context is current again.
void CreatedContext(const std::string& image, rtest::Rng& rng, rtest::Checksum& sum) {
  CUdevice device;
  CU_CHECK(cuCtxGetDevice(&device));
  CUcontext primary, context, current;
  CU_CHECK(cuCtxGetCurrent(&primary));
  CU_CHECK(cuCtxCreate(&context, nullptr, CU_CTX_SCHED_BLOCKING_SYNC, device));
  CU_CHECK(cuCtxGetCurrent(&current));
  CHECKF(current == context && context != primary, "the created context is not current");
  CUdevice context_device = -1;
  CU_CHECK(cuCtxGetDevice(&context_device));
  CHECKF(context_device == device, "the created context is on device %d, not %d", context_device, device);

  CUmodule module;
  CU_CHECK(cuModuleLoadData(&module, image.data()));
  CUfunction add;
  CU_CHECK(cuModuleGetFunction(&add, module, "drvVecAdd"));
  CUstream stream;
  CU_CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  CUevent event;
  CU_CHECK(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING));
  int n = 999;
  std::vector<float> a(n), got(n), want(n);
  rng.FillFloats(a, -3, 3);
  CUdeviceptr da, db, freed_early;
  CU_CHECK(cuMemAlloc(&da, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&db, n * sizeof(float)));
  CU_CHECK(cuMemAlloc(&freed_early, 64));
  CU_CHECK(cuMemFree(freed_early));  // freed by the program: not again by cuCtxDestroy
  CU_CHECK(cuMemcpyHtoDAsync(da, a.data(), n * sizeof(float), stream));
  void* params[] = {&da, &da, &db, &n};
  CU_CHECK(cuLaunchKernel(add, rtest::BlocksFor(n, 128), 1, 1, 128, 1, 1, 0, stream, params, nullptr));
  CU_CHECK(cuEventRecord(event, stream));
  CU_CHECK(cuEventSynchronize(event));
  CU_CHECK(cuMemcpyDtoH(got.data(), db, n * sizeof(float)));
  for (int i = 0; i < n; ++i) want[i] = a[i] + a[i];
  rtest::ExpectEqual(got, want, "a launch in a created context");
  sum.AddVector(got);

  CU_CHECK(cuCtxDestroy(context));
  CU_CHECK(cuCtxGetCurrent(&current));
  CHECKF(current == primary, "after cuCtxDestroy the primary context is not current");
  CUresult r = cuMemFree(da);
  CHECKF(r != CUDA_SUCCESS, "memory of a destroyed context could be freed again");
  r = cuModuleGetFunction(&add, module, "drvVecAdd");
  CHECKF(r == CUDA_ERROR_INVALID_HANDLE, "a destroyed context's module answered %d", r);
  r = cuCtxDestroy(context);
  CHECKF(r == CUDA_ERROR_INVALID_CONTEXT, "destroying a context twice returned %d", r);
  r = cuCtxDestroy(primary);
  CHECKF(r == CUDA_ERROR_INVALID_CONTEXT, "cuCtxDestroy of the primary context returned %d", r);
  r = cuCtxPushCurrent(context);
  CHECKF(r == CUDA_ERROR_INVALID_CONTEXT, "pushing a destroyed context returned %d", r);
  r = cuCtxCreate(&context, nullptr, 0x100, device);
  CHECKF(r == CUDA_ERROR_NOT_SUPPORTED, "cuCtxCreate with unknown flags returned %d", r);
}

}  // namespace

void DriverCalls(CUmodule module, const std::string& image, rtest::Rng& rng, rtest::Checksum& sum) {
  CUfunction add;
  CU_CHECK(cuModuleGetFunction(&add, module, "drvVecAdd"));
  Contexts();
  StreamsAndEvents(add, rng, sum);
  Memory(add, rng, sum);
  Functions(add, rng, sum);
  CreatedContext(image, rng, sum);
}
