#include "client/session.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "client/errors.h"
#include "client/handshake_deadline.h"
#include "client/log.h"
#include "client/param_layout.h"
#include "common/env.h"
#include "common/kernel_params.h"
#include "client/transport_choice.h"
#include "protocol/version.h"

namespace rcuda::client {
namespace {

std::string Hostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

std::string ProgramName() { return program_invocation_short_name ? program_invocation_short_name : "?"; }

// In a forked child: closes this process's copies of a connection's
// descriptors and leaves the object alone (never destroyed: shutting the
// connection down would end the parent's session too).
void AbandonConnection(std::unique_ptr<Connection> connection) {
  if (!connection) return;
  for (int fd : connection->HandoffHandles()) close(fd);
  (void)connection.release();
}

}  // namespace

Session::Session(int device, Endpoint endpoint) : device_(device), endpoint_(std::move(endpoint)) {}

Session::~Session() = default;

Status Session::Connect() {
  std::lock_guard lock(mu_);
  return ConnectLocked();
}

Status Session::ConnectLocked() {
  // One thread shakes hands; the others wait for its outcome.
  WaitLocked([&] { return !connecting_; });
  if (!sticky_.ok()) return sticky_;
  if (connected_) return Status::Ok();
  connecting_ = true;
  struct Done {
    Session* s;
    ~Done() {
      s->connecting_ = false;
      s->reply_cv_.notify_all();
    }
  } done{this};
  const std::string where = ServerName();
  Status s = ConnectTransport(endpoint_, std::chrono::milliseconds(GetEnvInt("RCUDA_CONNECT_TIMEOUT_MS", 5000)),
                              &connection_);
  if (!s.ok()) {
    sticky_ = Status(cudaErrorDevicesUnavailable, "cannot reach " + where + ": " + s.message());
    Log(LogLevel::kError, sticky_.message());
    return sticky_;
  }
  next_id_ = 0;
  builder_.Clear();
  auto host = builder_.CreateString(Hostname());
  auto program = builder_.CreateString(ProgramName());
  auto token = builder_.CreateString(GetEnvOr("RCUDA_TOKEN", ""));
  auto transport = builder_.CreateString(HelloTransport(*connection_));
  wire::HelloBuilder hello(builder_);
  hello.add_protocol_version(kProtocolVersion);
  hello.add_client_host(host);
  hello.add_client_pid(static_cast<uint32_t>(getpid()));
  hello.add_program(program);
  hello.add_gpu(endpoint_.gpu);
  hello.add_token(token);
  hello.add_transport(transport);
  auto body = hello.Finish();
  connected_ = true;  // SendLocked/ReceiveLocked need it; undone on failure
  const wire::HelloReply* hr = nullptr;
  const std::chrono::milliseconds limit = HandshakeTimeout();
  bool expired = false;
  {
    HandshakeDeadline deadline(connection_.get(), limit);
    s = CallForLocked(wire::Request::Hello, body.Union(), &hr);
    expired = deadline.expired();
  }
  // The transport asked for (UCX) may have been declined by the server.
  if (s.ok() && hr && hr->accepted()) s = ConfirmTransport(*connection_);
  if (!s.ok() || !hr || !hr->accepted()) {
    std::string why = expired ? "no answer to the handshake within " + std::to_string(limit.count()) +
                                    " ms (RCUDA_HANDSHAKE_TIMEOUT_MS)"
                      : hr && hr->message() && !hr->accepted() ? hr->message()->str()
                                                               : s.message();
    connected_ = false;
    connection_.reset();
    sticky_ = Status(cudaErrorDevicesUnavailable, where + (expired ? " did not answer: " : " refused the session: ") + why);
    Log(LogLevel::kError, sticky_.message());
    return sticky_;
  }
  const wire::DeviceInfo* d = hr->device();
  if (!d || !d->props() || d->props()->size() != sizeof(cudaDeviceProp)) {
    connected_ = false;
    connection_.reset();
    sticky_ = Status(cudaErrorDevicesUnavailable, where + " sent an unusable device description");
    Log(LogLevel::kError, sticky_.message());
    return sticky_;
  }
  info_.name = d->name() ? d->name()->str() : "";
  info_.props.assign(d->props()->begin(), d->props()->end());
  info_.attributes.clear();
  if (d->attributes()) info_.attributes.assign(d->attributes()->begin(), d->attributes()->end());
  info_.driver_version = d->driver_version();
  info_.backend = d->backend() ? d->backend()->str() : "";
  info_.test_device = d->test_device();
  info_.arch = d->arch();
  info_.memory_limit = hr->memory_limit();
  session_key_ = hr->session_key() ? hr->session_key()->str() : "";
  priority_least_ = hr->stream_priority_least();
  priority_greatest_ = hr->stream_priority_greatest();
  Log(LogLevel::kInfo, "device " + std::to_string(device_) + " is " + info_.name + " on " + where);
  if (info_.test_device) {
    Log(LogLevel::kWarn, "device " + std::to_string(device_) + " is rcuda's TEST backend (host memory and host "
                         "kernels, not a GPU); results are test equipment output, not GPU results");
  }
  return Status::Ok();
}

std::string Session::ServerName() const {
  return "rcuda server " + endpoint_.host + ":" + std::to_string(endpoint_.port) + " (GPU " +
         std::to_string(endpoint_.gpu) + ")";
}

Status Session::BreakLocked(const Status& cause) {
  if (sticky_.ok()) {
    sticky_ = Status(cudaErrorDevicesUnavailable, "lost the connection to " + ServerName() + ": " + cause.message());
    Log(LogLevel::kError, sticky_.message());
  }
  if (connection_) connection_->Shutdown();
  // Whoever waits for host functions of this session waits no more.
  host_channel_->Fail(sticky_);
  connected_ = false;
  return sticky_;
}

Status Session::CheckBodyLocked(const wire::Reply* reply, wire::ReplyBody type, const void** body) {
  *body = nullptr;
  if (reply->body_type() != type || !reply->body()) {
    return BreakLocked(Status::Corruption(std::string("a reply to request ") + std::to_string(reply->id()) +
                                          " without its " + wire::EnumNameReplyBody(type) + " (it carries " +
                                          (reply->body() ? wire::EnumNameReplyBody(reply->body_type())
                                                         : "no body") +
                                          ")"));
  }
  *body = reply->body();
  return Status::Ok();
}

Status Session::NoteError(const Status& status) {
  if (!status.ok() && IsSticky(status.code()) && sticky_.ok()) {
    sticky_ = status;
    Log(LogLevel::kError, "device " + std::to_string(device_) + ": " + status.message());
  }
  return status;
}

Status Session::SendLocked(wire::Request type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk,
                           uint64_t* id) {
  if (!connection_) return sticky_.ok() ? Status(cudaErrorDevicesUnavailable, "no connection") : sticky_;
  wire::MessageBuilder message(builder_);
  message.add_id(++next_id_);
  if (id) *id = next_id_;
  message.add_request_type(type);
  message.add_request(body);
  builder_.Finish(message.Finish());
  Status s = WriteFrame(*connection_, std::span(builder_.GetBufferPointer(), builder_.GetSize()), bulk);
  builder_.Clear();
  if (!s.ok()) return BreakLocked(s);
  return Status::Ok();
}

Status Session::ReceiveLocked(uint64_t id, const wire::Reply** reply_out, void* bulk_dst, uint64_t bulk_bytes) {
  Connection* connection = connection_.get();
  return ReceiveWithLocked(id, reply_out, [=](uint64_t bytes) -> Status {
    if (bytes != bulk_bytes || !bulk_dst) return Status::Corruption("unexpected bulk data in a reply");
    return connection->ReadExact(bulk_dst, bulk_bytes);
  });
}

Status Session::ReceiveIntoLocked(uint64_t id, const HostRegion& r) {
  Connection* connection = connection_.get();
  return ReceiveWithLocked(id, nullptr, [=](uint64_t bytes) -> Status {
    if (bytes != r.bytes()) return Status::Corruption("unexpected bulk data in a reply");
    if (r.pitch == r.width && (r.depth == 1 || r.slice_height == r.height)) {
      return connection->ReadExact(r.base, bytes);
    }
    for (uint64_t z = 0; z < r.depth; ++z)
      for (uint64_t y = 0; y < r.height; ++y)
        RCUDA_RETURN_IF_ERROR(connection->ReadExact(r.base + (z * r.slice_height + y) * r.pitch, r.width));
    return Status::Ok();
  });
}

namespace {
// Each thread's last reply; a reply handed out stays valid until the same
// thread receives the next one.
thread_local std::vector<uint8_t> t_reply;
}  // namespace

void Session::WaitLocked(const std::function<bool()>& done) {
  // mu_ is held by the caller's guard: borrow it for the wait, give it back.
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  reply_cv_.wait(lock, done);
  lock.release();
}

// Replies may come in any order: the server answers a request that waits
// for the GPU when the GPU is done, and the others meanwhile. Whichever
// waiting thread finds no one reading becomes the reader (mu_ released
// while it reads), hands each reply to the thread that waits for it, and
// returns when its own has come; the others sleep on reply_cv_.
Status Session::ReceiveWithLocked(uint64_t id, const wire::Reply** reply_out,
                                  const std::function<Status(uint64_t)>& read_bulk) {
  PendingReply mine;
  mine.read_bulk = &read_bulk;
  pending_[id] = &mine;
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  while (!mine.done) {
    if (reading_ || !connection_) {
      if (!connection_) {
        mine.done = true;
        mine.transport = sticky_.ok() ? Status(cudaErrorDevicesUnavailable, "no connection") : sticky_;
        break;
      }
      reply_cv_.wait(lock);
      continue;
    }
    reading_ = true;
    Connection* connection = connection_.get();
    lock.unlock();
    FrameHeader header;
    std::vector<uint8_t> frame;
    Status s = ReadFrame(*connection, &header, &frame);
    const wire::Reply* reply = s.ok() ? VerifiedReply(frame) : nullptr;
    if (s.ok() && !reply) s = Status::Corruption("malformed reply");
    PendingReply* target = nullptr;
    if (s.ok()) {
      lock.lock();
      auto it = pending_.find(reply->id());
      target = it == pending_.end() ? nullptr : it->second;
      lock.unlock();
      if (!target) {
        s = Status::Corruption("reply " + std::to_string(reply->id()) + " to no pending request");
      } else if (header.bulk_bytes) {
        s = *target->read_bulk ? (*target->read_bulk)(header.bulk_bytes)
                               : Status::Corruption("unexpected bulk data in a reply");
      }
    }
    lock.lock();
    reading_ = false;
    if (!s.ok()) {
      // The session is broken: every waiting thread learns it.
      Status broken = BreakLocked(s);
      for (auto& [pid, p] : pending_) {
        p->done = true;
        p->transport = broken;
      }
    } else {
      target->frame = std::move(frame);
      target->done = true;
    }
    reply_cv_.notify_all();
  }
  pending_.erase(id);
  lock.release();  // back to the caller's guard
  if (!mine.transport.ok()) return mine.transport;
  t_reply = std::move(mine.frame);
  const wire::Reply* reply = flatbuffers::GetRoot<wire::Reply>(t_reply.data());
  if (reply_out) *reply_out = reply;
  Status async_error;
  if (reply->async_error() != 0) {
    async_error = Status(reply->async_error(), reply->async_message() ? reply->async_message()->str() : "");
    Log(LogLevel::kDebug, "asynchronous error from device " + std::to_string(device_) + ": " + async_error.message());
  }
  if (reply->error() != 0) {
    NoteError(async_error);
    return NoteError(Status(reply->error(), reply->message() ? reply->message()->str() : ""));
  }
  return NoteError(async_error);
}

Status Session::CallLocked(wire::Request type, flatbuffers::Offset<void> body, const wire::Reply** reply) {
  uint64_t id = 0;
  RCUDA_RETURN_IF_ERROR(SendLocked(type, body, {}, &id));
  return ReceiveLocked(id, reply);
}

Status Session::Malloc(uint64_t size, uint64_t* ptr) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateMemAlloc(builder_, size);
  const wire::MemAllocReply* r = nullptr;
  Status s = CallForLocked(wire::Request::MemAlloc, body.Union(), &r);
  if (r) {
    *ptr = r->ptr();
    allocations_.Add(r->ptr(), size, AllocationTable::Kind::kMalloc);
  }
  return s;
}

