// Device memory (on the server), host memory (stays on the client), copies,
// memsets, module variables (symbols), memory pools and pointer queries.
#include <cstring>
#include <map>
#include <mutex>

#include "client/api_common.h"
#include "client/copy.h"
#include "client/graph.h"
#include "client/graph_memory.h"
#include "client/objects.h"
#include "client/registry.h"

using namespace rcuda::client;

namespace {

uint64_t Addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

// Resolves a symbol (the host shadow of a __device__/__constant__ variable)
// to its address and size on the current device.
cudaError_t ResolveSymbol(const void* symbol, uint64_t* address, uint64_t* size) {
  Variable* v = Registry::Get().FindVariable(symbol);
  if (!v) return cudaErrorInvalidSymbol;
  cudaError_t error = cudaSuccess;
  Session* session = CurrentSession(&error);
  if (!session) return error;
  rcuda::VariableDescription rv;
  rcuda::Status s = session->GetVariable(*v, &rv);
  if (!s.ok()) return static_cast<cudaError_t>(s.ToCudaError());
  *address = rv.address;
  *size = rv.size;
  return cudaSuccess;
}

cudaError_t ToSymbol(const void* symbol, const void* src, size_t count, size_t offset, cudaMemcpyKind kind,
                     cudaStream_t stream, bool per_thread, bool async) {
  if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault) {
    return Fail(cudaErrorInvalidMemcpyDirection);
  }
  uint64_t address, size;
  cudaError_t e = ResolveSymbol(symbol, &address, &size);
  if (e != cudaSuccess) return Fail(e);
  if (offset > size || count > size - offset) return Fail(cudaErrorInvalidValue);
  return CopyMemory(Linear(reinterpret_cast<void*>(address + offset), src, count, kind, stream, per_thread, async));
}

cudaError_t FromSymbol(void* dst, const void* symbol, size_t count, size_t offset, cudaMemcpyKind kind,
                       cudaStream_t stream, bool per_thread, bool async) {
  if (kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault) {
    return Fail(cudaErrorInvalidMemcpyDirection);
  }
  uint64_t address, size;
  cudaError_t e = ResolveSymbol(symbol, &address, &size);
  if (e != cudaSuccess) return Fail(e);
  if (offset > size || count > size - offset) return Fail(cudaErrorInvalidValue);
  return CopyMemory(
      Linear(dst, reinterpret_cast<const void*>(address + offset), count, kind, stream, per_thread, async));
}

CopySpec Pitched2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                   cudaMemcpyKind kind, cudaStream_t stream, bool per_thread, bool async) {
  CopySpec c;
  c.dst = dst;
  c.dst_pitch = dpitch;
  c.dst_slice = height;
  c.src = src;
  c.src_pitch = spitch;
  c.src_slice = height;
  c.width = width;
  c.height = height;
  c.kind = kind;
  c.stream = stream;
  c.per_thread = per_thread;
  c.async = async;
  return c;
}

cudaError_t CopyParms3D(const cudaMemcpy3DParms* p, cudaStream_t stream, bool per_thread, bool async) {
  if (!p) return Fail(cudaErrorInvalidValue);
  if (p->srcArray || p->dstArray) return CopyArrayParms3D(p, stream, per_thread, async);
  auto at = [](const cudaPitchedPtr& ptr, const cudaPos& pos) {
    return static_cast<char*>(ptr.ptr) + (pos.z * ptr.ysize + pos.y) * ptr.pitch + pos.x;
  };
  CopySpec c;
  c.dst = at(p->dstPtr, p->dstPos);
  c.dst_pitch = p->dstPtr.pitch;
  c.dst_slice = p->dstPtr.ysize;
  c.src = at(p->srcPtr, p->srcPos);
  c.src_pitch = p->srcPtr.pitch;
  c.src_slice = p->srcPtr.ysize;
  c.width = p->extent.width;
  c.height = p->extent.height;
  c.depth = p->extent.depth;
  std::memcpy(&c.kind, &p->kind, sizeof c.kind);  // any int: CopyMemory checks it
  c.stream = stream;
  c.per_thread = per_thread;
  c.async = async;
  return CopyMemory(c);
}

