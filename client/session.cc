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

Session::Session(int device, Endpoint endpoint) : RpcChannel(device), endpoint_(std::move(endpoint)) {}

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
    sticky_ = Status::Cuda(cudaErrorDevicesUnavailable, "cannot reach " + where + ": " + s.message());
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
    // Over TLS 1.3 a server that refuses the client's certificate says so
    // after the handshake, in answer to the Hello.
    if (std::string advice = TlsAdvice(why); !advice.empty()) why += " (" + advice + ")";
    connected_ = false;
    connection_.reset();
    sticky_ = Status::Cuda(cudaErrorDevicesUnavailable, where + (expired ? " did not answer: " : " refused the session: ") + why);
    Log(LogLevel::kError, sticky_.message());
    return sticky_;
  }
  const wire::DeviceInfo* d = hr->device();
  if (!d || !d->props() || d->props()->size() != sizeof(cudaDeviceProp)) {
    connected_ = false;
    connection_.reset();
    sticky_ = Status::Cuda(cudaErrorDevicesUnavailable, where + " sent an unusable device description");
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
  if (int streams = TcpStreamsWanted(*connection_, hr->tcp_streams()); streams > 0 && !session_key_.empty()) {
    // Without them the session works as well, on one connection.
    if (Status ss = OpenTcpStripes(endpoint_, session_key_, streams, &stripes_); !ss.ok()) {
      Log(LogLevel::kWarn, "striped TCP unavailable, copies use one connection: " + ss.message());
    } else {
      stripes_announced_ = false;
      Log(LogLevel::kDebug, std::to_string(streams) + " TCP data streams open to " + where);
    }
  }
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


void Session::OnBrokenLocked(const Status& sticky) {
  if (stripes_) stripes_->Shutdown();
  host_channel_->Fail(sticky);
}

Status Session::FunctionLocked(const Function& function, FunctionDescription** out) {
  return modules_.Kernel(*this, allocations_, function, out);
}

Status Session::GetFunction(const Function& function, FunctionDescription* out) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  FunctionDescription* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionLocked(function, &f));
  *out = *f;
  return Status::Ok();
}

void Session::NoteMaxDynamicShared(const Function& function, int bytes) {
  MutexLock lock(&mu_);
  FunctionDescription* f = nullptr;
  if (FunctionLocked(function, &f).ok()) f->max_dynamic_shared_size_bytes = bytes;
}

Status Session::GetVariable(const Variable& variable, VariableDescription* out) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  ModuleCache::LoadedModule* module = nullptr;
  RCUDA_RETURN_IF_ERROR(modules_.Get(*this, allocations_, *variable.module, &module));
  const VariableDescription& v = module->variables[variable.index];
  if (!v.found) return Status::Cuda(cudaErrorInvalidSymbol, "variable " + variable.device_name + " not found on the device");
  *out = v;
  return Status::Ok();
}

Status Session::Launch(const Function& function, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                       uint64_t stream, const LaunchOptions& options) {
  MutexLock lock(&mu_);
  RCUDA_RETURN_IF_ERROR(ConnectLocked());
  if (function.module->has_managed) {
    return Status::Cuda(cudaErrorNotSupported, "kernel " + function.device_name +
                                             " belongs to a module with __managed__ variables, which rcuda does not "
                                             "support yet");
  }
  FunctionDescription* f = nullptr;
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
    return Status::Cuda(cudaErrorInvalidValue, "invalid launch configuration for " + function.device_name);
  }
  if (f->max_dynamic_shared_size_bytes > 0 && shared_bytes > static_cast<size_t>(f->max_dynamic_shared_size_bytes)) {
    return Status::Cuda(cudaErrorInvalidValue, "kernel " + function.device_name + " asks for " +
                                             std::to_string(shared_bytes) + " bytes of dynamic shared memory, over " +
                                             std::to_string(f->max_dynamic_shared_size_bytes));
  }
  RCUDA_RETURN_IF_ERROR(PackKernelParams(f->params, args, &params_));
  wire::Dim3 g(grid.x, grid.y, grid.z), b(block.x, block.y, block.z);
  wire::Dim3 cluster(options.cluster.x, options.cluster.y, options.cluster.z);
  auto params = builder_.CreateVector(params_);
  auto body = wire::CreateLaunch(builder_, f->handle, &g, &b, static_cast<uint32_t>(shared_bytes), stream, params,
                                 options.cooperative, options.cluster.x ? &cluster : nullptr, options.priority,
                                 options.has_priority);
  return SendLocked(wire::Request::Launch, body.Union());
}

Status Session::Reset() {
  MutexLock lock(&mu_);
  // The wait re-checks with mu_ held (WaitLocked), which the analysis cannot see in a lambda.
  WaitLocked([&]() NO_THREAD_SAFETY_ANALYSIS { return !reading_ && pending_.empty(); });
  // Closing the connection ends the worker, which frees everything.
  stripes_.reset();
  connection_.reset();
  connected_ = false;
  sticky_ = Status::Ok();
  allocations_.Clear();
  modules_.Clear();
  host_channel_ = std::make_unique<HostChannelClient>();
  ++generation_;
  return Status::Ok();
}

bool Session::FindAllocation(uint64_t ptr, uint64_t* base, uint64_t* size) {
  MutexLock lock(&mu_);
  return allocations_.Find(ptr, base, size);
}

bool Session::OwnsRange(uint64_t ptr, uint64_t size) {
  MutexLock lock(&mu_);
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
  if (stripes_) stripes_->Abandon();
  (void)stripes_.release();  // never destroyed: its connections are the parent's too
  host_channel_.release()->AbandonInForkedChild();
  host_channel_ = std::make_unique<HostChannelClient>();
  ClearLocked();
  allocations_.Clear();
  modules_.Clear();
  ++generation_;
  if (had_session) {
    Log(LogLevel::kInfo, "forked child: device " + std::to_string(device_) +
                             " will open a session of its own; the parent's memory, streams and events are not "
                             "the child's");
  }
  UnlockAfterFork();
}

}  // namespace rcuda::client
