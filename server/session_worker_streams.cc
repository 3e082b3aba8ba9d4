// SessionWorker's handlers of the hand-shaped requests beyond the basics:
// strided copies and sets, and graphs. (Streams, events and host functions
// are plain forwarding: their dispatch is generated.)
#include <spdlog/spdlog.h>

#include "protocol/wire_convert.h"
#include "server/session_worker.h"

namespace rcuda {

bool SessionWorker::OwnsStrided(uint64_t base, uint64_t pitch, uint64_t slice_height, uint64_t width,
                                uint64_t height, uint64_t depth) const {
  // An empty region touches nothing (the handlers do nothing for one).
  if (width == 0 || height == 0 || depth == 0) return true;
  if (width > pitch || height > slice_height) return false;
  // The last byte touched, computed without overflow.
  __uint128_t last = (__uint128_t(depth - 1) * slice_height + (height - 1)) * pitch + width;
  if (last > UINT64_MAX) return false;
  return allocations_.Contains(base, static_cast<uint64_t>(last));
}

Status SessionWorker::HandleMemcpy3D(const wire::Memcpy3D& r, uint64_t id, uint64_t bulk_bytes) {
  Copy3D c = FromWire(r);
  __uint128_t packed = __uint128_t(c.width) * c.height * c.depth;
  if (packed > (__uint128_t(1) << 48)) return Status::Corruption("Memcpy3D of an absurd size");
  if (packed == 0) {
    // Nothing to copy, whatever the other extents say (a loop over a
    // depth of 2^64 empty slices would never end).
    if (bulk_bytes) return Status::Corruption("Memcpy3D of nothing with bulk data");
    if (r.direction() == wire::CopyDirection::DeviceToHost && !r.pending()) {
      builder_.Clear();
      return SendReply(id, Status::Ok());
    }
    return Status::Ok();
  }
  switch (r.direction()) {
    case wire::CopyDirection::HostToDevice: {
      if (bulk_bytes != c.packed_bytes()) return Status::Corruption("Memcpy3D bulk does not match its size");
      if (!OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) {
        RecordAsyncError(Status::InvalidValue("strided copy to memory this session did not allocate"));
        return DiscardBulk(*connection_, bulk_bytes);
      }
      return ConsumeBulk(bulk_bytes,
                         [&](const ChunkReader& read) { return executor_->CopyToDevice3D(c, r.stream(), read); });
    }
    case wire::CopyDirection::DeviceToHost: {
      if (bulk_bytes) return Status::Corruption("Memcpy3D device-to-host with bulk data");
      bool owned = OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth);
      if (r.pending()) {
        RecordAsyncError(owned ? executor_->CopyFromDevice3DAsync(c, r.stream(), r.pending())
                               : Status::InvalidValue("strided copy from memory this session did not allocate"));
        return Status::Ok();
      }
      builder_.Clear();
      if (!owned) return SendReply(id, Status::InvalidValue("strided copy from memory this session did not allocate"));
      return StreamReply(id, c.packed_bytes(),
                         [&](const ChunkWriter& write) { return executor_->CopyFromDevice3D(c, r.stream(), write); });
    }
    case wire::CopyDirection::DeviceToDevice:
      if (bulk_bytes) return Status::Corruption("Memcpy3D device-to-device with bulk data");
      if (!OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth) ||
          !OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) {
        RecordAsyncError(Status::InvalidValue("strided copy outside memory this session allocated"));
        return Status::Ok();
      }
      RecordAsyncError(executor_->CopyOnDevice3D(c, r.stream()));
      return Status::Ok();
  }
  return Status::Corruption("unknown copy direction");
}

Status SessionWorker::HandleMemset3D(const wire::Memset3D& r) {
  Set3D set = FromWire(r);
  if (set.element_size != 1 && set.element_size != 2 && set.element_size != 4) {
    return Status::Corruption("memset element size must be 1, 2 or 4");
  }
  // Nothing to set (a loop over a depth of 2^64 empty slices would never end).
  if (set.width == 0 || set.height == 0 || set.depth == 0) return Status::Ok();
  if (!OwnsStrided(set.dst, set.pitch, set.slice_height, set.width, set.height, set.depth)) {
    RecordAsyncError(Status::InvalidValue("strided memset of memory this session did not allocate"));
    return Status::Ok();
  }
  RecordAsyncError(executor_->Memset3D(set, r.stream()));
  return Status::Ok();
}

Status SessionWorker::NodeSpec(const wire::GraphNode& n, GraphNodeSpec* spec) {
  using T = GraphNodeSpec::Type;
  RCUDA_RETURN_IF_ERROR(FromWire(n, spec));
  switch (spec->type) {
    case T::kKernel:
      return CheckHandle(HandleKind::kFunction, spec->function, "graph kernel node", "function");
    case T::kMemcpy: {
      const Copy3D& c = spec->copy;
      bool to = spec->direction != GraphNodeSpec::Direction::kDeviceToHost;
      bool from = spec->direction != GraphNodeSpec::Direction::kHostToDevice;
      if ((to && !OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) ||
          (from && !OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth))) {
        return Status::InvalidValue("graph memcpy node outside memory this session allocated");
      }
      return Status::Ok();
    }
    case T::kMemset:
      if (!OwnsStrided(spec->set.dst, spec->set.pitch, spec->set.slice_height, spec->set.width, spec->set.height,
                       spec->set.depth)) {
        return Status::InvalidValue("graph memset node outside memory this session allocated");
      }
      return Status::Ok();
    case T::kEventRecord:
    case T::kEventWait:
      return CheckHandle(HandleKind::kEvent, spec->event, "graph event node", "event");
    case T::kHost:
    case T::kEmpty:
      return Status::Ok();
  }
  return Status::Ok();
}

Status SessionWorker::GraphSpecs(const flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>* nodes,
                                 std::vector<GraphNodeSpec>* specs) {
  specs->clear();
  if (!nodes) return Status::Ok();
  for (const auto* n : *nodes) {
    GraphNodeSpec spec;
    RCUDA_RETURN_IF_ERROR(NodeSpec(*n, &spec));
    for (uint32_t d : spec.dependencies)
      if (d >= specs->size()) return Status::InvalidValue("graph node depends on a later node");
    specs->push_back(std::move(spec));
  }
  return Status::Ok();
}

Status SessionWorker::OnGraphInstantiate(const wire::GraphInstantiate& r, uint64_t* exec) {
  std::vector<GraphNodeSpec> specs;
  RCUDA_RETURN_IF_ERROR(GraphSpecs(r.nodes(), &specs));
  return executor_->GraphInstantiate(specs, exec);
}

Status SessionWorker::HandleGraphExecKernelNodeSetParams(const wire::GraphExecKernelNodeSetParams& r, uint64_t id) {
  GraphNodeSpec spec;
  Status s = r.kernel() ? NodeSpec(*r.kernel(), &spec) : Status::Corruption("missing kernel node");
  if (s.ok()) s = executor_->GraphExecKernelNodeSetParams(r.exec(), r.node(), spec);
  builder_.Clear();
  return SendReply(id, s);
}

Status SessionWorker::HandleGraphExecUpdate(const wire::GraphExecUpdate& r, uint64_t id) {
  std::vector<GraphNodeSpec> specs;
  Status s = GraphSpecs(r.nodes(), &specs);
  if (s.ok()) s = executor_->GraphExecUpdate(r.exec(), specs);
  builder_.Clear();
  return SendReply(id, s);
}

}  // namespace rcuda
