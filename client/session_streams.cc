// Session: streams, events, host work, strided copies, graphs and the
// generic calls (the RPC stubs of issue 3's API).
#include <unistd.h>

#include "client/errors.h"
#include "client/handshake_deadline.h"
#include "client/log.h"
#include "client/session.h"
#include "common/env.h"
#include "common/kernel_params.h"
#include "client/transport_choice.h"
#include "protocol/version.h"

namespace rcuda::client {
namespace {

wire::CopyDirection WireDirection(RemoteGraphNode::Direction d) {
  switch (d) {
    case RemoteGraphNode::Direction::kHostToDevice: return wire::CopyDirection::HostToDevice;
    case RemoteGraphNode::Direction::kDeviceToHost: return wire::CopyDirection::DeviceToHost;
    default: return wire::CopyDirection::DeviceToDevice;
  }
}

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

// How many values a successful call returns (protocol/call_ops.h).
size_t CallResults(CallOp op) {
  switch (op) {
    case CallOp::kStreamGetInfo: return 2;
    case CallOp::kDeviceGetLimit:
    case CallOp::kOccupancyMaxActiveBlocks:
    case CallOp::kOccupancyAvailableDynamicSMem:
    case CallOp::kMemPoolCreate:
    case CallOp::kMemPoolGetAttribute:
    case CallOp::kDeviceGetDefaultMemPool:
    case CallOp::kDeviceGetMemPool:
    case CallOp::kMallocAsync:
    case CallOp::kDeviceGetCacheConfig:
    case CallOp::kOccupancyMaxPotentialClusterSize:
    case CallOp::kOccupancyMaxActiveClusters: return 1;
    default: return 0;
  }
}

bool OwnsStrided(AllocationTable& table, const DeviceRegion& d, const Extent& e) {
  if (e.width == 0 || e.height == 0 || e.depth == 0) return true;
  if (e.width > d.pitch || (e.depth > 1 && e.height > d.slice_height)) return false;
  uint64_t last = ((e.depth - 1) * d.slice_height + (e.height - 1)) * d.pitch + e.width;
  return table.Contains(d.ptr, last);
}

}  // namespace

Status Session::EnsureHostChannel() {
  std::lock_guard channel_lock(channel_mu_);
  if (host_channel_->started()) return host_channel_->status();
  RCUDA_RETURN_IF_ERROR(Connect());
  std::unique_ptr<Connection> connection;
  Status s = ConnectTransport(endpoint_, std::chrono::milliseconds(GetEnvInt("RCUDA_CONNECT_TIMEOUT_MS", 5000)),
                              &connection);
  if (!s.ok()) return Status(cudaErrorDevicesUnavailable, "cannot open the host channel: " + s.message());
  flatbuffers::FlatBufferBuilder builder(256);
  auto key = builder.CreateString(session_key_);
  auto transport = builder.CreateString(HelloTransport(*connection));
  wire::HelloBuilder hello(builder);
  hello.add_protocol_version(kProtocolVersion);
  hello.add_client_pid(static_cast<uint32_t>(getpid()));
  hello.add_gpu(endpoint_.gpu);
  hello.add_attach_key(key);
  hello.add_transport(transport);
  auto body = hello.Finish();
  wire::MessageBuilder message(builder);
  message.add_id(1);
  message.add_request_type(wire::Request::Hello);
  message.add_request(body.Union());
  builder.Finish(message.Finish());
  FrameHeader header;
  std::vector<uint8_t> frame;
  bool expired = false;
  {
    HandshakeDeadline deadline(connection.get(), HandshakeTimeout());
    s = WriteFrame(*connection, std::span(builder.GetBufferPointer(), builder.GetSize()));
    if (s.ok()) s = ReadFrame(*connection, &header, &frame);
    if (s.ok() && header.bulk_bytes) s = Status::Corruption("unexpected bulk data in a reply");
    expired = deadline.expired();
  }
  const wire::Reply* reply = s.ok() ? VerifiedReply(frame) : nullptr;
  const wire::HelloReply* hr = reply ? reply->body_as_HelloReply() : nullptr;  // null when absent
  if (hr && hr->accepted()) s = ConfirmTransport(*connection);
  if (!s.ok() || !hr || !hr->accepted()) {
    std::string why = expired ? "no answer to the handshake within " + std::to_string(HandshakeTimeout().count()) + " ms"
                      : hr && hr->accepted() ? s.message()  // the transport asked for was declined
                      : hr && hr->message() ? hr->message()->str()
                      : s.ok()              ? "malformed reply"
                                            : s.message();
    Log(LogLevel::kError, "the server refused the host channel: " + why);
    return Status(cudaErrorDevicesUnavailable, "host channel refused: " + why);
  }
  host_channel_->Start(std::move(connection));
  return Status::Ok();
}

Status Session::StreamCreate(unsigned flags, int priority, uint64_t* stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateStreamCreate(builder_, flags, priority);
  const wire::HandleReply* r = nullptr;
  Status s = CallForLocked(wire::Request::StreamCreate, body.Union(), &r);
  if (r) *stream = r->handle();
  return s;
}

Status Session::StreamDestroy(uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateStreamDestroy(builder_, stream);
  return SendLocked(wire::Request::StreamDestroy, body.Union());
}

Status Session::StreamSynchronize(uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateStreamSynchronize(builder_, stream);
  return CallLocked(wire::Request::StreamSynchronize, body.Union());
}

Status Session::StreamQuery(uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateStreamQuery(builder_, stream);
  return CallLocked(wire::Request::StreamQuery, body.Union());
}

Status Session::StreamWaitEvent(uint64_t stream, uint64_t event, unsigned flags) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateStreamWaitEvent(builder_, stream, event, flags);
  return SendLocked(wire::Request::StreamWaitEvent, body.Union());
}

