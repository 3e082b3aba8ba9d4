// TEST EQUIPMENT: the fake CUDA driver's memory calls: allocation, pinned
// host memory, copies and fills. Copies and fills run on the stream's worker;
// a copy that involves pageable host memory completes before the call
// returns, as CUDA does (memory from cuMemHostAlloc is pinned: copies from
// and to it are truly asynchronous, so a caller reusing it too early reads or
// overwrites data that has not been copied yet).
#include <algorithm>

#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/fake_gpu.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

CUresult QueueCopy(std::unique_lock<std::mutex>& lock, Context* ctx, CUstream handle, const StridedCopy& copy,
                   const char* what) {
  Stream* s;
  CUresult r = ResolveStream(ctx, handle, &s);
  if (r != CUDA_SUCCESS || copy.empty()) return r;
  Op op;
  op.what = what;
  op.run = [copy] { return ExecuteCopy(copy); };
  if (TouchesPageableHost(copy)) return RunAndWait(lock, s, std::move(op));
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

CUresult QueueFill(Context* ctx, CUstream handle, CUdeviceptr dst, uint64_t pitch, uint32_t value, unsigned size,
                   uint64_t width, uint64_t height, const char* what) {
  Stream* s;
  CUresult r = ResolveStream(ctx, handle, &s);
  if (r != CUDA_SUCCESS) return r;
  Fill fill;
  if ((r = ResolveFill(dst, pitch, value, size, width, height, &fill)) != CUDA_SUCCESS || fill.empty()) return r;
  Op op;
  op.what = what;
  op.run = [fill] { return ExecuteFill(fill); };
  Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

CUresult AllocateDevice(Context* ctx, uint64_t size, CUdeviceptr* ptr) {
  Device* dev = D().devices[ctx->device].get();
  uint64_t base = 0;
  CUresult r = MapDeviceMemory(dev, size, &base);
  if (r != CUDA_SUCCESS) return r;
  Allocation a;
  a.base = base;
  a.size = size;
  a.kind = Allocation::Kind::kDevice;
  a.device = ctx->device;
  D().device_memory.Add(a);
  *ptr = base;
  return CUDA_SUCCESS;
}

// Every active context's work, for calls that free memory work may still use.
CUresult WaitForAllContexts(std::unique_lock<std::mutex>& lock) {
  CUresult result = CUDA_SUCCESS;
  for (auto& dev : D().devices) {
    Context* ctx = &dev->primary;
    if (!ctx->active) continue;
    CUresult r = WaitAll(lock, ctx, ContextTargets(ctx));
    if (result == CUDA_SUCCESS) result = r;
  }
  return result;
}

}  // namespace

CUresult cuMemAlloc(CUdeviceptr* ptr, size_t size) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!ptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  return AllocateDevice(ctx, size, ptr);
}

CUresult cuMemAllocPitch(CUdeviceptr* ptr, size_t* pitch, size_t width, size_t height, unsigned int element_size) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!ptr || !pitch || width == 0 || height == 0) return CUDA_ERROR_INVALID_VALUE;
  if (element_size != 4 && element_size != 8 && element_size != 16) return CUDA_ERROR_INVALID_VALUE;
  uint64_t p = (width + gpu::kPitchAlignment - 1) / gpu::kPitchAlignment * gpu::kPitchAlignment;
  if (height > UINT64_MAX / p) return CUDA_ERROR_OUT_OF_MEMORY;
  if ((r = AllocateDevice(ctx, p * height, ptr)) != CUDA_SUCCESS) return r;
  *pitch = p;
  return CUDA_SUCCESS;
}

// Frees once the context's work is done, as cudaFree's implicit
// synchronization does; memory of a pool goes back to its pool.
CUresult cuMemFree(CUdeviceptr ptr) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Allocation* a = D().device_memory.AtBase(ptr);
  if (!a || a->kind == Allocation::Kind::kVariable || a->kind == Allocation::Kind::kArray || a->free_pending) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  a->free_pending = true;
  r = WaitAll(lock, ctx, ContextTargets(ctx));
  if ((a = D().device_memory.AtBase(ptr))) ReleaseAllocation(*a);
  return r;
}

CUresult cuMemGetInfo(size_t* free, size_t* total) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
  Device* dev = D().devices[ctx->device].get();
  *total = dev->total_memory;
  *free = dev->total_memory - std::min(dev->used_memory, dev->total_memory);
  return CUDA_SUCCESS;
}

namespace {

// Pinned host memory (cuMemHostAlloc'd or registered), known from now on.
// Lock held.
void AddPinned(uint64_t base, size_t size, Allocation::Kind kind, CUdevice device) {
  Allocation a;
  a.base = base;
  a.size = size;
  a.kind = kind;
  a.device = device;
  D().pinned_memory.Add(a);
}

// Forgets pinned memory once the work queued before is done: copies may
// still read or write it. Lock held (released while waiting).
CUresult ForgetPinned(std::unique_lock<std::mutex>& lock, uint64_t base) {
  D().pinned_memory.AtBase(base)->free_pending = true;
  CUresult r = WaitForAllContexts(lock);
  D().pinned_memory.Remove(base);
  return r;
}

}  // namespace

