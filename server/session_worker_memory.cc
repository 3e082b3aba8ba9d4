// SessionWorker's handlers for what takes GPU memory: allocations, pitched
// allocations, stream-ordered pools, device limits that reserve memory, and
// modules. Each is charged to the session's MemoryBudget (the lease's grant,
// shared by all the lease's sessions) before the GPU is asked.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "common/fatbin.h"
#include "protocol/call_ops.h"
#include "server/session_worker.h"

namespace rcuda {
namespace {

constexpr int kInvalidResourceHandle = 400;
// cudaMemPoolAttr / cudaMemLocationType / cudaLimit values.
constexpr int64_t kPoolReservedMemCurrent = 5;
constexpr int64_t kLocationDevice = 1;
constexpr int64_t kLimitStackSize = 0, kLimitPrintfFifoSize = 1, kLimitMallocHeapSize = 2;

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Status GrantSpent(uint64_t bytes, uint64_t limit) {
  return Status::OutOfMemory(std::to_string(bytes) + " more bytes exceed the memory grant of the session's lease (" +
                             std::to_string(limit) + " bytes, shared by all its sessions on this GPU)");
}

}  // namespace

bool SessionWorker::ChargeOrRefresh(uint64_t bytes) {
  if (budget_.Charge(bytes)) return true;
  RefreshPoolCharge();
  return budget_.Charge(bytes);
}

void SessionWorker::RefreshPoolCharge() {
  if (budget_.limit() == 0) return;  // nothing to hold the session to
  // A pool keeps freed memory reserved (up to its release threshold) until
  // it trims: that memory is the session's as much as what it uses.
  uint64_t target = 0;
  for (const auto& [pool, used] : pool_used_) {
    std::vector<int64_t> values;
    int64_t args[] = {pool, kPoolReservedMemCurrent};
    uint64_t reserved = 0;
    if (executor_->Call(static_cast<uint32_t>(CallOp::kMemPoolGetAttribute), args, &values).ok() && !values.empty()) {
      reserved = static_cast<uint64_t>(std::max<int64_t>(0, values[0]));
    }
    target += std::max(reserved, used);
  }
  if (target > pool_charge_) {
    budget_.ForceCharge(target - pool_charge_);
  } else {
    budget_.Release(pool_charge_ - target);
  }
  pool_charge_ = target;
}

int64_t SessionWorker::PoolOf(int64_t pool) {
  if (pool != 0) return pool;
  std::vector<int64_t> values;
  Status s = executor_->Call(static_cast<uint32_t>(CallOp::kDeviceGetMemPool), {}, &values);
  return s.ok() && !values.empty() ? values[0] : 0;
}

bool SessionWorker::TakeHandle() {
  if (live_handles_ >= SessionCaps::kMaxHandles) return false;
  ++live_handles_;
  return true;
}

void SessionWorker::GiveHandle() { live_handles_ = std::max(0, live_handles_ - 1); }

Status SessionWorker::HandleMemAlloc(const wire::Message& m) {
  uint64_t size = m.request_as_MemAlloc()->size();
  builder_.Clear();
  if (!ChargeOrRefresh(size)) return SendReply(m.id(), GrantSpent(size, budget_.limit()));
  uint64_t ptr = 0;
  Status s = executor_->Allocate(size, &ptr);
  if (s.ok()) {
    allocations_.Add(ptr, size, AllocationTable::Kind::kMalloc);
  } else {
    budget_.Release(size);
  }
  builder_.Clear();
  auto body = wire::CreateMemAllocReply(builder_, ptr);
  return SendReply(m.id(), s, wire::ReplyBody::MemAllocReply, body.Union());
}

Status SessionWorker::HandleMemFree(const wire::Message& m) {
  uint64_t ptr = m.request_as_MemFree()->ptr();
  builder_.Clear();
  if (ptr == 0) return SendReply(m.id(), Status::Ok());  // cudaFree(nullptr) is a no-op
  uint64_t size = 0;
  if (!allocations_.RemoveMalloc(ptr, &size)) {
    return SendReply(m.id(), Status::InvalidValue("cudaFree of " + Hex(ptr) + ", which this session did not allocate"));
  }
  Status s = executor_->Free(ptr);
  if (auto it = pool_allocations_.find(ptr); it != pool_allocations_.end()) {
    // cudaFree of stream-ordered memory: its pool may keep it reserved.
    pool_used_[it->second.first] -= std::min(pool_used_[it->second.first], it->second.second);
    pool_allocations_.erase(it);
    RefreshPoolCharge();
  } else {
    budget_.Release(size);
  }
  return SendReply(m.id(), s);
}

Status SessionWorker::HandleMemGetInfo(const wire::Message& m) {
  uint64_t free = 0, total = 0;
  Status s = executor_->MemGetInfo(&free, &total);
  if (s.ok() && budget_.limit()) {
    // A session held to a grant sees a GPU of the grant's size.
    RefreshPoolCharge();
    total = budget_.limit();
    free = std::min(free, budget_.available());
  }
  builder_.Clear();
  auto body = wire::CreateMemGetInfoReply(builder_, free, total);
  return SendReply(m.id(), s, wire::ReplyBody::MemGetInfoReply, body.Union());
}

Status SessionWorker::HandleMallocPitch(const wire::Message& m) {
  const auto* r = m.request_as_MallocPitch();
  uint64_t ptr = 0, pitch = 0, packed = 0, bytes = 0;
  Status s;
  builder_.Clear();
  // The rows' width first (the pitch is only known once allocated), then
  // what the GPU really holds: pitch * height.
  if (__builtin_mul_overflow(r->width(), r->height(), &packed)) {
    s = Status::OutOfMemory("cudaMallocPitch of an impossible size");
  } else if (budget_.limit() && packed > budget_.available()) {
    s = GrantSpent(packed, budget_.limit());
  } else {
    s = executor_->AllocatePitch(r->width(), r->height(), &ptr, &pitch);
    if (s.ok() && (__builtin_mul_overflow(pitch, r->height(), &bytes) || !ChargeOrRefresh(bytes))) {
      executor_->Free(ptr);
      s = GrantSpent(bytes, budget_.limit());
      ptr = pitch = 0;
    }
    if (s.ok()) allocations_.Add(ptr, bytes, AllocationTable::Kind::kMalloc);
  }
  builder_.Clear();
  auto body = wire::CreateMallocPitchReply(builder_, ptr, pitch);
  return SendReply(m.id(), s, wire::ReplyBody::MallocPitchReply, body.Union());
}

Status SessionWorker::HandleCall(const wire::Message& m) {
  const auto* r = m.request_as_Call();
  std::vector<int64_t> args;
  if (r->args()) args.assign(r->args()->begin(), r->args()->end());
  CallOp op = static_cast<CallOp>(r->op());
  std::vector<int64_t> values;
  Status s;
  switch (op) {
    case CallOp::kFreeAsync:
      CallFreeAsync(args);
      return Status::Ok();  // async: no reply
    case CallOp::kMallocAsync:
      s = CallMallocAsync(args, &values);
      break;
    case CallOp::kMemPoolCreate:
      s = CallPoolCreate(args, &values);
      break;
    case CallOp::kDeviceSetLimit:
      s = CallSetLimit(args);
      break;
    default:
      s = executor_->Call(r->op(), args, &values);
      if (op == CallOp::kMemPoolDestroy && s.ok()) GiveHandle();
      // What the session's pools reserve may have changed.
      if (op == CallOp::kMemPoolDestroy || op == CallOp::kMemPoolTrimTo || op == CallOp::kDeviceSetMemPool) {
        RefreshPoolCharge();
      }
      break;
  }
  builder_.Clear();
  auto body = wire::CreateCallReplyDirect(builder_, &values);
  return SendReply(m.id(), s, wire::ReplyBody::CallReply, body.Union());
}

Status SessionWorker::CallMallocAsync(std::vector<int64_t>& args, std::vector<int64_t>* values) {
  // args: size, stream, pool (0: the device's current pool)
  if (args.size() < 3) args.resize(3, 0);
  uint64_t size = static_cast<uint64_t>(args[0]);
  // Which pool it draws from matters only to a session held to a grant.
  int64_t pool = budget_.limit() ? PoolOf(args[2]) : args[2];
  if (!ChargeOrRefresh(size)) return GrantSpent(size, budget_.limit());
  Status s = executor_->Call(static_cast<uint32_t>(CallOp::kMallocAsync), args, values);
  if (!s.ok() || values->empty()) {
    budget_.Release(size);
    return s.ok() ? Status(Status::kUnknown, "cudaMallocAsync returned no pointer") : s;
  }
  uint64_t ptr = static_cast<uint64_t>((*values)[0]);
  allocations_.Add(ptr, size, AllocationTable::Kind::kMalloc);
  pool_allocations_[ptr] = {pool, size};
  pool_used_[pool] += size;
  pool_charge_ += size;  // charged above
  RefreshPoolCharge();   // the pool may reserve more than it hands out
  return Status::Ok();
}

void SessionWorker::CallFreeAsync(std::vector<int64_t>& args) {
  // args: ptr, stream
  if (args.size() < 2) args.resize(2, 0);
  uint64_t ptr = static_cast<uint64_t>(args[0]);
  uint64_t size = 0;
  if (!allocations_.RemoveMalloc(ptr, &size)) {
    RecordAsyncError(Status::InvalidValue("cudaFreeAsync of memory this session did not allocate"));
    return;
  }
  std::vector<int64_t> values;
  RecordAsyncError(executor_->Call(static_cast<uint32_t>(CallOp::kFreeAsync), args, &values));
  if (auto it = pool_allocations_.find(ptr); it != pool_allocations_.end()) {
    // Back in its pool, which keeps it reserved until it trims: still
    // charged as long as the pool holds it.
    uint64_t& used = pool_used_[it->second.first];
    used -= std::min(used, it->second.second);
    pool_allocations_.erase(it);
    RefreshPoolCharge();
  } else {
    budget_.Release(size);
  }
}

Status SessionWorker::CallPoolCreate(std::vector<int64_t>& args, std::vector<int64_t>* values) {
  // args: location type, location id, allocation type, handle types.
  // A pool lives on the session's GPU, whatever device the client names;
  // pools of host memory would pin the server's.
  if (args.size() < 4) args.resize(4, 0);
  if (args[0] != kLocationDevice) return Status(Status::kNotSupported, "memory pools on the host are not supported");
  args[1] = policy_.gpu;
  if (!TakeHandle()) return Status::OutOfMemory("too many streams, events, graphs and pools in this session");
  Status s = executor_->Call(static_cast<uint32_t>(CallOp::kMemPoolCreate), args, values);
  if (!s.ok()) GiveHandle();
  return s;
}

Status SessionWorker::CallSetLimit(std::vector<int64_t>& args) {
  // args: limit, value. A stack size is reserved for every thread the GPU
  // can hold; the printf FIFO and the malloc heap for what they say.
  if (args.size() < 2) args.resize(2, 0);
  int64_t limit = args[0];
  uint64_t value = static_cast<uint64_t>(std::max<int64_t>(0, args[1]));
  uint64_t reserves = 0;
  if (limit == kLimitStackSize) {
    if (__builtin_mul_overflow(value, resident_threads_, &reserves)) reserves = UINT64_MAX;
  } else if (limit == kLimitPrintfFifoSize || limit == kLimitMallocHeapSize) {
    reserves = value;
  }
  uint64_t before = limit_charges_[limit];
  if (reserves > before && !ChargeOrRefresh(reserves - before)) return GrantSpent(reserves - before, budget_.limit());
  std::vector<int64_t> values;
  Status s = executor_->Call(static_cast<uint32_t>(CallOp::kDeviceSetLimit), args, &values);
  if (s.ok()) {
    if (reserves < before) budget_.Release(before - reserves);
    limit_charges_[limit] = reserves;
  } else if (reserves > before) {
    budget_.Release(reserves - before);
  }
  return s;
}

Status SessionWorker::HandleModuleLoad(const wire::Message& m, uint64_t bulk_bytes) {
  const auto* r = m.request_as_ModuleLoad();
  if (bulk_bytes == 0 || bulk_bytes > SessionCaps::kMaxModuleBytes) {
    return Status::Corruption("ModuleLoad without a sane fatbinary");
  }
  builder_.Clear();
  if (modules_.count(r->module_id())) {
    RCUDA_RETURN_IF_ERROR(DiscardBulk(*connection_, bulk_bytes));
    return SendReply(m.id(), Status::InvalidValue("module " + std::to_string(r->module_id()) + " is loaded already"));
  }
  // Not zero-filled first: memory is taken as the bytes arrive.
  std::unique_ptr<char[]> image(new char[bulk_bytes]);
  RCUDA_RETURN_IF_ERROR(connection_->ReadExact(image.get(), bulk_bytes));
  std::string_view fatbin(image.get(), bulk_bytes);
  // The module's image and all its globals (named or not, initialized or
  // not) take GPU memory: charged before the GPU is asked.
  uint64_t charge = bulk_bytes;
  ModuleImage parsed;
  if (LoadModuleImage(fatbin, arch_, &parsed).ok()) {
    for (const auto& v : parsed.variables) charge = charge + v.size < charge ? UINT64_MAX : charge + v.size;
  }
  if (!ChargeOrRefresh(charge)) return SendReply(m.id(), GrantSpent(charge, budget_.limit()));
  std::vector<std::string> functions, variables;
  if (r->functions())
    for (const auto* f : *r->functions()) functions.push_back(f->str());
  if (r->variables())
    for (const auto* v : *r->variables()) variables.push_back(v->str());
  uint64_t module = 0;
  ModuleDescription description;
  Status s = executor_->LoadModule(fatbin, functions, variables, &module, &description);
  builder_.Clear();
  if (!s.ok()) {
    budget_.Release(charge);
    return SendReply(m.id(), s);
  }
  LoadedModule& loaded = modules_[r->module_id()];
  loaded.executor_id = module;
  loaded.charged = charge;
  std::vector<flatbuffers::Offset<wire::FunctionInfo>> fns;
  for (const auto& f : description.functions) {
    std::vector<uint32_t> offsets, sizes;
    for (const auto& p : f.params) {
      offsets.push_back(p.offset);
      sizes.push_back(p.size);
    }
    fns.push_back(wire::CreateFunctionInfoDirect(
        builder_, f.found, f.handle, &offsets, &sizes, f.max_threads_per_block, f.shared_size_bytes,
        f.const_size_bytes, f.local_size_bytes, f.num_regs, f.ptx_version, f.binary_version,
        f.max_dynamic_shared_size_bytes));
  }
  std::vector<flatbuffers::Offset<wire::VariableInfo>> vars;
  for (const auto& v : description.variables) {
    if (v.found) {
      allocations_.Add(v.address, v.size, AllocationTable::Kind::kVariable);
      loaded.variables.push_back(v.address);
    }
    vars.push_back(wire::CreateVariableInfo(builder_, v.found, v.address, v.size));
  }
  auto body = wire::CreateModuleLoadReplyDirect(builder_, &fns, &vars);
  return SendReply(m.id(), s, wire::ReplyBody::ModuleLoadReply, body.Union());
}

Status SessionWorker::HandleModuleUnload(const wire::Message& m) {
  auto it = modules_.find(m.request_as_ModuleUnload()->module_id());
  if (it == modules_.end()) {
    RecordAsyncError(Status(kInvalidResourceHandle, "unload of a module this session did not load"));
    return Status::Ok();
  }
  // Its variables leave the session's memory map with it, and the
  // executor refuses its functions (and graphs that use them) from now on.
  for (uint64_t base : it->second.variables) allocations_.RemoveVariable(base);
  RecordAsyncError(executor_->UnloadModule(it->second.executor_id));
  budget_.Release(it->second.charged);
  modules_.erase(it);
  return Status::Ok();
}

}  // namespace rcuda
