#include "client/copy.h"

#include <cstring>
#include <vector>

#include "client/errors.h"
#include "client/graph.h"
#include "client/objects.h"
#include "client/runtime.h"

namespace rcuda::client {
namespace {

uint64_t Addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

// The bytes a strided region spans, from its first byte to its last.
size_t Span(size_t pitch, size_t slice, size_t width, size_t height, size_t depth) {
  if (width == 0 || height == 0 || depth == 0) return 0;
  return ((depth - 1) * slice + (height - 1)) * pitch + width;
}

// The error for a device pointer no session knows: the current device's
// standing error if it has one (an unreachable server, say), else
// cudaErrorInvalidValue.
cudaError_t UnknownPointer() {
  Session* session = Runtime::Get().current_session();
  if (session) {
    Status s = session->Connect();
    if (!s.ok()) return static_cast<cudaError_t>(s.ToCudaError());
  }
  return cudaErrorInvalidValue;
}

bool IsLinear(const CopySpec& c) { return c.height == 1 && c.depth == 1; }

// A linear copy whose host side lies in a host segment (client/runtime.h):
// only (segment, offset, size) travels; the worker's driver copies between
// its registered mapping of the segment and the device. An asynchronous one
// returns at once, in stream order on the server, as CUDA's does for pinned
// memory; a synchronous one once the bytes have moved.
Status CopySegment(Session* session, uint64_t device, int64_t segment, uint64_t offset, size_t size, bool to_device,
                   uint64_t stream, bool async) {
  const auto off = static_cast<int64_t>(offset), n = static_cast<int64_t>(size);
  if (async) return session->SegmentCopy(device, segment, off, n, to_device, stream);
  return session->SegmentCopySync(device, segment, off, n, to_device, stream);
}

}  // namespace

CopySpec Linear(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream, bool per_thread,
                bool async) {
  CopySpec c;
  c.dst = dst;
  c.src = src;
  c.dst_pitch = c.src_pitch = count;
  c.dst_slice = c.src_slice = 1;
  c.width = count;
  c.kind = kind;
  c.stream = stream;
  c.per_thread = per_thread;
  c.async = async;
  return c;
}

cudaError_t CopyMemory(const CopySpec& c) {
  if (c.width == 0 || c.height == 0 || c.depth == 0) return cudaSuccess;
  if (!c.dst || !c.src) return Fail(cudaErrorInvalidValue);
  if (c.height > 1 && (c.dst_pitch < c.width || c.src_pitch < c.width)) return Fail(cudaErrorInvalidPitchValue);
  Runtime& rt = Runtime::Get();
  size_t dst_span = Span(c.dst_pitch, c.dst_slice, c.width, c.height, c.depth);
  size_t src_span = Span(c.src_pitch, c.src_slice, c.width, c.height, c.depth);
  Session* dst_session = rt.SessionOwning(c.dst, dst_span);
  Session* src_session = rt.SessionOwning(c.src, src_span);
  // A program may pass any int as the kind: read the value as an int (an
  // enum load out of the enum's range is undefined) and refuse what is none.
  static_assert(sizeof(cudaMemcpyKind) == sizeof(int));
  int raw_kind;
  std::memcpy(&raw_kind, &c.kind, sizeof raw_kind);
  if (raw_kind < cudaMemcpyHostToHost || raw_kind > cudaMemcpyDefault) return Fail(cudaErrorInvalidMemcpyDirection);
  cudaMemcpyKind kind = static_cast<cudaMemcpyKind>(raw_kind);
  switch (kind) {
    case cudaMemcpyDefault:
      kind = dst_session && src_session ? cudaMemcpyDeviceToDevice
             : dst_session              ? cudaMemcpyHostToDevice
             : src_session              ? cudaMemcpyDeviceToHost
                                        : cudaMemcpyHostToHost;
      break;
    case cudaMemcpyHostToDevice:
      if (!dst_session) return Fail(UnknownPointer());
      break;
    case cudaMemcpyDeviceToHost:
      if (!src_session) return Fail(UnknownPointer());
      break;
    case cudaMemcpyDeviceToDevice:
      if (!dst_session || !src_session) return Fail(UnknownPointer());
      break;
    case cudaMemcpyHostToHost:
      break;
    default:
      return Fail(cudaErrorInvalidMemcpyDirection);
  }

  // Which stream: the given one for async calls; the (legacy or
  // per-thread) default stream for the synchronous ones.
  StreamRef ref;
  cudaError_t e = ResolveStream(c.async ? c.stream : nullptr, c.per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);

  DeviceRegion dst_dev{Addr(c.dst), c.dst_pitch, c.dst_slice};
  DeviceRegion src_dev{Addr(c.src), c.src_pitch, c.src_slice};
  HostRegion dst_host{static_cast<char*>(c.dst), c.dst_pitch, c.dst_slice, c.width, c.height, c.depth};
  HostRegion src_host{static_cast<char*>(const_cast<void*>(c.src)), c.src_pitch, c.src_slice, c.width, c.height,
                      c.depth};

  if (ref.object && ref.object->capture) {
    // Captured: becomes a memcpy node of the capture's graph.
    if (kind == cudaMemcpyHostToHost || (kind == cudaMemcpyDeviceToDevice && dst_session != src_session)) {
      ref.object->capture->error = cudaErrorStreamCaptureUnsupported;
      return Fail(cudaErrorStreamCaptureUnsupported);
    }
    GraphNodeObject* node = CaptureNode(ref.object, cudaGraphNodeTypeMemcpy);
    node->extent = Extent{c.width, c.height, c.depth};
    if (kind == cudaMemcpyHostToDevice) {
      node->direction = GraphNodeSpec::Direction::kHostToDevice;
      node->dst = dst_dev;
      node->host = src_host;
    } else if (kind == cudaMemcpyDeviceToHost) {
      node->direction = GraphNodeSpec::Direction::kDeviceToHost;
      node->src = src_dev;
      node->host = dst_host;
    } else {
      node->direction = GraphNodeSpec::Direction::kDeviceToDevice;
      node->dst = dst_dev;
      node->src = src_dev;
    }
    return cudaSuccess;
  }

  Status s;
  int64_t segment = 0;  // a host side in a host segment: the worker's DMA moves it
  uint64_t offset = 0;
  switch (kind) {
    case cudaMemcpyHostToHost:
      // In stream order: after the stream's earlier work.
      if (c.async) {
        s = ref.session->StreamSynchronize(ref.remote);
        if (!s.ok()) return Return(s);
      }
      for (size_t z = 0; z < c.depth; ++z)
        for (size_t y = 0; y < c.height; ++y)
          std::memmove(static_cast<char*>(c.dst) + (z * c.dst_slice + y) * c.dst_pitch,
                       static_cast<const char*>(c.src) + (z * c.src_slice + y) * c.src_pitch, c.width);
      return cudaSuccess;
    case cudaMemcpyHostToDevice:
      if (dst_session != ref.session && ref.object) return Fail(cudaErrorInvalidValue);
      if (IsLinear(c) && rt.FindSegment(c.src, c.width, dst_session, &segment, &offset)) {
        return Return(CopySegment(dst_session, Addr(c.dst), segment, offset, c.width, true, ref.remote, c.async));
      }
      if (IsLinear(c)) return Return(dst_session->MemcpyHtoD(Addr(c.dst), c.width, ref.remote, c.src));
      return Return(dst_session->CopyToDevice3D(dst_dev, src_host, ref.remote));
    case cudaMemcpyDeviceToHost: {
      if (src_session != ref.session && ref.object) return Fail(cudaErrorInvalidValue);
      if (IsLinear(c) && rt.FindSegment(c.dst, c.width, src_session, &segment, &offset)) {
        return Return(CopySegment(src_session, Addr(c.src), segment, offset, c.width, false, ref.remote, c.async));
      }
      // Into pinned memory an async copy completes in stream order; into
      // pageable memory CUDA completes it before returning, and so does rcuda.
      bool async = c.async && rt.IsPinned(c.dst, dst_span);
      if (!async && IsLinear(c)) return Return(src_session->MemcpyDtoH(Addr(c.src), c.width, ref.remote, c.dst));
      return Return(src_session->CopyFromDevice3D(dst_host, src_dev, ref.remote, async));
    }
    case cudaMemcpyDeviceToDevice:
      if (dst_session == src_session) {
        if (IsLinear(c)) return Return(dst_session->MemcpyDtoD(Addr(c.dst), Addr(c.src), c.width, ref.remote));
        return Return(dst_session->CopyOnDevice3D(dst_dev, src_dev, Extent{c.width, c.height, c.depth}, ref.remote));
      } else {
        // Between devices (perhaps of different servers): through this
        // host, synchronously, which orders it after all earlier work.
        std::vector<char> bounce(c.width * c.height * c.depth);
        HostRegion packed{bounce.data(), c.width, c.height, c.width, c.height, c.depth};
        s = src_session->CopyFromDevice3D(packed, src_dev, 0, false);
        if (!s.ok()) return Return(s);
        s = dst_session->CopyToDevice3D(dst_dev, packed, 0);
        if (!s.ok()) return Return(s);
        return Return(dst_session->DeviceSynchronize());
      }
    default:
      return Fail(cudaErrorInvalidMemcpyDirection);
  }
}

cudaError_t SetMemory(const SetSpec& m) {
  if (m.width == 0 || m.height == 0 || m.depth == 0) return cudaSuccess;
  if (m.height > 1 && m.pitch < m.width) return Fail(cudaErrorInvalidValue);
  Session* session = Runtime::Get().SessionOwning(m.dst, Span(m.pitch, m.slice, m.width, m.height, m.depth));
  if (!session) return Fail(UnknownPointer());
  StreamRef ref;
  cudaError_t e = ResolveStream(m.stream, m.per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (ref.object && ref.object->capture) {
    if (m.depth != 1) return Fail(cudaErrorStreamCaptureUnsupported);
    GraphNodeObject* node = CaptureNode(ref.object, cudaGraphNodeTypeMemset);
    node->dst = DeviceRegion{Addr(m.dst), m.height > 1 ? m.pitch : m.width, m.slice};
    node->value = m.value & 0xff;
    node->extent = Extent{m.width, m.height, 1};
    return cudaSuccess;
  }
  if (session != ref.session && ref.object) return Fail(cudaErrorInvalidValue);
  // cudaMemset fills bytes: the value converted to unsigned char.
  if (m.height == 1 && m.depth == 1) return Return(session->Memset(Addr(m.dst), m.value & 0xff, m.width, ref.remote));
  return Return(session->Memset3D(DeviceRegion{Addr(m.dst), m.pitch, m.slice}, m.value,
                                  Extent{m.width, m.height, m.depth}, ref.remote));
}

}  // namespace rcuda::client