Status Session::Free(uint64_t ptr) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (ptr != 0 && !allocations_.RemoveMalloc(ptr)) {
    return Status(cudaErrorInvalidValue, "cudaFree of a pointer that cudaMalloc did not return");
  }
  auto body = wire::CreateMemFree(builder_, ptr);
  return CallLocked(wire::Request::MemFree, body.Union());
}

Status Session::MemGetInfo(uint64_t* free, uint64_t* total) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateMemGetInfo(builder_);
  const wire::MemGetInfoReply* r = nullptr;
  Status s = CallForLocked(wire::Request::MemGetInfo, body.Union(), &r);
  if (r) {
    *free = r->free();
    *total = r->total();
  }
  return s;
}

Status Session::CopyToDevice(uint64_t dst, const void* src, uint64_t size, uint64_t stream) {
  // A host function still to run in some stream may write this memory
  // first: the stream would read it after that, so rcuda reads it after too.
  RCUDA_RETURN_IF_ERROR(WaitForHostFunctions());
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (size == 0) return Status::Ok();
  if (!allocations_.Contains(dst, size)) {
    return Status(cudaErrorInvalidValue, "cudaMemcpy destination is not inside a device allocation");
  }
  auto body = wire::CreateMemcpyHtoD(builder_, dst, size, stream);
  ConstBuffer bulk{src, size};
  return SendLocked(wire::Request::MemcpyHtoD, body.Union(), std::span(&bulk, 1));
}

