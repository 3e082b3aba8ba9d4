// Device memory (on the server), host memory (stays on the client), copies,
// memsets and module variables (symbols).
#include <cstring>

#include "client/api_common.h"
#include "client/registry.h"

using namespace rcuda::client;

namespace {

uint64_t Addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

cudaError_t UnknownPointer();

// What cudaMemcpyDefault means for a pair of pointers: rcuda knows every
// device allocation, so anything else is host memory.
cudaMemcpyKind InferKind(const void* dst, const void* src, size_t count, Session** dst_session,
                         Session** src_session) {
  Runtime& rt = Runtime::Get();
  *dst_session = rt.SessionOwning(dst, count);
  *src_session = rt.SessionOwning(src, count);
  if (*dst_session && *src_session) return cudaMemcpyDeviceToDevice;
  if (*dst_session) return cudaMemcpyHostToDevice;
  if (*src_session) return cudaMemcpyDeviceToHost;
  return cudaMemcpyHostToHost;
}

cudaError_t Copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  if (!dst || !src) return Fail(cudaErrorInvalidValue);
  uint64_t remote_stream;
  if (!RemoteStream(stream, &remote_stream)) return Fail(cudaErrorInvalidResourceHandle);
  Session* dst_session = nullptr;
  Session* src_session = nullptr;
  Runtime& rt = Runtime::Get();
  switch (kind) {
    case cudaMemcpyDefault:
      kind = InferKind(dst, src, count, &dst_session, &src_session);
      break;
    case cudaMemcpyHostToDevice:
      dst_session = rt.SessionOwning(dst, count);
      break;
    case cudaMemcpyDeviceToHost:
      src_session = rt.SessionOwning(src, count);
      break;
    case cudaMemcpyDeviceToDevice:
      dst_session = rt.SessionOwning(dst, count);
      src_session = rt.SessionOwning(src, count);
      break;
    case cudaMemcpyHostToHost:
      break;
    default:
      return Fail(cudaErrorInvalidMemcpyDirection);
  }
  switch (kind) {
    case cudaMemcpyHostToHost:
      std::memmove(dst, src, count);
      return cudaSuccess;
    case cudaMemcpyHostToDevice:
      if (!dst_session) return Fail(UnknownPointer());
      return Return(dst_session->CopyToDevice(Addr(dst), src, count, remote_stream));
    case cudaMemcpyDeviceToHost:
      if (!src_session) return Fail(UnknownPointer());
      return Return(src_session->CopyFromDevice(dst, Addr(src), count, remote_stream));
    case cudaMemcpyDeviceToDevice:
      if (!dst_session || !src_session) return Fail(UnknownPointer());
      if (dst_session != src_session) return Fail(cudaErrorNotSupported);  // peer copies: not yet
      return Return(dst_session->CopyOnDevice(Addr(dst), Addr(src), count, remote_stream));
    default:
      return Fail(cudaErrorInvalidMemcpyDirection);
  }
}

// Resolves a symbol (the host shadow of a __device__/__constant__ variable)
// to its address and size on the current device.
cudaError_t ResolveSymbol(const void* symbol, uint64_t* address, uint64_t* size) {
  Variable* v = Registry::Get().FindVariable(symbol);
  if (!v) return cudaErrorInvalidSymbol;
  cudaError_t error = cudaSuccess;
  Session* session = CurrentSession(&error);
  if (!session) return error;
  RemoteVariable rv;
  rcuda::Status s = session->GetVariable(*v, &rv);
  if (!s.ok()) return static_cast<cudaError_t>(s.code());
  *address = rv.address;
  *size = rv.size;
  return cudaSuccess;
}

