// SessionWorker's handlers for what takes GPU memory: allocations, pitched
// allocations, stream-ordered pools, device limits that reserve memory, and
// modules. Each is charged to the session's MemoryBudget (the lease's grant,
// shared by all the lease's sessions) before the GPU is asked.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/cuda_error_codes.h"
#include "common/fatbin.h"
#include "protocol/wire_convert.h"
#include "server/executor_calls.h"
#include "server/session_worker.h"

namespace rcuda {
namespace {

constexpr int kInvalidResourceHandle = kCudaErrorInvalidResourceHandle;
// cudaMemPoolAttr / cudaMemLocationType / cudaLimit values.
constexpr int64_t kPoolReservedMemCurrent = 5;
constexpr int64_t kLocationDevice = 1;
constexpr int64_t kLimitStackSize = 0, kLimitPrintfFifoSize = 1, kLimitMallocHeapSize = 2;

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
    int64_t reserved = 0;
    if (!calls::MemPoolGetAttribute(*executor_, static_cast<uint64_t>(pool), kPoolReservedMemCurrent, &reserved).ok()) {
      reserved = 0;
    }
    target += std::max(static_cast<uint64_t>(std::max<int64_t>(0, reserved)), used);
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
  uint64_t current = 0;
  return calls::DeviceGetMemPool(*executor_, &current).ok() ? static_cast<int64_t>(current) : 0;
}

Status SessionWorker::OnMemAlloc(uint64_t size, uint64_t* ptr) {
  if (!ChargeOrRefresh(size)) return GrantSpent(size, budget_.limit());
  Status s = executor_->Allocate(size, ptr);
  if (!s.ok()) budget_.Release(size);
  return s;
}

Status SessionWorker::OnMemFree(uint64_t ptr, uint64_t bytes) {
  if (ptr == 0) return Status::Ok();  // cudaFree(nullptr) is a no-op
  Status s = executor_->Free(ptr);
  if (auto it = pool_allocations_.find(ptr); it != pool_allocations_.end()) {
    // cudaFree of stream-ordered memory: its pool may keep it reserved.
    pool_used_[it->second.first] -= std::min(pool_used_[it->second.first], it->second.second);
    pool_allocations_.erase(it);
    RefreshPoolCharge();
  } else {
    budget_.Release(bytes);
  }
  return s;
}

Status SessionWorker::OnMemGetInfo(uint64_t* free, uint64_t* total) {
  Status s = executor_->MemGetInfo(free, total);
  if (s.ok() && budget_.limit()) {
    // A session held to a grant sees a GPU of the grant's size.
    RefreshPoolCharge();
    *total = budget_.limit();
    *free = std::min(*free, budget_.available());
  }
  return s;
}

Status SessionWorker::OnMallocPitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) {
  uint64_t packed = 0, bytes = 0;
  // The rows' width first (the pitch is only known once allocated), then
  // what the GPU really holds: pitch * height.
  if (__builtin_mul_overflow(width, height, &packed))
    return Status::OutOfMemory("cudaMallocPitch of an impossible size");
  if (budget_.limit() && packed > budget_.available()) return GrantSpent(packed, budget_.limit());
  RCUDA_RETURN_IF_ERROR(executor_->AllocatePitch(width, height, ptr, pitch));
  if (__builtin_mul_overflow(*pitch, height, &bytes) || !ChargeOrRefresh(bytes)) {
    executor_->Free(*ptr);
    *ptr = *pitch = 0;
    return GrantSpent(bytes, budget_.limit());
  }
  return Status::Ok();
}

Status SessionWorker::OnMallocAsync(int64_t size, uint64_t stream, uint64_t pool_arg, uint64_t* ptr) {
  uint64_t bytes = static_cast<uint64_t>(size);
  // Which pool it draws from matters only to a session held to a grant.
  int64_t pool = budget_.limit() ? PoolOf(static_cast<int64_t>(pool_arg)) : static_cast<int64_t>(pool_arg);
  if (!ChargeOrRefresh(bytes)) return GrantSpent(bytes, budget_.limit());
  Status s = calls::MallocAsync(*executor_, size, stream, pool_arg, ptr);
  if (!s.ok()) {
    budget_.Release(bytes);
    return s;
  }
  pool_allocations_[*ptr] = {pool, bytes};
  pool_used_[pool] += bytes;
  pool_charge_ += bytes;  // charged above
  RefreshPoolCharge();    // the pool may reserve more than it hands out
  return Status::Ok();
}

Status SessionWorker::OnFreeAsync(uint64_t ptr, uint64_t bytes, uint64_t stream) {
  Status s = calls::FreeAsync(*executor_, ptr, stream);
  if (auto it = pool_allocations_.find(ptr); it != pool_allocations_.end()) {
    // Back in its pool, which keeps it reserved until it trims: still
    // charged as long as the pool holds it.
    uint64_t& used = pool_used_[it->second.first];
    used -= std::min(used, it->second.second);
    pool_allocations_.erase(it);
    RefreshPoolCharge();
  } else {
    budget_.Release(bytes);
  }
  return s;
}

