// Session: the hand-written part of its proxy (host work, strided copies,
// launches' argument packing, graphs) and the opening of its host channel.
// The rest of the proxy is generated (session_proxy.inc).
#include <unistd.h>

#include "client/attach_hello.h"
#include "client/errors.h"
#include "client/handshake_deadline.h"
#include "client/log.h"
#include "client/session.h"
#include "common/env.h"
#include "common/kernel_params.h"
#include "client/transport_choice.h"
#include "protocol/version.h"
#include "protocol/wire_convert.h"

namespace rcuda::client {
namespace {

// The rows of a host region as buffers, in packed order: one buffer when
// the region is contiguous.
std::vector<ConstBuffer> Rows(const HostRegion& r) {
  std::vector<ConstBuffer> rows;
  if (r.pitch == r.width && (r.depth == 1 || r.slice_height == r.height)) {
    rows.push_back({r.base, r.bytes()});
    return rows;
  }
  for (uint64_t z = 0; z < r.depth; ++z)
    for (uint64_t y = 0; y < r.height; ++y) rows.push_back({r.base + (z * r.slice_height + y) * r.pitch, r.width});
  return rows;
}

bool OwnsStrided(AllocationTable& table, const DeviceRegion& d, const Extent& e) {
  if (e.width == 0 || e.height == 0 || e.depth == 0) return true;
  if (e.width > d.pitch || (e.depth > 1 && e.height > d.slice_height)) return false;
  uint64_t last = ((e.depth - 1) * d.slice_height + (e.height - 1)) * d.pitch + e.width;
  return table.Contains(d.ptr, last);
}

Copy3D Strided(const DeviceRegion& dst, const DeviceRegion& src, const Extent& e) {
  return Copy3D{dst.ptr, dst.pitch, dst.slice_height, src.ptr, src.pitch, src.slice_height, e.width, e.height,
                e.depth};
}

}  // namespace

Status Session::EnsureHostChannel() {
  std::lock_guard channel_lock(channel_mu_);
  if (host_channel_->started()) return host_channel_->status();
  RCUDA_RETURN_IF_ERROR(Connect());
  std::unique_ptr<Connection> connection;
  Status s = ConnectTransport(endpoint_, std::chrono::milliseconds(GetEnvInt("RCUDA_CONNECT_TIMEOUT_MS", 5000)),
                              &connection, session_key_);
  if (!s.ok()) return Status::Cuda(cudaErrorDevicesUnavailable, "cannot open the host channel: " + s.message());
  AttachAnswer answer;
  s = SendAttachHello(*connection, {session_key_, HelloTransport(*connection), endpoint_.gpu, std::nullopt}, &answer);
  const bool expired = answer.expired;
  const wire::HelloReply* hr = answer.reply;
  if (hr && hr->accepted()) s = ConfirmTransport(*connection);
  if (!s.ok() || !hr || !hr->accepted()) {
    std::string why = expired ? "no answer to the handshake within " + std::to_string(HandshakeTimeout().count()) + " ms"
                      : hr && hr->accepted() ? s.message()  // the transport asked for was declined
                      : hr && hr->message() ? hr->message()->str()
                      : s.ok()              ? "malformed reply"
                                            : s.message();
    Log(LogLevel::kError, "the server refused the host channel: " + why);
    return Status::Cuda(cudaErrorDevicesUnavailable, "host channel refused: " + why);
  }
  host_channel_->Start(std::move(connection));
  return Status::Ok();
}


Status Session::HostFunction(uint64_t stream, std::function<void()> fn) {
  RCUDA_RETURN_IF_ERROR(EnsureHostChannel());
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  uint64_t id = host_channel_->AddHostFunction(std::move(fn), /*once=*/true);
  auto body = wire::CreateHostFunction(builder_, stream, id);
  Status s = SendLocked(wire::Request::HostFunction, body.Union());
  if (!s.ok()) host_channel_->Remove(id);
  return s;
}

Status Session::WaitForHostFunctions() {
  HostChannelClient* channel;
  {
    MutexLock lock(&channel_mu_);
    if (!host_channel_->started()) return Status::Ok();
    channel = host_channel_.get();
  }
  Status s = channel->WaitForHostFunctions();
  if (s.ok()) return s;
  // The host functions will not run: the session cannot go on.
  MutexLock lock(&mu_);
  return BreakLocked(s.WithMessage("host channel: " + s.message()));
}

Status Session::CopyToDevice3D(const DeviceRegion& dst, const HostRegion& src, uint64_t stream) {
  RCUDA_RETURN_IF_ERROR(WaitForHostFunctions());
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  Extent e{src.width, src.height, src.depth};
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, dst, e)) return Status::Cuda(cudaErrorInvalidValue, "strided copy outside device memory");
  DeviceRegion packed{0, src.width, src.height};
  auto body = ToWire(builder_, GraphNodeSpec::Direction::kHostToDevice, Strided(dst, packed, e), stream, 0);
  std::vector<ConstBuffer> rows = Rows(src);
  return SendLocked(wire::Request::Memcpy3D, body.Union(), rows);
}