Status Session::CopyFromDevice(void* dst, uint64_t src, uint64_t size, uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (size == 0) return Status::Ok();
  if (!allocations_.Contains(src, size)) {
    return Status(cudaErrorInvalidValue, "cudaMemcpy source is not inside a device allocation");
  }
  auto body = wire::CreateMemcpyDtoH(builder_, src, size, stream);
  uint64_t id = 0;
  RCUDA_RETURN_IF_ERROR(SendLocked(wire::Request::MemcpyDtoH, body.Union(), {}, &id));
  return ReceiveLocked(id, nullptr, dst, size);
}

Status Session::CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (size == 0) return Status::Ok();
  if (!allocations_.Contains(dst, size) || !allocations_.Contains(src, size)) {
    return Status(cudaErrorInvalidValue, "device-to-device cudaMemcpy outside the device allocations");
  }
  auto body = wire::CreateMemcpyDtoD(builder_, dst, src, size, stream);
  return SendLocked(wire::Request::MemcpyDtoD, body.Union());
}

Status Session::Memset(uint64_t dst, int value, uint64_t size, uint64_t stream) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (size == 0) return Status::Ok();
  if (!allocations_.Contains(dst, size)) {
    return Status(cudaErrorInvalidValue, "cudaMemset outside the device allocations");
  }
  auto body = wire::CreateMemset(builder_, dst, static_cast<uint32_t>(value) & 0xff, size, stream);
  return SendLocked(wire::Request::Memset, body.Union());
}