// The error for a device pointer no session knows: the current device's
// standing error if it has one (an unreachable server, say), else
// cudaErrorInvalidValue.
cudaError_t UnknownPointer() {
  Session* session = Runtime::Get().current_session();
  if (session) {
    rcuda::Status s = session->Connect();
    if (!s.ok()) return static_cast<cudaError_t>(s.code());
  }
  return cudaErrorInvalidValue;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaMalloc(void** dev_ptr, size_t size) {
  if (!dev_ptr) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  uint64_t ptr = 0;
  rcuda::Status s = session->Malloc(size, &ptr);
  if (!s.ok()) return Return(s);
  *dev_ptr = reinterpret_cast<void*>(ptr);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaFree(void* dev_ptr) {
  RCUDA_CURRENT_SESSION(session);
  if (dev_ptr) {
    // Memory of another device is freed on its own session, as CUDA allows.
    Session* owner = Runtime::Get().SessionOwning(dev_ptr, 0);
    if (owner) session = owner;
  }
  return Return(session->Free(Addr(dev_ptr)));
}

RCUDA_EXPORT cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (!free || !total) return Fail(cudaErrorInvalidValue);
  RCUDA_CURRENT_SESSION(session);
  uint64_t f = 0, t = 0;
  rcuda::Status s = session->MemGetInfo(&f, &t);
  if (!s.ok()) return Return(s);
  *free = f;
  *total = t;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaMallocHost(void** ptr, size_t size) {
  if (!ptr) return Fail(cudaErrorInvalidValue);
  *ptr = Runtime::Get().AllocateHost(size, cudaHostAllocDefault);
  return *ptr ? cudaSuccess : Fail(cudaErrorMemoryAllocation);
}

RCUDA_EXPORT cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int flags) {
  if (!ptr) return Fail(cudaErrorInvalidValue);
  if (flags & ~(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined)) {
    return Fail(cudaErrorInvalidValue);
  }
  *ptr = Runtime::Get().AllocateHost(size, flags);
  return *ptr ? cudaSuccess : Fail(cudaErrorMemoryAllocation);
}

RCUDA_EXPORT cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  return Runtime::Get().FreeHost(ptr) ? cudaSuccess : Fail(cudaErrorInvalidValue);
}

RCUDA_EXPORT cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return Copy(dst, src, count, kind, nullptr);
}

RCUDA_EXPORT cudaError_t cudaMemcpy_ptds(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return Copy(dst, src, count, kind, cudaStreamPerThread);
}

RCUDA_EXPORT cudaError_t cudaMemset(void* dev_ptr, int value, size_t count) {
  if (count == 0) return cudaSuccess;
  Session* session = Runtime::Get().SessionOwning(dev_ptr, count);
  if (!session) return Fail(UnknownPointer());
  return Return(session->Memset(Addr(dev_ptr), value, count, 0));
}

RCUDA_EXPORT cudaError_t cudaMemset_ptds(void* dev_ptr, int value, size_t count) {
  return cudaMemset(dev_ptr, value, count);
}

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

RCUDA_EXPORT cudaError_t cudaMemcpyToSymbol(const void* symbol, const void* src, size_t count, size_t offset,
                                            cudaMemcpyKind kind) {
  if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault) {
    return Fail(cudaErrorInvalidMemcpyDirection);
  }
  uint64_t address, size;
  cudaError_t e = ResolveSymbol(symbol, &address, &size);
  if (e != cudaSuccess) return Fail(e);
  if (offset > size || count > size - offset) return Fail(cudaErrorInvalidValue);
  return Copy(reinterpret_cast<void*>(address + offset), src, count, kind, nullptr);
}

RCUDA_EXPORT cudaError_t cudaMemcpyToSymbol_ptds(const void* symbol, const void* src, size_t count, size_t offset,
                                                 cudaMemcpyKind kind) {
  return cudaMemcpyToSymbol(symbol, src, count, offset, kind);
}

RCUDA_EXPORT cudaError_t cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t count, size_t offset,
                                              cudaMemcpyKind kind) {
  if (kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault) {
    return Fail(cudaErrorInvalidMemcpyDirection);
  }
  uint64_t address, size;
  cudaError_t e = ResolveSymbol(symbol, &address, &size);
  if (e != cudaSuccess) return Fail(e);
  if (offset > size || count > size - offset) return Fail(cudaErrorInvalidValue);
  return Copy(dst, reinterpret_cast<const void*>(address + offset), count, kind, nullptr);
}

RCUDA_EXPORT cudaError_t cudaMemcpyFromSymbol_ptds(void* dst, const void* symbol, size_t count, size_t offset,
                                                   cudaMemcpyKind kind) {
  return cudaMemcpyFromSymbol(dst, symbol, count, offset, kind);
}

}  // extern "C"
