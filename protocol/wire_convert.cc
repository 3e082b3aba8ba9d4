#include "protocol/wire_convert.h"

namespace rcuda {
namespace {

wire::CopyDirection WireDirection(GraphNodeSpec::Direction d) {
  switch (d) {
    case GraphNodeSpec::Direction::kHostToDevice: return wire::CopyDirection::HostToDevice;
    case GraphNodeSpec::Direction::kDeviceToHost: return wire::CopyDirection::DeviceToHost;
    case GraphNodeSpec::Direction::kDeviceToDevice: break;
  }
  return wire::CopyDirection::DeviceToDevice;
}

Dim3 FromWire(const wire::Dim3* d) { return d ? Dim3{d->x(), d->y(), d->z()} : Dim3{}; }

}  // namespace

flatbuffers::Offset<wire::Memcpy3D> ToWire(flatbuffers::FlatBufferBuilder& b, GraphNodeSpec::Direction direction,
                                           const Copy3D& c, uint64_t stream, uint64_t pending) {
  return wire::CreateMemcpy3D(b, WireDirection(direction), c.dst, c.dst_pitch, c.dst_height, c.src, c.src_pitch,
                              c.src_height, c.width, c.height, c.depth, stream, pending);
}

flatbuffers::Offset<wire::Memset3D> ToWire(flatbuffers::FlatBufferBuilder& b, const Set3D& m, uint64_t stream) {
  return wire::CreateMemset3D(b, m.dst, m.pitch, m.slice_height, m.value, m.width, m.height, m.depth, stream,
                              static_cast<uint8_t>(m.element_size));
}

flatbuffers::Offset<wire::GraphNode> ToWire(flatbuffers::FlatBufferBuilder& b, const GraphNodeSpec& n) {
  using T = GraphNodeSpec::Type;
  auto deps = b.CreateVector(n.dependencies);
  auto params = b.CreateVector(n.params);
  flatbuffers::Offset<wire::Memcpy3D> copy = 0;
  flatbuffers::Offset<wire::Memset3D> set = 0;
  if (n.type == T::kMemcpy) copy = ToWire(b, n.direction, n.copy, 0, n.pending);
  if (n.type == T::kMemset) set = ToWire(b, n.set, 0);
  wire::Dim3 grid(n.grid.x, n.grid.y, n.grid.z), block(n.block.x, n.block.y, n.block.z);
  wire::Dim3 cluster(n.options.cluster.x, n.options.cluster.y, n.options.cluster.z);
  wire::GraphNodeBuilder node(b);
  node.add_type(static_cast<wire::GraphNodeType>(n.type));
  node.add_dependencies(deps);
  node.add_function(n.function);
  node.add_grid(&grid);
  node.add_block(&block);
  node.add_shared_bytes(n.shared_bytes);
  node.add_params(params);
  if (!copy.IsNull()) node.add_copy(copy);
  if (!set.IsNull()) node.add_set(set);
  node.add_host_id(n.host_id);
  node.add_event(n.event);
  if (n.type == T::kKernel) {
    // Absent when unset: the common node costs nothing more.
    if (n.options.cooperative) node.add_cooperative(true);
    if (n.options.cluster.x) node.add_cluster(&cluster);
    if (n.options.has_priority) {
      node.add_has_priority(true);
      node.add_priority(n.options.priority);
    }
  }
  return node.Finish();
}

flatbuffers::Offset<wire::FunctionInfo> ToWire(flatbuffers::FlatBufferBuilder& b, const FunctionDescription& f) {
  std::vector<uint32_t> offsets, sizes;
  for (const auto& p : f.params) {
    offsets.push_back(p.offset);
    sizes.push_back(p.size);
  }
  return wire::CreateFunctionInfoDirect(b, f.found, f.handle, &offsets, &sizes, f.max_threads_per_block,
                                        f.shared_size_bytes, f.const_size_bytes, f.local_size_bytes, f.num_regs,
                                        f.ptx_version, f.binary_version, f.max_dynamic_shared_size_bytes);
}

Copy3D FromWire(const wire::Memcpy3D& r) {
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

Set3D FromWire(const wire::Memset3D& r) {
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

Status FromWire(const wire::GraphNode& n, GraphNodeSpec* spec) {
  using T = GraphNodeSpec::Type;
  if (static_cast<int>(n.type()) > static_cast<int>(wire::GraphNodeType::EventWait)) {
    return Status::Corruption("unknown graph node type");
  }
  spec->type = static_cast<T>(n.type());
  if (n.dependencies()) spec->dependencies.assign(n.dependencies()->begin(), n.dependencies()->end());
  switch (spec->type) {
    case T::kKernel:
      spec->function = n.function();
      spec->grid = FromWire(n.grid());
      spec->block = FromWire(n.block());
      spec->shared_bytes = n.shared_bytes();
      if (n.params()) spec->params.assign(n.params()->begin(), n.params()->end());
      spec->options.cooperative = n.cooperative();
      if (n.cluster()) spec->options.cluster = FromWire(n.cluster());
      spec->options.has_priority = n.has_priority();
      spec->options.priority = n.priority();
      break;
    case T::kMemcpy:
      if (!n.copy()) return Status::Corruption("memcpy node without its copy");
      spec->copy = FromWire(*n.copy());
      if (spec->copy.width == 0 || spec->copy.height == 0 || spec->copy.depth == 0) {
        spec->type = T::kEmpty;  // copies nothing
        break;
      }
      spec->pending = n.copy()->pending();
      switch (n.copy()->direction()) {
        case wire::CopyDirection::HostToDevice: spec->direction = GraphNodeSpec::Direction::kHostToDevice; break;
        case wire::CopyDirection::DeviceToHost: spec->direction = GraphNodeSpec::Direction::kDeviceToHost; break;
        case wire::CopyDirection::DeviceToDevice: spec->direction = GraphNodeSpec::Direction::kDeviceToDevice; break;
        default: return Status::Corruption("unknown copy direction");
      }
      break;
    case T::kMemset:
      if (!n.set()) return Status::Corruption("memset node without its parameters");
      spec->set = FromWire(*n.set());
      if (spec->set.width == 0 || spec->set.height == 0 || spec->set.depth == 0) {
        spec->type = T::kEmpty;  // sets nothing
        break;
      }
      if (spec->set.element_size != 1 && spec->set.element_size != 2 && spec->set.element_size != 4) {
        return Status::Corruption("memset element size must be 1, 2 or 4");
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

Status FromWire(const wire::FunctionInfo& info, FunctionDescription* f) {
  const auto* offsets = info.param_offsets();
  const auto* sizes = info.param_sizes();
  if ((offsets ? offsets->size() : 0) != (sizes ? sizes->size() : 0)) {
    return Status::Corruption("parameter offsets and sizes differ");
  }
  f->found = info.found();
  f->handle = info.handle();
  f->params.clear();
  for (size_t i = 0; offsets && i < offsets->size(); ++i) f->params.push_back({offsets->Get(i), sizes->Get(i)});
  f->max_threads_per_block = info.max_threads_per_block();
  f->shared_size_bytes = info.shared_size_bytes();
  f->const_size_bytes = info.const_size_bytes();
  f->local_size_bytes = info.local_size_bytes();
  f->num_regs = info.num_regs();
  f->ptx_version = info.ptx_version();
  f->binary_version = info.binary_version();
  f->max_dynamic_shared_size_bytes = info.max_dynamic_shared_size_bytes();
  return Status::Ok();
}

}  // namespace rcuda