Status Session::EventCreate(unsigned flags, uint64_t* event) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventCreate(builder_, flags);
  const wire::HandleReply* r = nullptr;
  Status s = CallForLocked(wire::Request::EventCreate, body.Union(), &r);
  if (r) *event = r->handle();
  return s;
}

Status Session::EventDestroy(uint64_t event) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventDestroy(builder_, event);
  return SendLocked(wire::Request::EventDestroy, body.Union());
}

Status Session::EventRecord(uint64_t event, uint64_t stream, unsigned flags) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventRecord(builder_, event, stream, flags);
  return SendLocked(wire::Request::EventRecord, body.Union());
}

Status Session::EventSynchronize(uint64_t event) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventSynchronize(builder_, event);
  return CallLocked(wire::Request::EventSynchronize, body.Union());
}

Status Session::EventQuery(uint64_t event) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventQuery(builder_, event);
  return CallLocked(wire::Request::EventQuery, body.Union());
}

Status Session::EventElapsedTime(uint64_t start, uint64_t end, float* milliseconds) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateEventElapsedTime(builder_, start, end);
  const wire::ElapsedTimeReply* r = nullptr;
  Status s = CallForLocked(wire::Request::EventElapsedTime, body.Union(), &r);
  if (r) *milliseconds = r->milliseconds();
  return s;
}

Status Session::HostFunction(uint64_t stream, std::function<void()> fn) {
  RCUDA_RETURN_IF_ERROR(EnsureHostChannel());
  std::lock_guard lock(mu_);
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
    std::lock_guard lock(channel_mu_);
    if (!host_channel_->started()) return Status::Ok();
    channel = host_channel_.get();
  }
  Status s = channel->WaitForHostFunctions();
  if (s.ok()) return s;
  // The host functions will not run: the session cannot go on.
  std::lock_guard lock(mu_);
  return BreakLocked(Status(s.code(), "host channel: " + s.message()));
}

