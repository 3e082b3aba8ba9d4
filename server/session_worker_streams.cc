// SessionWorker's handlers for the runtime API beyond the basics: strided
// copies, streams, events, host functions, graphs and the generic calls.
#include <spdlog/spdlog.h>

#include "protocol/call_ops.h"
#include "server/session_worker.h"

namespace rcuda {
namespace {


Dim3 ToDim3(const wire::Dim3* d) { return d ? Dim3{d->x(), d->y(), d->z()} : Dim3{}; }

Copy3D ToCopy(const wire::Memcpy3D& r) {
  Copy3D c;
  c.dst = r.dst();
  c.dst_pitch = r.dst_pitch();
  c.dst_height = r.dst_height();
  c.src = r.src();
  c.src_pitch = r.src_pitch();
  c.src_height = r.src_height();
  c.width = r.width();
  c.height = r.height();
  c.depth = r.depth();
  return c;
}

Set3D ToSet(const wire::Memset3D& r) {  // element size checked by HandleMemset3D / NodeSpec
  Set3D m;
  m.dst = r.dst();
  m.pitch = r.pitch();
  m.slice_height = r.slice_height();
  m.value = r.value();
  m.element_size = r.element_size();
  m.width = r.width();
  m.height = r.height();
  m.depth = r.depth();
  return m;
}

}  // namespace

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

Status SessionWorker::HandleMemcpy3D(const wire::Message& m, uint64_t bulk_bytes) {
  const auto* r = m.request_as_Memcpy3D();
  Copy3D c = ToCopy(*r);
  __uint128_t packed = __uint128_t(c.width) * c.height * c.depth;
  if (packed > (__uint128_t(1) << 48)) return Status::Corruption("Memcpy3D of an absurd size");
  if (packed == 0) {
    // Nothing to copy, whatever the other extents say (a loop over a
    // depth of 2^64 empty slices would never end).
    if (bulk_bytes) return Status::Corruption("Memcpy3D of nothing with bulk data");
    if (r->direction() == wire::CopyDirection::DeviceToHost && !r->pending()) {
      builder_.Clear();
      return SendReply(m.id(), Status::Ok());
    }
    return Status::Ok();
  }
  switch (r->direction()) {
    case wire::CopyDirection::HostToDevice: {
      if (bulk_bytes != c.packed_bytes()) return Status::Corruption("Memcpy3D bulk does not match its size");
      if (!OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) {
        RecordAsyncError(Status::InvalidValue("strided copy to memory this session did not allocate"));
        return DiscardBulk(*connection_, bulk_bytes);
      }
      return ConsumeBulk(bulk_bytes, [&](const ChunkReader& read) { return executor_->CopyToDevice3D(c, r->stream(), read); });
    }
    case wire::CopyDirection::DeviceToHost: {
      if (bulk_bytes) return Status::Corruption("Memcpy3D device-to-host with bulk data");
      bool owned = OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth);
      if (r->pending()) {
        RecordAsyncError(owned ? executor_->CopyFromDevice3DAsync(c, r->stream(), r->pending())
                               : Status::InvalidValue("strided copy from memory this session did not allocate"));
        return Status::Ok();
      }
      builder_.Clear();
      if (!owned) return SendReply(m.id(), Status::InvalidValue("strided copy from memory this session did not allocate"));
      return StreamReply(m.id(), c.packed_bytes(),
                         [&](const ChunkWriter& write) { return executor_->CopyFromDevice3D(c, r->stream(), write); });
    }
    case wire::CopyDirection::DeviceToDevice:
      if (bulk_bytes) return Status::Corruption("Memcpy3D device-to-device with bulk data");
      if (!OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth) ||
          !OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) {
        RecordAsyncError(Status::InvalidValue("strided copy outside memory this session allocated"));
        return Status::Ok();
      }
      RecordAsyncError(executor_->CopyOnDevice3D(c, r->stream()));
      return Status::Ok();
  }
  return Status::Corruption("unknown copy direction");
}

Status SessionWorker::HandleMemset3D(const wire::Message& m) {
  Set3D set = ToSet(*m.request_as_Memset3D());
  if (set.element_size != 1 && set.element_size != 2 && set.element_size != 4) {
    return Status::Corruption("memset element size must be 1, 2 or 4");
  }
  // Nothing to set (a loop over a depth of 2^64 empty slices would never end).
  if (set.width == 0 || set.height == 0 || set.depth == 0) return Status::Ok();
  if (!OwnsStrided(set.dst, set.pitch, set.slice_height, set.width, set.height, set.depth)) {
    RecordAsyncError(Status::InvalidValue("strided memset of memory this session did not allocate"));
    return Status::Ok();
  }
  RecordAsyncError(executor_->Memset3D(set, m.request_as_Memset3D()->stream()));
  return Status::Ok();
}