CUresult cuMemHostAlloc(void** ptr, size_t size, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  constexpr unsigned kKnown = CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED;
  if (!ptr || size == 0 || (flags & ~kKnown)) return CUDA_ERROR_INVALID_VALUE;
  void* p = MapPages(size);
  if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
  AddPinned(reinterpret_cast<uint64_t>(p), size, Allocation::Kind::kPinnedHost, ctx->device);
  *ptr = p;
  return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void* ptr) {
  std::unique_lock lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  uint64_t base = reinterpret_cast<uint64_t>(ptr);
  Allocation* a = D().pinned_memory.AtBase(base);
  if (!a || a->free_pending || a->kind != Allocation::Kind::kPinnedHost) return CUDA_ERROR_INVALID_VALUE;
  const size_t size = a->size;
  CUresult r = ForgetPinned(lock, base);
  UnmapPages(ptr, size);  // no queued copy uses it any more
  return r;
}

// Registered memory is pinned from now on: copies from and to it are
// asynchronous. Its device pointer is its host address (the fake's kernels
// run on the host, in this process).
CUresult cuMemHostRegister(void* ptr, size_t size, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  constexpr unsigned kKnown = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP;
  if (!ptr || size == 0 || (flags & ~kKnown)) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t base = reinterpret_cast<uint64_t>(ptr);
  if (base > UINT64_MAX - size) return CUDA_ERROR_INVALID_VALUE;
  bool overlaps = false;
  D().pinned_memory.ForEach([&](const Allocation& a) {
    if (a.base < base + size && base < a.base + a.size) overlaps = true;
  });
  if (overlaps) return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
  AddPinned(base, size, Allocation::Kind::kRegisteredHost, ctx->device);
  return CUDA_SUCCESS;
}

// Waits for queued work first, as cuMemFreeHost does: copies may still use it.
CUresult cuMemHostUnregister(void* ptr) {
  std::unique_lock lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  const uint64_t base = reinterpret_cast<uint64_t>(ptr);
  Allocation* a = D().pinned_memory.AtBase(base);
  if (!a || a->kind != Allocation::Kind::kRegisteredHost) return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
  if (a->free_pending) return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
  return ForgetPinned(lock, base);
}

CUresult cuMemHostGetDevicePointer(CUdeviceptr* dptr, void* ptr, unsigned int flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!dptr || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t p = reinterpret_cast<uint64_t>(ptr);
  if (!D().pinned_memory.Contains(p, 0)) return CUDA_ERROR_INVALID_VALUE;
  *dptr = p;
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  StridedCopy copy;
  if ((r = ResolveLinearCopy(dst, true, reinterpret_cast<uint64_t>(src), false, bytes, &copy)) != CUDA_SUCCESS) return r;
  return QueueCopy(lock, ctx, stream, copy, "cuMemcpyHtoDAsync");
}

CUresult cuMemcpyDtoHAsync(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  StridedCopy copy;
  if ((r = ResolveLinearCopy(reinterpret_cast<uint64_t>(dst), false, src, true, bytes, &copy)) != CUDA_SUCCESS) return r;
  return QueueCopy(lock, ctx, stream, copy, "cuMemcpyDtoHAsync");
}

// Synchronous, on the legacy stream, as the real one: queued there and
// waited for.
CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t bytes) {
  CUresult r = fake::cuMemcpyDtoHAsync(dst, src, bytes, CU_STREAM_LEGACY);
  return r == CUDA_SUCCESS ? fake::cuStreamSynchronize(CU_STREAM_LEGACY) : r;
}

CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  StridedCopy copy;
  if ((r = ResolveLinearCopy(dst, true, src, true, bytes, &copy)) != CUDA_SUCCESS) return r;
  return QueueCopy(lock, ctx, stream, copy, "cuMemcpyDtoDAsync");
}

CUresult cuMemcpy3DAsync(const CUDA_MEMCPY3D* params, CUstream stream) {
  std::unique_lock lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  StridedCopy copy;
  if ((r = ResolveCopy(*params, &copy)) != CUDA_SUCCESS) return r;
  return QueueCopy(lock, ctx, stream, copy, "cuMemcpy3DAsync");
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  return QueueFill(ctx, stream, dst, count, value, 1, count, 1, "cuMemsetD8Async");
}

CUresult cuMemsetD2D8Async(CUdeviceptr dst, size_t pitch, unsigned char value, size_t width, size_t height,
                           CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  return QueueFill(ctx, stream, dst, pitch, value, 1, width, height, "cuMemsetD2D8Async");
}

CUresult cuMemsetD2D16Async(CUdeviceptr dst, size_t pitch, unsigned short value, size_t width, size_t height,
                            CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  return QueueFill(ctx, stream, dst, pitch, value, 2, width, height, "cuMemsetD2D16Async");
}

CUresult cuMemsetD2D32Async(CUdeviceptr dst, size_t pitch, unsigned int value, size_t width, size_t height,
                            CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  return QueueFill(ctx, stream, dst, pitch, value, 4, width, height, "cuMemsetD2D32Async");
}

}  // namespace fake