cudaError_t SetPitched3D(cudaPitchedPtr ptr, int value, cudaExtent extent, cudaStream_t stream, bool per_thread) {
  SetSpec m;
  m.dst = ptr.ptr;
  m.pitch = ptr.pitch;
  m.slice = ptr.ysize;
  m.value = value;
  m.width = extent.width;
  m.height = extent.height;
  m.depth = extent.depth;
  m.stream = stream;
  m.per_thread = per_thread;
  return SetMemory(m);
}

cudaError_t Set2D(void* ptr, size_t pitch, int value, size_t width, size_t height, cudaStream_t stream,
                  bool per_thread) {
  SetSpec m;
  m.dst = ptr;
  m.pitch = pitch;
  m.slice = height;
  m.value = value;
  m.width = width;
  m.height = height;
  m.stream = stream;
  m.per_thread = per_thread;
  return SetMemory(m);
}

// ---- Memory pools: client handles for the server's pools -------------------

struct PoolObject {
  Session* session;
  int64_t remote;
};

std::mutex pools_mu;
std::map<std::pair<Session*, int64_t>, PoolObject*>& Pools() {
  static auto* pools = new std::map<std::pair<Session*, int64_t>, PoolObject*>;
  return *pools;
}

cudaMemPool_t PoolHandle(Session* session, int64_t remote) {
  std::lock_guard lock(pools_mu);
  PoolObject*& p = Pools()[{session, remote}];
  if (!p) p = new PoolObject{session, remote};
  return reinterpret_cast<cudaMemPool_t>(p);
}

PoolObject* FindPool(cudaMemPool_t pool) {
  std::lock_guard lock(pools_mu);
  for (auto& [key, p] : Pools())
    if (reinterpret_cast<cudaMemPool_t>(p) == pool) return p;
  return nullptr;
}

cudaError_t MallocAsync(void** ptr, size_t size, cudaMemPool_t pool, cudaStream_t stream, bool per_thread) {
  if (!ptr) return Fail(cudaErrorInvalidValue);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) {
    // A captured allocation becomes an allocation node of the capture's
    // graph; from a pool other than the device's: not carried.
    if (pool) return Fail(cudaErrorStreamCaptureUnsupported);
    uint64_t p = 0;
    if ((e = GraphMemory::Get().Allocate(ref.session, size, &p)) != cudaSuccess) return Fail(e);
    GraphNodeObject* node = CaptureNode(ref.object, cudaGraphNodeTypeMemAlloc);
    node->graph_memory = p;
    node->alloc_params.poolProps.allocType = cudaMemAllocationTypePinned;
    node->alloc_params.poolProps.location = {cudaMemLocationTypeDevice, ref.session->device()};
    node->alloc_params.bytesize = size;
    node->alloc_params.dptr = reinterpret_cast<void*>(p);
    *ptr = node->alloc_params.dptr;
    return cudaSuccess;
  }
  int64_t remote_pool = 0;
  if (pool) {
    PoolObject* p = FindPool(pool);
    if (!p || p->session != ref.session) return Fail(cudaErrorInvalidValue);
    remote_pool = p->remote;
  }
  uint64_t p = 0;
  rcuda::Status s = ref.session->MallocAsync(static_cast<int64_t>(size), ref.remote, remote_pool, &p);
  if (!s.ok()) return Return(s);
  *ptr = reinterpret_cast<void*>(p);
  return cudaSuccess;
}