Status SessionWorker::HandleStreamCreate(const wire::Message& m) {
  const auto* r = m.request_as_StreamCreate();
  uint64_t stream = 0;
  bool counted = TakeHandle();
  Status s = counted ? executor_->StreamCreate(r->flags(), r->priority(), &stream)
                     : Status::OutOfMemory("too many streams, events, graphs and pools in this session");
  if (counted && !s.ok()) GiveHandle();
  builder_.Clear();
  auto body = wire::CreateHandleReply(builder_, stream);
  return SendReply(m.id(), s, wire::ReplyBody::HandleReply, body.Union());
}

Status SessionWorker::HandleStreamDestroy(const wire::Message& m) {
  Status s = executor_->StreamDestroy(m.request_as_StreamDestroy()->stream());
  if (s.ok()) GiveHandle();
  RecordAsyncError(s);
  return Status::Ok();
}

Status SessionWorker::HandleStreamSynchronize(const wire::Message& m) {
  return WaitThenReply(m.id(), Executor::WaitTarget::kStream, m.request_as_StreamSynchronize()->stream());
}

Status SessionWorker::HandleStreamQuery(const wire::Message& m) {
  Status s = executor_->StreamQuery(m.request_as_StreamQuery()->stream());
  builder_.Clear();
  return SendReply(m.id(), s);
}

Status SessionWorker::HandleStreamWaitEvent(const wire::Message& m) {
  const auto* r = m.request_as_StreamWaitEvent();
  RecordAsyncError(executor_->StreamWaitEvent(r->stream(), r->event(), r->flags()));
  return Status::Ok();
}

Status SessionWorker::HandleEventCreate(const wire::Message& m) {
  uint64_t event = 0;
  bool counted = TakeHandle();
  Status s = counted ? executor_->EventCreate(m.request_as_EventCreate()->flags(), &event)
                     : Status::OutOfMemory("too many streams, events, graphs and pools in this session");
  if (counted && !s.ok()) GiveHandle();
  builder_.Clear();
  auto body = wire::CreateHandleReply(builder_, event);
  return SendReply(m.id(), s, wire::ReplyBody::HandleReply, body.Union());
}

Status SessionWorker::HandleEventDestroy(const wire::Message& m) {
  Status s = executor_->EventDestroy(m.request_as_EventDestroy()->event());
  if (s.ok()) GiveHandle();
  RecordAsyncError(s);
  return Status::Ok();
}

Status SessionWorker::HandleEventRecord(const wire::Message& m) {
  const auto* r = m.request_as_EventRecord();
  RecordAsyncError(executor_->EventRecord(r->event(), r->stream(), r->flags()));
  return Status::Ok();
}

Status SessionWorker::HandleEventSynchronize(const wire::Message& m) {
  return WaitThenReply(m.id(), Executor::WaitTarget::kEvent, m.request_as_EventSynchronize()->event());
}

Status SessionWorker::HandleEventQuery(const wire::Message& m) {
  Status s = executor_->EventQuery(m.request_as_EventQuery()->event());
  builder_.Clear();
  return SendReply(m.id(), s);
}

Status SessionWorker::HandleEventElapsedTime(const wire::Message& m) {
  const auto* r = m.request_as_EventElapsedTime();
  float ms = 0;
  Status s = executor_->EventElapsedTime(r->start(), r->end(), &ms);
  builder_.Clear();
  auto body = wire::CreateElapsedTimeReply(builder_, ms);
  return SendReply(m.id(), s, wire::ReplyBody::ElapsedTimeReply, body.Union());
}

Status SessionWorker::HandleHostFunction(const wire::Message& m) {
  const auto* r = m.request_as_HostFunction();
  RecordAsyncError(executor_->LaunchHostFunction(r->stream(), r->id()));
  return Status::Ok();
}