Status Session::CopyToDevice3D(const DeviceRegion& dst, const HostRegion& src, uint64_t stream) {
  RCUDA_RETURN_IF_ERROR(WaitForHostFunctions());
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  Extent e{src.width, src.height, src.depth};
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, dst, e)) return Status(cudaErrorInvalidValue, "strided copy outside device memory");
  auto body = wire::CreateMemcpy3D(builder_, wire::CopyDirection::HostToDevice, dst.ptr, dst.pitch, dst.slice_height,
                                   0, src.width, src.height, e.width, e.height, e.depth, stream, 0);
  std::vector<ConstBuffer> rows = Rows(src);
  return SendLocked(wire::Request::Memcpy3D, body.Union(), rows);
}

Status Session::CopyFromDevice3D(const HostRegion& dst, const DeviceRegion& src, uint64_t stream, bool async) {
  if (async) RCUDA_RETURN_IF_ERROR(EnsureHostChannel());
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  Extent e{dst.width, dst.height, dst.depth};
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, src, e)) return Status(cudaErrorInvalidValue, "strided copy outside device memory");
  uint64_t pending = async ? host_channel_->AddPendingCopy(dst, /*once=*/true) : 0;
  auto body = wire::CreateMemcpy3D(builder_, wire::CopyDirection::DeviceToHost, 0, dst.width, dst.height, src.ptr,
                                   src.pitch, src.slice_height, e.width, e.height, e.depth, stream, pending);
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
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, src, e) || !OwnsStrided(allocations_, dst, e)) {
    return Status(cudaErrorInvalidValue, "strided copy outside device memory");
  }
  auto body = wire::CreateMemcpy3D(builder_, wire::CopyDirection::DeviceToDevice, dst.ptr, dst.pitch,
                                   dst.slice_height, src.ptr, src.pitch, src.slice_height, e.width, e.height, e.depth,
                                   stream, 0);
  return SendLocked(wire::Request::Memcpy3D, body.Union());
}

Status Session::Memset3D(const DeviceRegion& dst, int value, const Extent& e, uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (e.bytes() == 0) return Status::Ok();
  if (!OwnsStrided(allocations_, dst, e)) return Status(cudaErrorInvalidValue, "strided memset outside device memory");
  auto body = wire::CreateMemset3D(builder_, dst.ptr, dst.pitch, dst.slice_height, static_cast<uint32_t>(value) & 0xff,
                                   e.width, e.height, e.depth, stream);
  return SendLocked(wire::Request::Memset3D, body.Union());
}

Status Session::MallocPitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateMallocPitch(builder_, width, height);
  const wire::MallocPitchReply* r = nullptr;
  Status s = CallForLocked(wire::Request::MallocPitch, body.Union(), &r);
  if (r) {
    *ptr = r->ptr();
    *pitch = r->pitch();
    allocations_.Add(r->ptr(), r->pitch() * height, AllocationTable::Kind::kMalloc);
  }
  return s;
}

Status Session::PackArguments(const Function& function, void** args, uint64_t* handle, std::vector<uint8_t>* params) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  RemoteFunction* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionLocked(function, &f));
  *handle = f->handle;
  return PackKernelParams(f->params, args, params);
}

Status Session::Call(CallOp op, std::initializer_list<int64_t> args, std::vector<int64_t>* values) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  std::vector<int64_t> a(args);
  if (op == CallOp::kFreeAsync && a[0] != 0 && !allocations_.RemoveMalloc(static_cast<uint64_t>(a[0]))) {
    return Status(cudaErrorInvalidValue, "cudaFreeAsync of a pointer that was not allocated");
  }
  auto body = wire::CreateCallDirect(builder_, static_cast<uint32_t>(op), &a);
  if (!values) return SendLocked(wire::Request::Call, body.Union());
  const wire::CallReply* r = nullptr;
  Status s = CallForLocked(wire::Request::Call, body.Union(), &r);
  values->clear();
  if (!r) return s;
  if (r->values()) values->assign(r->values()->begin(), r->values()->end());
  if (values->size() < CallResults(op)) {
    return BreakLocked(Status::Corruption("a reply to call " + std::to_string(static_cast<uint32_t>(op)) + " with " +
                                          std::to_string(values->size()) + " values instead of " +
                                          std::to_string(CallResults(op))));
  }
  // Stream-ordered allocations join the client's memory map too.
  if (op == CallOp::kMallocAsync) {
    allocations_.Add(static_cast<uint64_t>((*values)[0]), static_cast<uint64_t>(*args.begin()),
                     AllocationTable::Kind::kMalloc);
  }
  return s;
}