cudaError_t FreeAsync(void* ptr, cudaStream_t stream, bool per_thread) {
  if (!ptr) return cudaSuccess;
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  const bool graph_memory = GraphMemory::Get().IsAllocation(Addr(ptr));
  if (ref.object && ref.object->capture) {
    // A captured free of graph memory becomes a free node; of other memory:
    // not carried.
    if (!graph_memory) return Fail(cudaErrorStreamCaptureUnsupported);
    CaptureNode(ref.object, cudaGraphNodeTypeMemFree)->graph_memory = Addr(ptr);
    return cudaSuccess;
  }
  if (graph_memory) {
    // The memory stays until nothing can use it (client/graph_memory.h),
    // so freeing it now is as good as freeing it in the stream's order.
    GraphMemory::Get().ProgramFree(Addr(ptr), &e);
    return Fail(e);
  }
  Session* owner = Runtime::Get().SessionOwning(ptr, 0);
  if (!owner || owner != ref.session) return Fail(cudaErrorInvalidValue);
  return Return(owner->FreeAsync(Addr(ptr), ref.remote));
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaMalloc(void** dev_ptr, size_t size) {
  if (!dev_ptr) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  uint64_t ptr = 0;
  rcuda::Status s = session->MemAlloc(size, &ptr);
  if (!s.ok()) return Return(s);
  *dev_ptr = reinterpret_cast<void*>(ptr);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaFree(void* dev_ptr) {
  RCUDA_CURRENT_SESSION(session);
  cudaError_t graph_error;
  if (dev_ptr && GraphMemory::Get().ProgramFree(Addr(dev_ptr), &graph_error)) return Fail(graph_error);
  if (dev_ptr) {
    // Memory of another device is freed on its own session, as CUDA allows.
    Session* owner = Runtime::Get().SessionOwning(dev_ptr, 0);
    if (owner) session = owner;
  }
  return Return(session->MemFree(Addr(dev_ptr)));
}

RCUDA_EXPORT cudaError_t cudaMallocPitch(void** dev_ptr, size_t* pitch, size_t width, size_t height) {
  if (!dev_ptr || !pitch) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  uint64_t ptr = 0, p = 0;
  rcuda::Status s = session->MallocPitch(width, height, &ptr, &p);
  if (!s.ok()) return Return(s);
  *dev_ptr = reinterpret_cast<void*>(ptr);
  *pitch = p;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMalloc3D(cudaPitchedPtr* pitched, cudaExtent extent) {
  if (!pitched) return Fail(cudaErrorInvalidValue);
  void* ptr = nullptr;
  size_t pitch = 0;
  cudaError_t e = cudaMallocPitch(&ptr, &pitch, extent.width, extent.height * extent.depth);
  if (e != cudaSuccess) return e;
  *pitched = cudaPitchedPtr{ptr, pitch, extent.width, extent.height};
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMallocHost(void** ptr, size_t size) {
  if (!ptr) return Fail(cudaErrorInvalidValue);
  cudaError_t e = cudaSuccess;
  *ptr = Runtime::Get().AllocateHost(size, cudaHostAllocDefault, &e);
  return *ptr ? cudaSuccess : Fail(e);
}

RCUDA_EXPORT cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int flags) {
  if (!ptr) return Fail(cudaErrorInvalidValue);
  if (flags & ~(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined)) {
    return Fail(cudaErrorInvalidValue);
  }
  cudaError_t e = cudaSuccess;
  *ptr = Runtime::Get().AllocateHost(size, flags, &e);
  return *ptr ? cudaSuccess : Fail(e);
}

RCUDA_EXPORT cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  cudaError_t e = Runtime::Get().FreeHost(ptr);
  return e == cudaSuccess ? cudaSuccess : Fail(e);
}

// Mapped pinned memory: the GPU's address of cudaMallocHost/cudaHostAlloc
// memory, which only a host segment has (a session over shared memory: the
// worker maps the very pages). Elsewhere, and for cudaHostRegister'ed
// memory, cudaErrorNotSupported.
RCUDA_EXPORT cudaError_t cudaHostGetDevicePointer(void** device, void* host, unsigned int flags) {
  if (!device || !host || flags != 0) return Fail(cudaErrorInvalidValue);
  cudaError_t e = Runtime::Get().DevicePointer(host, device);
  return e == cudaSuccess ? cudaSuccess : Fail(e);
}

// Registering host memory is honoured: it makes asynchronous copies from
// and to it asynchronous, as pinning does. The program's own pages cannot be
// shared with the worker (they are no memfd's), so they stay staged and have
// no device address (cudaHostGetDevicePointer), as managed memory has none.
RCUDA_EXPORT cudaError_t cudaHostRegister(void* ptr, size_t size, unsigned int flags) {
  if (!ptr || size == 0) return Fail(cudaErrorInvalidValue);
  if (flags & (cudaHostRegisterIoMemory | cudaHostRegisterReadOnly)) return Fail(cudaErrorNotSupported);
  if (!Runtime::Get().RegisterHost(ptr, size, flags)) return Fail(cudaErrorHostMemoryAlreadyRegistered);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaHostUnregister(void* ptr) {
  return Runtime::Get().UnregisterHost(ptr) ? cudaSuccess : Fail(cudaErrorHostMemoryNotRegistered);
}

RCUDA_EXPORT cudaError_t cudaHostGetFlags(unsigned int* flags, void* host) {
  if (!flags) return Fail(cudaErrorInvalidValue);
  if (!Runtime::Get().IsPinned(host, 1, nullptr, flags)) return Fail(cudaErrorInvalidValue);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  if (!attributes) return Fail(cudaErrorInvalidValue);
  std::memset(attributes, 0, sizeof *attributes);
  Runtime& rt = Runtime::Get();
  if (Session* s = rt.SessionOwning(ptr, 0)) {
    attributes->type = cudaMemoryTypeDevice;
    attributes->device = s->device();
    attributes->devicePointer = const_cast<void*>(ptr);
    return cudaSuccess;
  }
  if (rt.IsPinned(ptr, 1)) {
    attributes->type = cudaMemoryTypeHost;
    attributes->device = rt.current_device();
    attributes->hostPointer = const_cast<void*>(ptr);
    return cudaSuccess;
  }
  attributes->type = cudaMemoryTypeUnregistered;
  attributes->device = -2;
  return cudaSuccess;
}

}  // extern "C"

// ---- Copies and memsets ---------------------------------------------------

cudaError_t exports::cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, bool per_thread) {
  return CopyMemory(Linear(dst, src, count, kind, nullptr, per_thread, false));
}

cudaError_t exports::cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream,
                                     bool per_thread) {
  return CopyMemory(Linear(dst, src, count, kind, stream, per_thread, true));
}