Status Session::ModuleLocked(const Module& module, RemoteModule** out) {
  // Another thread may be loading it right now (mu_ is released while a
  // reply is awaited): wait for that rather than load it twice.
  WaitLocked([&] { return !(module.index < loading_.size() && loading_[module.index]); });
  if (module.index < modules_.size() && modules_[module.index]) {
    *out = modules_[module.index].get();
    return (*out)->status;
  }
  if (modules_.size() <= module.index) modules_.resize(module.index + 1);
  if (loading_.size() <= module.index) loading_.resize(module.index + 1, false);
  loading_[module.index] = true;
  struct Done {
    Session* s;
    size_t i;
    ~Done() {
      s->loading_[i] = false;
      s->reply_cv_.notify_all();
    }
  } done{this, module.index};
  auto remote = std::make_unique<RemoteModule>();
  if (module.image.empty()) {
    remote->status = Status(cudaErrorInvalidKernelImage, "the program registered a fatbinary rcuda cannot read");
  } else {
    std::vector<flatbuffers::Offset<flatbuffers::String>> fns, vars;
    for (const Function* f : module.functions) fns.push_back(builder_.CreateString(f->device_name));
    for (const Variable* v : module.variables) vars.push_back(builder_.CreateString(v->device_name));
    auto body = wire::CreateModuleLoadDirect(builder_, module.index + 1, &fns, &vars);
    ConstBuffer bulk{module.image.data(), module.image.size()};
    uint64_t id = 0;
    RCUDA_RETURN_IF_ERROR(SendLocked(wire::Request::ModuleLoad, body.Union(), std::span(&bulk, 1), &id));
    const wire::ModuleLoadReply* r = nullptr;
    Status s = ReceiveForLocked(id, &r);
    if (!r && !sticky_.ok()) return s;  // the session broke
    if (!r) {
      remote->status = Status(s.code(), "loading a module failed: " + s.message());
      Log(LogLevel::kError, "device " + std::to_string(device_) + ": " + remote->status.message());
    } else {
      if (!r->functions() || !r->variables() || r->functions()->size() != module.functions.size() ||
          r->variables()->size() != module.variables.size()) {
        return BreakLocked(Status::Corruption("ModuleLoad reply does not match the request"));
      }
      for (size_t i = 0; i < module.functions.size(); ++i) {
        RemoteFunction rf;
        RCUDA_RETURN_IF_ERROR(DescribeFunctionLocked(*module.functions[i], *r->functions()->Get(i), &rf));
        remote->functions.push_back(std::move(rf));
      }
      for (const auto* v : *r->variables()) {
        remote->variables.push_back(RemoteVariable{v->found(), v->address(), v->size()});
        if (v->found()) allocations_.Add(v->address(), v->size(), AllocationTable::Kind::kVariable);
      }
      // The module loaded; `s` may still carry an error of earlier
      // asynchronous work, which the caller reports.
      modules_[module.index] = std::move(remote);
      *out = modules_[module.index].get();
      return s;
    }
  }
  modules_[module.index] = std::move(remote);
  *out = modules_[module.index].get();
  return (*out)->status;
}

