#include "client/graph.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

#include "client/errors.h"
#include "client/objects.h"
#include "client/runtime.h"

namespace rcuda::client {
namespace {

std::mutex& Mu() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::unordered_set<const void*>& Live() {
  static auto* live = new std::unordered_set<const void*>;
  return *live;
}

void Track(const void* p) {
  std::lock_guard lock(Mu());
  Live().insert(p);
}
void Untrack(const void* p) {
  std::lock_guard lock(Mu());
  Live().erase(p);
}
bool Tracked(const void* p) {
  std::lock_guard lock(Mu());
  return Live().count(p) != 0;
}

cudaError_t Code(const Status& s) { return static_cast<cudaError_t>(s.ToCudaError()); }

// Nodes in an order where every node comes after its dependencies.
cudaError_t TopologicalOrder(const GraphObject& graph, std::vector<GraphNodeObject*>* order) {
  std::map<const GraphNodeObject*, int> state;  // 1: visiting, 2: done
  order->clear();
  std::function<bool(GraphNodeObject*)> visit = [&](GraphNodeObject* n) {
    int& st = state[n];
    if (st == 2) return true;
    if (st == 1) return false;  // a cycle
    st = 1;
    for (GraphNodeObject* d : n->dependencies)
      if (!visit(d)) return false;
    st = 2;
    order->push_back(n);
    return true;
  };
  for (const auto& n : graph.nodes)
    if (!visit(n.get())) return cudaErrorInvalidValue;
  return cudaSuccess;
}

}  // namespace

GraphNodeObject* GraphObject::Add(cudaGraphNodeType type, const cudaGraphNode_t* deps, size_t count) {
  auto node = std::make_unique<GraphNodeObject>();
  node->graph = this;
  node->type = type;
  for (size_t i = 0; i < count; ++i) node->dependencies.push_back(reinterpret_cast<GraphNodeObject*>(deps[i]));
  nodes.push_back(std::move(node));
  Track(nodes.back().get());
  return nodes.back().get();
}

bool GraphObject::Owns(const GraphNodeObject* node) const {
  for (const auto& n : nodes)
    if (n.get() == node) return true;
  return false;
}

GraphNodeObject* CaptureNode(StreamObject* stream, cudaGraphNodeType type) {
  GraphObject* graph = stream->capture->graph;
  GraphNodeObject* node = graph->Add(type, nullptr, 0);
  node->dependencies = stream->tail;
  stream->tail = {node};
  return node;
}

GraphObject* NewGraph() {
  auto* g = new GraphObject;
  Track(g);
  return g;
}

void DeleteGraph(GraphObject* graph) {
  for (const auto& n : graph->nodes) Untrack(n.get());
  Untrack(graph);
  delete graph;
}

GraphObject* CloneGraph(const GraphObject& graph) {
  auto* clone = new GraphObject;
  std::map<const GraphNodeObject*, GraphNodeObject*> copy_of;
  for (const auto& n : graph.nodes) {
    auto c = std::make_unique<GraphNodeObject>(*n);
    c->graph = clone;
    c->original = n.get();
    // The kernel parameters' pointers point into the copy's own buffer.
    for (void*& p : c->param_pointers)
      p = c->params.data() + (static_cast<uint8_t*>(p) - n->params.data());
    copy_of[n.get()] = c.get();
    clone->nodes.push_back(std::move(c));
  }
  for (const auto& c : clone->nodes)
    for (GraphNodeObject*& d : c->dependencies) d = copy_of.at(d);
  for (const auto& c : clone->nodes) Track(c.get());
  Track(clone);
  return clone;
}

GraphObject* FindGraph(cudaGraph_t graph) {
  return Tracked(graph) ? reinterpret_cast<GraphObject*>(graph) : nullptr;
}

GraphNodeObject* FindNode(cudaGraphNode_t node) {
  return Tracked(node) ? reinterpret_cast<GraphNodeObject*>(node) : nullptr;
}

GraphExecObject* FindExec(cudaGraphExec_t exec) {
  return Tracked(exec) ? reinterpret_cast<GraphExecObject*>(exec) : nullptr;
}

cudaError_t SetKernelNode(GraphNodeObject* node, const cudaKernelNodeParams& p) {
  const Function* f = Registry::Get().FindFunction(p.func);
  if (!f) return cudaErrorInvalidDeviceFunction;
  if (p.extra && !p.kernelParams) return cudaErrorNotSupported;  // the "extra" argument format
  Session* session = Runtime::Get().current_session();
  if (!session) return cudaErrorInvalidDevice;
  uint64_t handle;
  std::vector<uint8_t> params;
  Status s = session->PackArguments(*f, p.kernelParams, &handle, &params);
  if (!s.ok()) return Code(s);
  FunctionDescription rf;
  s = session->GetFunction(*f, &rf);
  if (!s.ok()) return Code(s);
  node->function = f;
  node->grid = p.gridDim;
  node->block = p.blockDim;
  node->shared_bytes = p.sharedMemBytes;
  node->params = std::move(params);
  node->param_pointers.clear();
  for (const auto& info : rf.params) node->param_pointers.push_back(node->params.data() + info.offset);
  return cudaSuccess;
}

cudaError_t SetMemcpyNode(GraphNodeObject* node, const cudaMemcpy3DParms& p) {
  if (p.srcArray || p.dstArray) return cudaErrorNotSupported;  // CUDA arrays: not supported by rcuda
  Extent e{p.extent.width, p.extent.height, p.extent.depth};
  auto at = [](const cudaPitchedPtr& ptr, const cudaPos& pos) {
    return static_cast<char*>(ptr.ptr) + (pos.z * ptr.ysize + pos.y) * ptr.pitch + pos.x;
  };
  char* dst = at(p.dstPtr, p.dstPos);
  char* src = at(p.srcPtr, p.srcPos);
  Runtime& rt = Runtime::Get();
  cudaMemcpyKind kind = p.kind;
  uint64_t span = e.width;  // enough to tell which memory a pointer is
  if (kind == cudaMemcpyDefault) {
    bool dst_dev = rt.SessionOwning(dst, span) != nullptr, src_dev = rt.SessionOwning(src, span) != nullptr;
    kind = dst_dev && src_dev ? cudaMemcpyDeviceToDevice
           : dst_dev          ? cudaMemcpyHostToDevice
           : src_dev          ? cudaMemcpyDeviceToHost
                              : cudaMemcpyHostToHost;
  }
  node->extent = e;
  DeviceRegion dd{reinterpret_cast<uint64_t>(dst), p.dstPtr.pitch, p.dstPtr.ysize};
  DeviceRegion sd{reinterpret_cast<uint64_t>(src), p.srcPtr.pitch, p.srcPtr.ysize};
  switch (kind) {
    case cudaMemcpyHostToDevice:
      node->direction = GraphNodeSpec::Direction::kHostToDevice;
      node->dst = dd;
      node->host = HostRegion{src, p.srcPtr.pitch, p.srcPtr.ysize, e.width, e.height, e.depth};
      return cudaSuccess;
    case cudaMemcpyDeviceToHost:
      node->direction = GraphNodeSpec::Direction::kDeviceToHost;
      node->src = sd;
      node->host = HostRegion{dst, p.dstPtr.pitch, p.dstPtr.ysize, e.width, e.height, e.depth};
      return cudaSuccess;
    case cudaMemcpyDeviceToDevice:
      node->direction = GraphNodeSpec::Direction::kDeviceToDevice;
      node->dst = dd;
      node->src = sd;
      return cudaSuccess;
    default:
      // Host-to-host copies in graphs would run on the server's host.
      return cudaErrorNotSupported;
  }
}

cudaError_t SetMemsetNode(GraphNodeObject* node, const cudaMemsetParams& p) {
  if (p.elementSize != 1 && p.elementSize != 2 && p.elementSize != 4) return cudaErrorInvalidValue;
  node->dst = DeviceRegion{reinterpret_cast<uint64_t>(p.dst), p.height > 1 ? p.pitch : p.width * p.elementSize,
                           p.height};
  node->value = p.value;
  node->element_size = p.elementSize;
  node->extent = Extent{p.width * p.elementSize, p.height, 1};
  return cudaSuccess;
}

cudaError_t DescribeKernel(Session* session, const GraphNodeObject& node, GraphNodeSpec* out) {
  FunctionDescription rf;
  Status s = session->GetFunction(*node.function, &rf);
  if (!s.ok()) return Code(s);
  out->type = GraphNodeSpec::Type::kKernel;
  out->function = rf.handle;
  out->grid = Dim3{node.grid.x, node.grid.y, node.grid.z};
  out->block = Dim3{node.block.x, node.block.y, node.block.z};
  out->shared_bytes = node.shared_bytes;
  out->params = node.params;
  return cudaSuccess;
}

namespace {

// The server's description of `graph`, with host channel entries for its
// host work (registered in *entries) and its host inputs in *inputs.
cudaError_t Describe(Session* session, GraphObject* graph, std::vector<GraphNodeObject*>* order,
                     std::vector<GraphNodeSpec>* nodes, std::vector<HostRegion>* inputs,
                     std::vector<uint64_t>* entries) {
  cudaError_t e = TopologicalOrder(*graph, order);
  if (e != cudaSuccess) return e;
  bool needs_channel = false;
  for (GraphNodeObject* n : *order) {
    needs_channel |= n->type == cudaGraphNodeTypeHost ||
                     (n->type == cudaGraphNodeTypeMemcpy && n->direction == GraphNodeSpec::Direction::kDeviceToHost);
  }
  if (needs_channel) {
    Status s = session->EnsureHostChannel();
    if (!s.ok()) return Code(s);
  }
  std::map<const GraphNodeObject*, uint32_t> index;
  for (GraphNodeObject* n : *order) {
    GraphNodeSpec r;
    for (GraphNodeObject* d : n->dependencies) r.dependencies.push_back(index.at(d));
    switch (n->type) {
      case cudaGraphNodeTypeKernel:
        if ((e = DescribeKernel(session, *n, &r)) != cudaSuccess) return e;
        break;
      case cudaGraphNodeTypeMemcpy:
        r.type = GraphNodeSpec::Type::kMemcpy;
        r.direction = n->direction;
        r.copy = Copy3D{n->dst.ptr, n->dst.pitch, n->dst.slice_height, n->src.ptr, n->src.pitch,
                        n->src.slice_height, n->extent.width, n->extent.height, n->extent.depth};
        if (n->direction == GraphNodeSpec::Direction::kHostToDevice) inputs->push_back(n->host);
        if (n->direction == GraphNodeSpec::Direction::kDeviceToHost) {
          r.pending = session->host_channel().AddPendingCopy(n->host, /*once=*/false);
          entries->push_back(r.pending);
        }
        break;
      case cudaGraphNodeTypeMemset:
        r.type = GraphNodeSpec::Type::kMemset;
        r.set = Set3D{n->dst.ptr,      n->dst.pitch,    n->dst.slice_height, n->value, n->element_size,
                      n->extent.width, n->extent.height, n->extent.depth};
        break;
      case cudaGraphNodeTypeHost:
        r.type = GraphNodeSpec::Type::kHost;
        r.host_id = session->host_channel().AddHostFunction(n->host_fn, /*once=*/false);
        entries->push_back(r.host_id);
        break;
      case cudaGraphNodeTypeEventRecord:
      case cudaGraphNodeTypeWaitEvent: {
        EventObject* ev = FindEvent(n->event);
        if (!ev || ev->session != session) return cudaErrorInvalidResourceHandle;
        r.type = n->type == cudaGraphNodeTypeEventRecord ? GraphNodeSpec::Type::kEventRecord
                                                         : GraphNodeSpec::Type::kEventWait;
        r.event = ev->remote;
        break;
      }
      case cudaGraphNodeTypeEmpty:
        r.type = GraphNodeSpec::Type::kEmpty;
        break;
      default:
        return cudaErrorNotSupported;  // child graphs, memory nodes, conditionals
    }
    index[n] = static_cast<uint32_t>(nodes->size());
    nodes->push_back(std::move(r));
  }
  return cudaSuccess;
}

void Forget(Session* session, const std::vector<uint64_t>& entries) {
  for (uint64_t id : entries) session->host_channel().Remove(id);
}

}  // namespace

cudaError_t Instantiate(GraphObject* graph, GraphExecObject** exec) {
  Session* session = Runtime::Get().current_session();
  if (!session) return cudaErrorInvalidDevice;
  auto x = std::make_unique<GraphExecObject>();
  x->session = session;
  std::vector<GraphNodeSpec> nodes;
  cudaError_t e = Describe(session, graph, &x->order, &nodes, &x->inputs, &x->channel_entries);
  if (e == cudaSuccess) {
    Status s = session->GraphInstantiate(nodes, &x->remote);
    if (!s.ok()) e = Code(s);
  }
  if (e != cudaSuccess) {
    Forget(session, x->channel_entries);
    return e;
  }
  *exec = x.release();
  Track(*exec);
  return cudaSuccess;
}

cudaError_t Launch(GraphExecObject* exec, cudaStream_t stream, bool per_thread) {
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return e;
  if (ref.session != exec->session) return cudaErrorInvalidResourceHandle;
  if (ref.object && ref.object->capture) return cudaErrorNotSupported;  // graphs inside captures
  // The current contents of the host sources go with the launch.
  std::vector<ConstBuffer> buffers;
  for (const HostRegion& r : exec->inputs) {
    if (r.pitch == r.width && (r.depth == 1 || r.slice_height == r.height)) {
      buffers.push_back({r.base, r.bytes()});
      continue;
    }
    for (uint64_t z = 0; z < r.depth; ++z)
      for (uint64_t y = 0; y < r.height; ++y) buffers.push_back({r.base + (z * r.slice_height + y) * r.pitch, r.width});
  }
  return Code(exec->session->GraphLaunch(exec->remote, ref.remote, buffers));
}

cudaError_t DestroyExec(GraphExecObject* exec) {
  Status s = exec->session->GraphExecDestroy(exec->remote);
  // The entries stay until the server has destroyed the exec, which waits
  // for its launches: the host channel serves them in order before that.
  Status sync = exec->session->DeviceSynchronize();
  Forget(exec->session, exec->channel_entries);
  Untrack(exec);
  delete exec;
  return Code(s.ok() ? sync : s);
}

cudaError_t UpdateExec(GraphExecObject* exec, GraphObject* graph) {
  std::vector<GraphNodeObject*> order;
  std::vector<GraphNodeSpec> nodes;
  std::vector<HostRegion> inputs;
  std::vector<uint64_t> entries;
  cudaError_t e = Describe(exec->session, graph, &order, &nodes, &inputs, &entries);
  if (e == cudaSuccess) {
    Status s = exec->session->GraphExecUpdate(exec->remote, nodes);
    if (!s.ok()) e = Code(s);
  }
  if (e != cudaSuccess) {
    Forget(exec->session, entries);
    return e;
  }
  Forget(exec->session, exec->channel_entries);
  exec->order = std::move(order);
  exec->inputs = std::move(inputs);
  exec->channel_entries = std::move(entries);
  return cudaSuccess;
}

}  // namespace rcuda::client