cudaError_t exports::cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                                  cudaMemcpyKind kind, bool per_thread) {
  return CopyMemory(Pitched2D(dst, dpitch, src, spitch, width, height, kind, nullptr, per_thread, false));
}

cudaError_t exports::cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                       size_t height, cudaMemcpyKind kind, cudaStream_t stream, bool per_thread) {
  return CopyMemory(Pitched2D(dst, dpitch, src, spitch, width, height, kind, stream, per_thread, true));
}

cudaError_t exports::cudaMemcpy3D(const cudaMemcpy3DParms* p, bool per_thread) {
  return CopyParms3D(p, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpy3DAsync(const cudaMemcpy3DParms* p, cudaStream_t stream, bool per_thread) {
  return CopyParms3D(p, stream, per_thread, true);
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t count) {
  Runtime& rt = Runtime::Get();
  if (!rt.session(dst_device) || !rt.session(src_device)) return Fail(cudaErrorInvalidDevice);
  return CopyMemory(Linear(dst, src, count, cudaMemcpyDeviceToDevice, nullptr, false, false));
}
RCUDA_EXPORT cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t count,
                                             cudaStream_t stream) {
  Runtime& rt = Runtime::Get();
  if (!rt.session(dst_device) || !rt.session(src_device)) return Fail(cudaErrorInvalidDevice);
  return CopyMemory(Linear(dst, src, count, cudaMemcpyDeviceToDevice, stream, false, true));
}

}  // extern "C"

cudaError_t exports::cudaMemset(void* dev_ptr, int value, size_t count, bool per_thread) {
  return Set2D(dev_ptr, count, value, count, 1, nullptr, per_thread);
}

cudaError_t exports::cudaMemsetAsync(void* dev_ptr, int value, size_t count, cudaStream_t stream, bool per_thread) {
  return Set2D(dev_ptr, count, value, count, 1, stream, per_thread);
}

cudaError_t exports::cudaMemset2D(void* dev_ptr, size_t pitch, int value, size_t width, size_t height,
                                  bool per_thread) {
  return Set2D(dev_ptr, pitch, value, width, height, nullptr, per_thread);
}

cudaError_t exports::cudaMemset2DAsync(void* dev_ptr, size_t pitch, int value, size_t width, size_t height,
                                       cudaStream_t stream, bool per_thread) {
  return Set2D(dev_ptr, pitch, value, width, height, stream, per_thread);
}

cudaError_t exports::cudaMemset3D(cudaPitchedPtr ptr, int value, cudaExtent extent, bool per_thread) {
  return SetPitched3D(ptr, value, extent, nullptr, per_thread);
}

cudaError_t exports::cudaMemset3DAsync(cudaPitchedPtr ptr, int value, cudaExtent extent, cudaStream_t stream,
                                       bool per_thread) {
  return SetPitched3D(ptr, value, extent, stream, per_thread);
}