Status Session::DescribeFunctionLocked(const Function& function, const wire::FunctionInfo& f, RemoteFunction* rf) {
  rf->found = f.found();
  rf->handle = f.handle();
  const auto* offsets = f.param_offsets();
  const auto* sizes = f.param_sizes();
  if (rf->found) {
    // The layout says how many bytes to read through each of the program's
    // argument pointers: it must be one the program's kernel can have.
    if ((offsets ? offsets->size() : 0) != (sizes ? sizes->size() : 0)) {
      return BreakLocked(Status::Corruption("kernel " + function.device_name + ": parameter offsets and sizes differ"));
    }
    for (size_t i = 0; offsets && i < offsets->size(); ++i) rf->params.push_back({offsets->Get(i), sizes->Get(i)});
    Status layout = CheckParamLayout(function.device_name, rf->params, ProgramParamLayout(function));
    if (!layout.ok()) return BreakLocked(layout);
  }
  rf->max_threads_per_block = f.max_threads_per_block();
  rf->shared_size_bytes = f.shared_size_bytes();
  rf->const_size_bytes = f.const_size_bytes();
  rf->local_size_bytes = f.local_size_bytes();
  rf->num_regs = f.num_regs();
  rf->ptx_version = f.ptx_version();
  rf->binary_version = f.binary_version();
  rf->max_dynamic_shared_size_bytes = f.max_dynamic_shared_size_bytes();
  return Status::Ok();
}

Status Session::FunctionLocked(const Function& function, RemoteFunction** out) {
  RemoteModule* module = nullptr;
  RCUDA_RETURN_IF_ERROR(ModuleLocked(*function.module, &module));
  RemoteFunction* f = &module->functions[function.index];
  if (!f->found) {
    return Status(cudaErrorInvalidDeviceFunction,
                  "kernel " + function.device_name + " has no code for device " + std::to_string(device_));
  }
  *out = f;
  return Status::Ok();
}

Status Session::GetFunction(const Function& function, RemoteFunction* out) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  RemoteFunction* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionLocked(function, &f));
  *out = *f;
  return Status::Ok();
}

void Session::NoteMaxDynamicShared(const Function& function, int bytes) {
  std::lock_guard lock(mu_);
  RemoteFunction* f = nullptr;
  if (FunctionLocked(function, &f).ok()) f->max_dynamic_shared_size_bytes = bytes;
}

Status Session::GetVariable(const Variable& variable, RemoteVariable* out) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  RemoteModule* module = nullptr;
  RCUDA_RETURN_IF_ERROR(ModuleLocked(*variable.module, &module));
  const RemoteVariable& v = module->variables[variable.index];
  if (!v.found) return Status(cudaErrorInvalidSymbol, "variable " + variable.device_name + " not found on the device");
  *out = v;
  return Status::Ok();
}

Status Session::Launch(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                       uint64_t stream) {
  return LaunchWith(function, grid, block, args, shared_bytes, stream, LaunchExtras{});
}