Status Session::CopyFromDevice3D(const HostRegion& dst, const DeviceRegion& src, uint64_t stream, bool async) {
  if (async) RCUDA_RETURN_IF_ERROR(EnsureHostChannel());
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  Extent e{dst.width, dst.height, dst.depth};
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, src, e)) return Status::Cuda(cudaErrorInvalidValue, "strided copy outside device memory");
  uint64_t pending = async ? host_channel_->AddPendingCopy(dst, /*once=*/true) : 0;
  DeviceRegion packed{0, dst.width, dst.height};
  auto body = ToWire(builder_, GraphNodeSpec::Direction::kDeviceToHost, Strided(packed, src, e), stream, pending);
  uint64_t id = 0;
  Status s = SendLocked(wire::Request::Memcpy3D, body.Union(), {}, &id);
  if (async) {
    if (!s.ok()) host_channel_->Remove(pending);
    return s;
  }
  RCUDA_RETURN_IF_ERROR(s);
  return ReceiveIntoLocked(id, dst);
}

Status Session::CopyOnDevice3D(const DeviceRegion& dst, const DeviceRegion& src, const Extent& e, uint64_t stream) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, src, e) || !OwnsStrided(allocations_, dst, e)) {
    return Status::Cuda(cudaErrorInvalidValue, "strided copy outside device memory");
  }
  auto body = ToWire(builder_, GraphNodeSpec::Direction::kDeviceToDevice, Strided(dst, src, e), stream, 0);
  return SendLocked(wire::Request::Memcpy3D, body.Union());
}

Status Session::Memset3D(const DeviceRegion& dst, int value, const Extent& e, uint64_t stream) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, dst, e)) return Status::Cuda(cudaErrorInvalidValue, "strided memset outside device memory");
  Set3D set{dst.ptr, dst.pitch, dst.slice_height, static_cast<uint32_t>(value) & 0xff, 1, e.width, e.height, e.depth};
  auto body = ToWire(builder_, set, stream);
  return SendLocked(wire::Request::Memset3D, body.Union());
}

Status Session::PackArguments(const Function& function, void** args, uint64_t* handle, std::vector<uint8_t>* params) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  FunctionDescription* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionLocked(function, &f));
  *handle = f->handle;
  return PackKernelParams(f->params, args, params);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>> Session::BuildNodesLocked(
    const std::vector<GraphNodeSpec>& nodes) {
  std::vector<flatbuffers::Offset<wire::GraphNode>> offsets;
  for (const auto& n : nodes) offsets.push_back(ToWire(builder_, n));
  return builder_.CreateVector(offsets);
}

Status Session::GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto list = BuildNodesLocked(nodes);
  auto body = wire::CreateGraphInstantiate(builder_, list);
  const wire::HandleReply* r = nullptr;
  Status s = CallForLocked(wire::Request::GraphInstantiate, body.Union(), &r);
  if (r) *exec = r->handle();
  return s;
}

Status Session::GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto k = ToWire(builder_, kernel);
  auto body = wire::CreateGraphExecKernelNodeSetParams(builder_, exec, node, k);
  return CallLocked(wire::Request::GraphExecKernelNodeSetParams, body.Union());
}

Status Session::GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto list = BuildNodesLocked(nodes);
  auto body = wire::CreateGraphExecUpdate(builder_, exec, list);
  return CallLocked(wire::Request::GraphExecUpdate, body.Union());
}

}  // namespace rcuda::client