Status SessionWorker::OnMemPoolCreate(int64_t location_type, int64_t location_id, int64_t alloc_type,
                                      int64_t handle_types, uint64_t* pool) {
  // A pool lives on the session's GPU, whatever device the client names;
  // pools of host memory would pin the server's.
  (void)location_id;
  if (location_type != kLocationDevice)
    return Status::NotSupported("memory pools on the host are not supported");
  return calls::MemPoolCreate(*executor_, location_type, policy_.gpu, alloc_type, handle_types, pool);
}

Status SessionWorker::OnDeviceSetLimit(int64_t limit, int64_t value_arg) {
  // A stack size is reserved for every thread the GPU can hold; the printf
  // FIFO and the malloc heap for what they say.
  uint64_t value = static_cast<uint64_t>(std::max<int64_t>(0, value_arg));
  uint64_t reserves = 0;
  if (limit == kLimitStackSize) {
    if (__builtin_mul_overflow(value, resident_threads_, &reserves)) reserves = UINT64_MAX;
  } else if (limit == kLimitPrintfFifoSize || limit == kLimitMallocHeapSize) {
    reserves = value;
  }
  uint64_t before = limit_charges_[limit];
  if (reserves > before && !ChargeOrRefresh(reserves - before)) return GrantSpent(reserves - before, budget_.limit());
  Status s = calls::DeviceSetLimit(*executor_, limit, value_arg);
  if (s.ok()) {
    if (reserves < before) budget_.Release(before - reserves);
    limit_charges_[limit] = reserves;
  } else if (reserves > before) {
    budget_.Release(reserves - before);
  }
  return s;
}

Status SessionWorker::HandleModuleLoad(const wire::ModuleLoad& r, uint64_t id, uint64_t bulk_bytes) {
  if (bulk_bytes > SessionCaps::kMaxModuleBytes) return Status::Corruption("ModuleLoad without a sane fatbinary");
  builder_.Clear();
  if (modules_.count(r.module_id())) {
    RCUDA_RETURN_IF_ERROR(DiscardBulk(*connection_, bulk_bytes));
    return SendReply(id, Status::InvalidValue("module " + std::to_string(r.module_id()) + " is loaded already"));
  }
  // Taken as the bytes arrive, a step at a time: an image announced at a
  // gigabyte of which little comes holds little (neither zero-filled nor
  // reserved up front).
  constexpr uint64_t kStep = 16ull << 20;
  std::vector<char> image;
  while (image.size() < bulk_bytes) {
    const size_t at = image.size();
    image.resize(at + std::min<uint64_t>(kStep, bulk_bytes - at));
    RCUDA_RETURN_IF_ERROR(connection_->ReadExact(image.data() + at, image.size() - at));
  }
  std::string_view fatbin(image.data(), image.size());
  // The module's image and all its globals (named or not, initialized or
  // not) take GPU memory: charged before the GPU is asked.
  uint64_t charge = bulk_bytes;
  ModuleImage parsed;
  if (LoadModuleImage(fatbin, arch_, &parsed).ok()) {
    for (const auto& v : parsed.variables) charge = charge + v.size < charge ? UINT64_MAX : charge + v.size;
  }
  if (!ChargeOrRefresh(charge)) return SendReply(id, GrantSpent(charge, budget_.limit()));
  std::vector<std::string> functions, variables;
  if (r.functions())
    for (const auto* f : *r.functions()) functions.push_back(f->str());
  if (r.variables())
    for (const auto* v : *r.variables()) variables.push_back(v->str());
  uint64_t module = 0;
  ModuleDescription description;
  Status s = executor_->LoadModule(fatbin, functions, variables, &module, &description);
  builder_.Clear();
  if (!s.ok()) {
    budget_.Release(charge);
    return SendReply(id, s);
  }
  LoadedModule& loaded = modules_[r.module_id()];
  loaded.executor_id = module;
  loaded.charged = charge;
  std::vector<flatbuffers::Offset<wire::FunctionInfo>> fns;
  for (const auto& f : description.functions) {
    if (f.found) {
      handles_.Add(HandleKind::kFunction, f.handle, /*counted=*/false);
      loaded.functions.push_back(f.handle);
    }
    fns.push_back(ToWire(builder_, f));
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
  return SendReply(id, s, wire::ReplyBody::ModuleLoadReply, body.Union());
}

Status SessionWorker::HandleModuleUnload(const wire::ModuleUnload& r) {
  auto it = modules_.find(r.module_id());
  if (it == modules_.end()) {
    RecordAsyncError(Status::Cuda(kInvalidResourceHandle, "unload of a module this session did not load"));
    return Status::Ok();
  }
  // Its variables leave the session's memory map with it, and its functions
  // the session's handles (the executor refuses them, and graphs that use
  // them, from now on too).
  for (uint64_t base : it->second.variables) allocations_.RemoveVariable(base);
  for (uint64_t f : it->second.functions) handles_.Remove(HandleKind::kFunction, f);
  RecordAsyncError(executor_->UnloadModule(it->second.executor_id));
  budget_.Release(it->second.charged);
  modules_.erase(it);
  return Status::Ok();
}

}  // namespace rcuda