Status SessionWorker::NodeSpec(const wire::GraphNode& n, GraphNodeSpec* spec) {
  using T = GraphNodeSpec::Type;
  spec->type = static_cast<T>(n.type());
  if (static_cast<int>(n.type()) > static_cast<int>(wire::GraphNodeType::EventWait)) {
    return Status::Corruption("unknown graph node type");
  }
  if (n.dependencies()) spec->dependencies.assign(n.dependencies()->begin(), n.dependencies()->end());
  switch (spec->type) {
    case T::kKernel:
      spec->function = n.function();
      spec->grid = ToDim3(n.grid());
      spec->block = ToDim3(n.block());
      spec->shared_bytes = n.shared_bytes();
      if (n.params()) spec->params.assign(n.params()->begin(), n.params()->end());
      break;
    case T::kMemcpy: {
      if (!n.copy()) return Status::Corruption("memcpy node without its copy");
      spec->copy = ToCopy(*n.copy());
      if (spec->copy.width == 0 || spec->copy.height == 0 || spec->copy.depth == 0) {
        spec->type = T::kEmpty;  // copies nothing: an empty node keeps the graph's shape
        break;
      }
      spec->pending = n.copy()->pending();
      const Copy3D& c = spec->copy;
      switch (n.copy()->direction()) {
        case wire::CopyDirection::HostToDevice:
          spec->direction = GraphNodeSpec::Direction::kHostToDevice;
          if (!OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth)) {
            return Status::InvalidValue("graph memcpy node writes memory this session did not allocate");
          }
          break;
        case wire::CopyDirection::DeviceToHost:
          spec->direction = GraphNodeSpec::Direction::kDeviceToHost;
          if (!OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth)) {
            return Status::InvalidValue("graph memcpy node reads memory this session did not allocate");
          }
          break;
        case wire::CopyDirection::DeviceToDevice:
          spec->direction = GraphNodeSpec::Direction::kDeviceToDevice;
          if (!OwnsStrided(c.dst, c.dst_pitch, c.dst_height, c.width, c.height, c.depth) ||
              !OwnsStrided(c.src, c.src_pitch, c.src_height, c.width, c.height, c.depth)) {
            return Status::InvalidValue("graph memcpy node outside memory this session allocated");
          }
          break;
      }
      break;
    }
    case T::kMemset:
      if (!n.set()) return Status::Corruption("memset node without its parameters");
      spec->set = ToSet(*n.set());
      if (spec->set.width == 0 || spec->set.height == 0 || spec->set.depth == 0) {
        spec->type = T::kEmpty;  // sets nothing
        break;
      }
      if (spec->set.element_size != 1 && spec->set.element_size != 2 && spec->set.element_size != 4) {
        return Status::Corruption("memset element size must be 1, 2 or 4");
      }
      if (!OwnsStrided(spec->set.dst, spec->set.pitch, spec->set.slice_height, spec->set.width, spec->set.height,
                       spec->set.depth)) {
        return Status::InvalidValue("graph memset node outside memory this session allocated");
      }
      break;
    case T::kHost:
      spec->host_id = n.host_id();
      break;
    case T::kEventRecord:
    case T::kEventWait:
      spec->event = n.event();
      break;
    case T::kEmpty:
      break;
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

Status SessionWorker::HandleGraphInstantiate(const wire::Message& m) {
  std::vector<GraphNodeSpec> specs;
  Status s = GraphSpecs(m.request_as_GraphInstantiate()->nodes(), &specs);
  uint64_t exec = 0;
  if (s.ok() && !TakeHandle()) s = Status::OutOfMemory("too many streams, events, graphs and pools in this session");
  else if (s.ok() && !(s = executor_->GraphInstantiate(specs, &exec)).ok()) GiveHandle();
  builder_.Clear();
  auto body = wire::CreateHandleReply(builder_, exec);
  return SendReply(m.id(), s, wire::ReplyBody::HandleReply, body.Union());
}

Status SessionWorker::HandleGraphLaunch(const wire::Message& m, uint64_t bulk_bytes) {
  const auto* r = m.request_as_GraphLaunch();
  return ConsumeBulk(bulk_bytes, [&](const ChunkReader& read) {
    return executor_->GraphLaunch(r->exec(), r->stream(), bulk_bytes, read);
  });
}

Status SessionWorker::HandleGraphExecDestroy(const wire::Message& m) {
  Status s = executor_->GraphExecDestroy(m.request_as_GraphExecDestroy()->exec());
  if (s.ok()) GiveHandle();
  RecordAsyncError(s);
  return Status::Ok();
}

Status SessionWorker::HandleGraphExecKernelNodeSetParams(const wire::Message& m) {
  const auto* r = m.request_as_GraphExecKernelNodeSetParams();
  GraphNodeSpec spec;
  Status s = r->kernel() ? NodeSpec(*r->kernel(), &spec) : Status::Corruption("missing kernel node");
  if (s.ok()) s = executor_->GraphExecKernelNodeSetParams(r->exec(), r->node(), spec);
  builder_.Clear();
  return SendReply(m.id(), s);
}

Status SessionWorker::HandleGraphExecUpdate(const wire::Message& m) {
  const auto* r = m.request_as_GraphExecUpdate();
  std::vector<GraphNodeSpec> specs;
  Status s = GraphSpecs(r->nodes(), &specs);
  if (s.ok()) s = executor_->GraphExecUpdate(r->exec(), specs);
  builder_.Clear();
  return SendReply(m.id(), s);
}

}  // namespace rcuda