Status Session::LaunchWith(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                           uint64_t stream, const LaunchExtras& extras) {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (function.module->has_managed) {
    return Status(cudaErrorNotSupported, "kernel " + function.device_name +
                                             " belongs to a module with __managed__ variables, which rcuda does not "
                                             "support yet");
  }
  RemoteFunction* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionLocked(function, &f));
  // The launch checks CUDA makes synchronously, made here so that the
  // program sees them at the launch (cudaGetLastError), not later. CUDA 13
  // reports them as cudaErrorInvalidValue (seen natively on an H100 for a
  // block of 2048 threads), so rcuda does too.
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0 ||
      block.x > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxBlockDimX)) ||
      block.y > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxBlockDimY)) ||
      block.z > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxBlockDimZ)) ||
      grid.x > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxGridDimX)) ||
      grid.y > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxGridDimY)) ||
      grid.z > static_cast<unsigned>(info_.attribute(cudaDevAttrMaxGridDimZ)) ||
      (f->max_threads_per_block > 0 && threads > static_cast<uint64_t>(f->max_threads_per_block))) {
    return Status(cudaErrorInvalidValue, "invalid launch configuration for " + function.device_name);
  }
  if (f->max_dynamic_shared_size_bytes > 0 && shared_bytes > static_cast<size_t>(f->max_dynamic_shared_size_bytes)) {
    return Status(cudaErrorInvalidValue, "kernel " + function.device_name + " asks for " +
                                             std::to_string(shared_bytes) + " bytes of dynamic shared memory, over " +
                                             std::to_string(f->max_dynamic_shared_size_bytes));
  }
  RCUDA_RETURN_IF_ERROR(PackKernelParams(f->params, args, &params_));
  wire::Dim3 g(grid.x, grid.y, grid.z), b(block.x, block.y, block.z);
  wire::Dim3 cluster(extras.cluster.x, extras.cluster.y, extras.cluster.z);
  auto params = builder_.CreateVector(params_);
  auto body = wire::CreateLaunch(builder_, f->handle, &g, &b, static_cast<uint32_t>(shared_bytes), stream, params,
                                 extras.cooperative, extras.cluster.x ? &cluster : nullptr, extras.priority,
                                 extras.has_priority);
  return SendLocked(wire::Request::Launch, body.Union());
}

Status Session::Synchronize() {
  std::lock_guard lock(mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  auto body = wire::CreateDeviceSynchronize(builder_);
  return CallLocked(wire::Request::DeviceSynchronize, body.Union());
}

Status Session::Reset() {
  std::lock_guard lock(mu_);
  WaitLocked([&] { return !reading_ && pending_.empty(); });
  // Closing the connection ends the worker, which frees everything.
  connection_.reset();
  connected_ = false;
  sticky_ = Status::Ok();
  allocations_.Clear();
  modules_.clear();
  host_channel_ = std::make_unique<HostChannelClient>();
  ++generation_;
  return Status::Ok();
}

bool Session::FindAllocation(uint64_t ptr, uint64_t* base, uint64_t* size) {
  std::lock_guard lock(mu_);
  return allocations_.Find(ptr, base, size);
}

bool Session::OwnsRange(uint64_t ptr, uint64_t size) {
  std::lock_guard lock(mu_);
  return allocations_.Contains(ptr, size);
}

void Session::LockForFork() {
  channel_mu_.lock();
  mu_.lock();
}

void Session::UnlockAfterFork() {
  mu_.unlock();
  channel_mu_.unlock();
}

void Session::ResetInForkedChild() {
  // The threads that were reading replies or serving the host channel are
  // the parent's; the child has only the thread that forked.
  const bool had_session = connection_ != nullptr;
  AbandonConnection(std::move(connection_));
  host_channel_.release()->AbandonInForkedChild();
  host_channel_ = std::make_unique<HostChannelClient>();
  connected_ = false;
  connecting_ = false;
  reading_ = false;
  pending_.clear();
  sticky_ = Status::Ok();
  next_id_ = 0;
  builder_.Clear();
  allocations_.Clear();
  modules_.clear();
  loading_.clear();
  ++generation_;
  if (had_session) {
    Log(LogLevel::kInfo, "forked child: device " + std::to_string(device_) +
                             " will open a session of its own; the parent's memory, streams and events are not "
                             "the child's");
  }
  UnlockAfterFork();
}

}  // namespace rcuda::client