extern "C" {

// ---- Symbols ---------------------------------------------------------------

RCUDA_EXPORT cudaError_t cudaGetSymbolAddress(void** dev_ptr, const void* symbol) {
  if (!dev_ptr) return Fail(cudaErrorInvalidValue);
  uint64_t address, size;
  cudaError_t e = ResolveSymbol(symbol, &address, &size);
  if (e != cudaSuccess) return Fail(e);
  *dev_ptr = reinterpret_cast<void*>(address);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetSymbolSize(size_t* size, const void* symbol) {
  if (!size) return Fail(cudaErrorInvalidValue);
  Variable* v = Registry::Get().FindVariable(symbol);
  if (!v) return Fail(cudaErrorInvalidSymbol);
  *size = v->size;
  return cudaSuccess;
}

}  // extern "C"

cudaError_t exports::cudaMemcpyToSymbol(const void* symbol, const void* src, size_t count, size_t offset,
                                        cudaMemcpyKind kind, bool per_thread) {
  return ToSymbol(symbol, src, count, offset, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpyToSymbolAsync(const void* symbol, const void* src, size_t count, size_t offset,
                                             cudaMemcpyKind kind, cudaStream_t stream, bool per_thread) {
  return ToSymbol(symbol, src, count, offset, kind, stream, per_thread, true);
}

cudaError_t exports::cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t count, size_t offset,
                                          cudaMemcpyKind kind, bool per_thread) {
  return FromSymbol(dst, symbol, count, offset, kind, nullptr, per_thread, false);
}

cudaError_t exports::cudaMemcpyFromSymbolAsync(void* dst, const void* symbol, size_t count, size_t offset,
                                               cudaMemcpyKind kind, cudaStream_t stream, bool per_thread) {
  return FromSymbol(dst, symbol, count, offset, kind, stream, per_thread, true);
}

// ---- Stream-ordered allocation and memory pools ---------------------------

cudaError_t exports::cudaMallocAsync(void** ptr, size_t size, cudaStream_t stream, bool per_thread) {
  return MallocAsync(ptr, size, nullptr, stream, per_thread);
}

cudaError_t exports::cudaMallocFromPoolAsync(void** ptr, size_t size, cudaMemPool_t pool, cudaStream_t stream,
                                             bool per_thread) {
  if (!pool) return Fail(cudaErrorInvalidValue);
  return MallocAsync(ptr, size, pool, stream, per_thread);
}

cudaError_t exports::cudaFreeAsync(void* ptr, cudaStream_t stream, bool per_thread) {
  return FreeAsync(ptr, stream, per_thread);
}

extern "C" {

static cudaError_t DevicePool(cudaMemPool_t* pool, int device, bool current) {
  if (!pool) return Fail(cudaErrorInvalidValue);
  Session* session = Runtime::Get().session(device);
  if (!session) return Fail(cudaErrorInvalidDevice);
  uint64_t remote = 0;
  rcuda::Status s = current ? session->DeviceGetMemPool(&remote) : session->DeviceGetDefaultMemPool(&remote);
  if (!s.ok()) return Return(s);
  *pool = PoolHandle(session, static_cast<int64_t>(remote));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  return DevicePool(pool, device, /*current=*/false);
}
RCUDA_EXPORT cudaError_t cudaDeviceGetMemPool(cudaMemPool_t* pool, int device) {
  return DevicePool(pool, device, /*current=*/true);
}
RCUDA_EXPORT cudaError_t cudaDeviceSetMemPool(int device, cudaMemPool_t pool) {
  Session* session = Runtime::Get().session(device);
  PoolObject* p = FindPool(pool);
  if (!session) return Fail(cudaErrorInvalidDevice);
  if (!p || p->session != session) return Fail(cudaErrorInvalidValue);
  return Return(session->DeviceSetMemPool(p->remote));
}

// The pools of a location (CUDA 13's form of the device calls above): device
// locations only; host and NUMA pools are not carried.
static cudaError_t LocationDevice(const cudaMemLocation* location, cudaMemAllocationType type, int* device) {
  if (!location || type != cudaMemAllocationTypePinned) return cudaErrorInvalidValue;
  if (location->type != cudaMemLocationTypeDevice) return cudaErrorNotSupported;
  *device = location->id;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMemGetDefaultMemPool(cudaMemPool_t* pool, cudaMemLocation* location,
                                                  cudaMemAllocationType type) {
  int device = 0;
  if (cudaError_t e = LocationDevice(location, type, &device)) return Fail(e);
  return DevicePool(pool, device, /*current=*/false);
}

RCUDA_EXPORT cudaError_t cudaMemGetMemPool(cudaMemPool_t* pool, cudaMemLocation* location,
                                           cudaMemAllocationType type) {
  int device = 0;
  if (cudaError_t e = LocationDevice(location, type, &device)) return Fail(e);
  return DevicePool(pool, device, /*current=*/true);
}

RCUDA_EXPORT cudaError_t cudaMemSetMemPool(cudaMemLocation* location, cudaMemAllocationType type,
                                           cudaMemPool_t pool) {
  int device = 0;
  if (cudaError_t e = LocationDevice(location, type, &device)) return Fail(e);
  return cudaDeviceSetMemPool(device, pool);
}

// A pool's memory is its own device's, read and write: the one access rcuda
// carries (peer access from another device's session is not).
RCUDA_EXPORT cudaError_t cudaMemPoolSetAccess(cudaMemPool_t pool, const cudaMemAccessDesc* descs, size_t count) {
  PoolObject* p = FindPool(pool);
  if (!p || (count && !descs)) return Fail(cudaErrorInvalidValue);
  for (size_t i = 0; i < count; ++i) {
    const cudaMemAccessDesc& d = descs[i];
    if (d.location.type != cudaMemLocationTypeDevice) return Fail(cudaErrorNotSupported);
    if (d.location.id == p->session->device()) {
      // The owning device's access cannot be changed, as natively.
      if (d.flags != cudaMemAccessFlagsProtReadWrite) return Fail(cudaErrorInvalidValue);
      continue;
    }
    return Fail(cudaErrorNotSupported);
  }
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMemPoolGetAccess(cudaMemAccessFlags* flags, cudaMemPool_t pool,
                                              cudaMemLocation* location) {
  PoolObject* p = FindPool(pool);
  if (!p || !flags || !location || location->type != cudaMemLocationTypeDevice) return Fail(cudaErrorInvalidValue);
  if (!Runtime::Get().session(location->id)) return Fail(cudaErrorInvalidDevice);
  *flags = location->id == p->session->device() ? cudaMemAccessFlagsProtReadWrite : cudaMemAccessFlagsProtNone;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMemPoolCreate(cudaMemPool_t* pool, const cudaMemPoolProps* props) {
  if (!pool || !props) return Fail(cudaErrorInvalidValue);
  if (props->location.type != cudaMemLocationTypeDevice) return Fail(cudaErrorNotSupported);
  Session* session = Runtime::Get().session(props->location.id);
  if (!session) return Fail(cudaErrorInvalidDevice);
  // On its server the device is that server's GPU.
  uint64_t remote = 0;
  rcuda::Status s = session->MemPoolCreate(props->location.type, session->endpoint().gpu, props->allocType,
                                           props->handleTypes, &remote);
  if (!s.ok()) return Return(s);
  *pool = PoolHandle(session, static_cast<int64_t>(remote));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMemPoolDestroy(cudaMemPool_t pool) {
  PoolObject* p = FindPool(pool);
  if (!p) return Fail(cudaErrorInvalidValue);
  return Return(p->session->MemPoolDestroy(p->remote));
}

// Pool attributes: the reuse policies are int, the rest 64-bit.
static bool WideAttribute(cudaMemPoolAttr attr) { return attr >= cudaMemPoolAttrReleaseThreshold; }

RCUDA_EXPORT cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  PoolObject* p = FindPool(pool);
  if (!p || !value) return Fail(cudaErrorInvalidValue);
  int64_t v = WideAttribute(attr) ? static_cast<int64_t>(*static_cast<uint64_t*>(value)) : *static_cast<int*>(value);
  return Return(p->session->MemPoolSetAttribute(p->remote, attr, v));
}

RCUDA_EXPORT cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  PoolObject* p = FindPool(pool);
  if (!p || !value) return Fail(cudaErrorInvalidValue);
  int64_t v = 0;
  rcuda::Status s = p->session->MemPoolGetAttribute(p->remote, attr, &v);
  if (!s.ok()) return Return(s);
  if (WideAttribute(attr)) {
    *static_cast<uint64_t*>(value) = static_cast<uint64_t>(v);
  } else {
    *static_cast<int*>(value) = static_cast<int>(v);
  }
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, size_t keep) {
  PoolObject* p = FindPool(pool);
  if (!p) return Fail(cudaErrorInvalidValue);
  return Return(p->session->MemPoolTrimTo(p->remote, static_cast<int64_t>(keep)));
}

}  // extern "C"