flatbuffers::Offset<wire::GraphNode> Session::BuildNodeLocked(const RemoteGraphNode& n) {
  auto deps = builder_.CreateVector(n.dependencies);
  auto params = builder_.CreateVector(n.params);
  flatbuffers::Offset<wire::Memcpy3D> copy = 0;
  flatbuffers::Offset<wire::Memset3D> set = 0;
  if (n.type == RemoteGraphNode::Type::kMemcpy) {
    copy = wire::CreateMemcpy3D(builder_, WireDirection(n.direction), n.dst.ptr, n.dst.pitch, n.dst.slice_height,
                                n.src.ptr, n.src.pitch, n.src.slice_height, n.extent.width, n.extent.height,
                                n.extent.depth, 0, n.pending);
  }
  if (n.type == RemoteGraphNode::Type::kMemset) {
    set = wire::CreateMemset3D(builder_, n.set_dst.ptr, n.set_dst.pitch, n.set_dst.slice_height, n.set_value,
                               n.extent.width, n.extent.height, n.extent.depth, 0, n.set_element_size);
  }
  wire::Dim3 grid(n.grid.x, n.grid.y, n.grid.z), block(n.block.x, n.block.y, n.block.z);
  wire::GraphNodeBuilder b(builder_);
  b.add_type(static_cast<wire::GraphNodeType>(n.type));
  b.add_dependencies(deps);
  b.add_function(n.function);
  b.add_grid(&grid);
  b.add_block(&block);
  b.add_shared_bytes(n.shared_bytes);
  b.add_params(params);
  if (!copy.IsNull()) b.add_copy(copy);
  if (!set.IsNull()) b.add_set(set);
  b.add_host_id(n.host_id);
  b.add_event(n.event);
  return b.Finish();
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>> Session::BuildNodesLocked(
    const std::vector<RemoteGraphNode>& nodes) {
  std::vector<flatbuffers::Offset<wire::GraphNode>> offsets;
  for (const auto& n : nodes) offsets.push_back(BuildNodeLocked(n));
  return builder_.CreateVector(offsets);
}

Status Session::GraphInstantiate(const std::vector<RemoteGraphNode>& nodes, uint64_t* exec) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto list = BuildNodesLocked(nodes);
  auto body = wire::CreateGraphInstantiate(builder_, list);
  const wire::HandleReply* r = nullptr;
  Status s = CallForLocked(wire::Request::GraphInstantiate, body.Union(), &r);
  if (r) *exec = r->handle();
  return s;
}

Status Session::GraphLaunch(uint64_t exec, uint64_t stream, std::span<const ConstBuffer> inputs) {
  if (!inputs.empty()) RCUDA_RETURN_IF_ERROR(WaitForHostFunctions());
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateGraphLaunch(builder_, exec, stream);
  return SendLocked(wire::Request::GraphLaunch, body.Union(), inputs);
}

Status Session::GraphExecDestroy(uint64_t exec) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateGraphExecDestroy(builder_, exec);
  return SendLocked(wire::Request::GraphExecDestroy, body.Union());
}

Status Session::GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const RemoteGraphNode& kernel) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto k = BuildNodeLocked(kernel);
  auto body = wire::CreateGraphExecKernelNodeSetParams(builder_, exec, node, k);
  return CallLocked(wire::Request::GraphExecKernelNodeSetParams, body.Union());
}

Status Session::GraphExecUpdate(uint64_t exec, const std::vector<RemoteGraphNode>& nodes) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto list = BuildNodesLocked(nodes);
  auto body = wire::CreateGraphExecUpdate(builder_, exec, list);
  return CallLocked(wire::Request::GraphExecUpdate, body.Union());
}

}  // namespace rcuda::client
