#include "client/graph.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <map>
#include <mutex>
#include <set>
#include <unordered_set>

#include "client/errors.h"
#include "client/graph_memory.h"
#include "client/objects.h"
#include "client/runtime.h"

namespace rcuda::client {

bool DefaultEdges(const cudaGraphEdgeData* edges, size_t count) {
  static const cudaGraphEdgeData kDefault{};
  for (size_t i = 0; edges && i < count; ++i)
    if (std::memcmp(&edges[i], &kDefault, sizeof kDefault) != 0) return false;
  return true;
}

cudaMemcpy3DParms LinearCopyParams(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  cudaMemcpy3DParms p{};
  p.srcPtr = cudaPitchedPtr{const_cast<void*>(src), bytes, bytes, 1};
  p.dstPtr = cudaPitchedPtr{dst, bytes, bytes, 1};
  p.extent = cudaExtent{bytes, 1, 1};
  p.kind = kind;
  return p;
}

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

void GraphObject::Remove(GraphNodeObject* node) {
  for (auto& n : nodes) {
    auto& deps = n->dependencies;
    deps.erase(std::remove(deps.begin(), deps.end(), node), deps.end());
  }
  for (auto it = nodes.begin(); it != nodes.end(); ++it) {
    if (it->get() != node) continue;
    if (node->child) DeleteGraph(node->child);
    if (node->type == cudaGraphNodeTypeMemAlloc) GraphMemory::Get().Release(node->graph_memory);
    Untrack(node);
    nodes.erase(it);
    return;
  }
}

bool GraphObject::HasMemoryNodes() const {
  for (const auto& n : nodes)
    if (n->type == cudaGraphNodeTypeMemAlloc || n->type == cudaGraphNodeTypeMemFree) return true;
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

void SetChildGraph(GraphNodeObject* node, const GraphObject& graph) {
  GraphObject* copy = CloneGraph(graph);
  copy->owner = node;
  if (node->child) DeleteGraph(node->child);
  node->child = copy;
}

void DeleteGraph(GraphObject* graph) {
  for (const auto& [object, count] : graph->user_objects) ReleaseUserObject(object, count);
  for (const auto& n : graph->nodes) {
    if (n->child) DeleteGraph(n->child);
    if (n->type == cudaGraphNodeTypeMemAlloc) GraphMemory::Get().Release(n->graph_memory);
    Untrack(n.get());
  }
  Untrack(graph);
  delete graph;
}

GraphObject* CloneGraph(const GraphObject& graph) {
  auto* clone = new GraphObject;
  clone->user_objects = graph.user_objects;
  for (const auto& [object, count] : clone->user_objects) RetainUserObject(object, count);
  std::map<const GraphNodeObject*, GraphNodeObject*> copy_of;
  for (const auto& n : graph.nodes) {
    auto c = std::make_unique<GraphNodeObject>(*n);
    c->graph = clone;
    c->original = n.get();
    // The kernel parameters' pointers point into the copy's own buffer.
    for (void*& p : c->param_pointers)
      p = c->params.data() + (static_cast<uint8_t*>(p) - n->params.data());
    // A child graph is copied too: the node owns it.
    if (n->child) {
      c->child = CloneGraph(*n->child);
      c->child->owner = c.get();
    }
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
  if (p.srcArray || p.dstArray) return cudaErrorNotSupported;  // arrays in graph copies: the server's graph copies are linear
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
  DeviceRegion dd{reinterpret_cast<uint64_t>(dst), p.dstPtr.pitch, p.dstPtr.ysize};
  DeviceRegion sd{reinterpret_cast<uint64_t>(src), p.srcPtr.pitch, p.srcPtr.ysize};
  switch (kind) {
    case cudaMemcpyHostToDevice:
      node->direction = GraphNodeSpec::Direction::kHostToDevice;
      node->dst = dd;
      node->host = HostRegion{src, p.srcPtr.pitch, p.srcPtr.ysize, e.width, e.height, e.depth};
      break;
    case cudaMemcpyDeviceToHost:
      node->direction = GraphNodeSpec::Direction::kDeviceToHost;
      node->src = sd;
      node->host = HostRegion{dst, p.dstPtr.pitch, p.dstPtr.ysize, e.width, e.height, e.depth};
      break;
    case cudaMemcpyDeviceToDevice:
      node->direction = GraphNodeSpec::Direction::kDeviceToDevice;
      node->dst = dd;
      node->src = sd;
      break;
    default:
      // Host-to-host copies in graphs would run on the server's host.
      return cudaErrorNotSupported;
  }
  node->extent = e;
  node->memcpy_params = p;
  return cudaSuccess;
}

cudaError_t SetMemsetNode(GraphNodeObject* node, const cudaMemsetParams& p) {
  if (p.elementSize != 1 && p.elementSize != 2 && p.elementSize != 4) return cudaErrorInvalidValue;
  node->dst = DeviceRegion{reinterpret_cast<uint64_t>(p.dst), p.height > 1 ? p.pitch : p.width * p.elementSize,
                           p.height};
  node->value = p.value;
  node->element_size = p.elementSize;
  node->extent = Extent{p.width * p.elementSize, p.height, 1};
  node->memset_params = p;
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
  out->options = node.launch;
  return cudaSuccess;
}

namespace {

// The server's description of a graph, built node by node. Child graphs are
// inlined: their nodes take the child node's dependencies, and the child node
// becomes an empty node after them, so that what depends on it waits for
// the whole child graph. `order` stays parallel to `nodes`.
class Describer {
 public:
  Describer(Session* session, std::vector<GraphNodeObject*>* order, std::vector<GraphNodeSpec>* nodes,
            std::vector<HostRegion>* inputs, std::vector<uint64_t>* entries)
      : session_(session), order_(order), nodes_(nodes), inputs_(inputs), entries_(entries) {}

  // Appends `graph`'s nodes; those without dependencies depend on `entry`.
  // *exits: the indices of its nodes that none of its nodes depends on.
  cudaError_t Append(const GraphObject& graph, const std::vector<uint32_t>& entry, std::vector<uint32_t>* exits,
                     int depth) {
    // Child graphs are copies, so nesting is finite; the bound keeps a
    // deep one from exhausting the stack.
    constexpr int kMaxChildDepth = 64;
    if (depth > kMaxChildDepth) return cudaErrorNotSupported;
    std::vector<GraphNodeObject*> topo;
    cudaError_t e = TopologicalOrder(graph, &topo);
    if (e != cudaSuccess) return e;
    std::map<const GraphNodeObject*, uint32_t> index;
    std::set<const GraphNodeObject*> depended_on;
    for (GraphNodeObject* n : topo) {
      GraphNodeSpec r;
      if (n->dependencies.empty()) r.dependencies = entry;
      for (GraphNodeObject* d : n->dependencies) {
        r.dependencies.push_back(index.at(d));
        depended_on.insert(d);
      }
      if (n->type == cudaGraphNodeTypeGraph) {
        std::vector<uint32_t> child_exits;
        if (!n->child) return cudaErrorInvalidValue;
        if ((e = Append(*n->child, r.dependencies, &child_exits, depth + 1)) != cudaSuccess) return e;
        if (!n->child->nodes.empty()) r.dependencies = std::move(child_exits);
        r.type = GraphNodeSpec::Type::kEmpty;
      } else if ((e = Fill(*n, &r)) != cudaSuccess) {
        return e;
      }
      index[n] = static_cast<uint32_t>(nodes_->size());
      order_->push_back(n);
      nodes_->push_back(std::move(r));
    }
    exits->clear();
    for (GraphNodeObject* n : topo)
      if (!depended_on.count(n)) exits->push_back(index.at(n));
    return cudaSuccess;
  }

 private:
  cudaError_t EnsureChannel() {
    Status s = session_->EnsureHostChannel();
    return s.ok() ? cudaSuccess : Code(s);
  }

  cudaError_t Fill(const GraphNodeObject& n, GraphNodeSpec* r) {
    cudaError_t e;
    switch (n.type) {
      case cudaGraphNodeTypeKernel:
        return DescribeKernel(session_, n, r);
      case cudaGraphNodeTypeMemcpy:
        r->type = GraphNodeSpec::Type::kMemcpy;
        r->direction = n.direction;
        r->copy = Copy3D{n.dst.ptr, n.dst.pitch, n.dst.slice_height, n.src.ptr, n.src.pitch,
                         n.src.slice_height, n.extent.width, n.extent.height, n.extent.depth};
        if (n.direction == GraphNodeSpec::Direction::kHostToDevice) inputs_->push_back(n.host);
        if (n.direction == GraphNodeSpec::Direction::kDeviceToHost) {
          if ((e = EnsureChannel()) != cudaSuccess) return e;
          r->pending = session_->host_channel().AddPendingCopy(n.host, /*once=*/false);
          entries_->push_back(r->pending);
        }
        return cudaSuccess;
      case cudaGraphNodeTypeMemset:
        r->type = GraphNodeSpec::Type::kMemset;
        r->set = Set3D{n.dst.ptr,      n.dst.pitch,      n.dst.slice_height, n.value, n.element_size,
                       n.extent.width, n.extent.height, n.extent.depth};
        return cudaSuccess;
      case cudaGraphNodeTypeHost:
        if ((e = EnsureChannel()) != cudaSuccess) return e;
        r->type = GraphNodeSpec::Type::kHost;
        r->host_id = session_->host_channel().AddHostFunction(n.host_fn, /*once=*/false);
        entries_->push_back(r->host_id);
        return cudaSuccess;
      case cudaGraphNodeTypeEventRecord:
      case cudaGraphNodeTypeWaitEvent: {
        EventObject* ev = FindEvent(n.event);
        if (!ev || ev->session != session_) return cudaErrorInvalidResourceHandle;
        r->type = n.type == cudaGraphNodeTypeEventRecord ? GraphNodeSpec::Type::kEventRecord
                                                         : GraphNodeSpec::Type::kEventWait;
        r->event = ev->remote;
        return cudaSuccess;
      }
      case cudaGraphNodeTypeEmpty:
      // The memory is allocated already (client/graph_memory.h): the
      // server's graph keeps the nodes' place in the order.
      case cudaGraphNodeTypeMemAlloc:
      case cudaGraphNodeTypeMemFree:
        r->type = GraphNodeSpec::Type::kEmpty;
        return cudaSuccess;
      default:
        return cudaErrorNotSupported;  // conditionals
    }
  }

  Session* session_;
  std::vector<GraphNodeObject*>* order_;
  std::vector<GraphNodeSpec>* nodes_;
  std::vector<HostRegion>* inputs_;
  std::vector<uint64_t>* entries_;
};

cudaError_t Describe(Session* session, GraphObject* graph, std::vector<GraphNodeObject*>* order,
                     std::vector<GraphNodeSpec>* nodes, std::vector<HostRegion>* inputs,
                     std::vector<uint64_t>* entries) {
  order->clear();
  std::vector<uint32_t> exits;
  return Describer(session, order, nodes, inputs, entries).Append(*graph, {}, &exits, 0);
}

void Forget(Session* session, const std::vector<uint64_t>& entries) {
  for (uint64_t id : entries) session->host_channel().Remove(id);
}

}  // namespace

cudaError_t Instantiate(GraphObject* graph, unsigned long long flags, GraphExecObject** exec) {
  constexpr unsigned long long kKnown = cudaGraphInstantiateFlagAutoFreeOnLaunch | cudaGraphInstantiateFlagUpload |
                                        cudaGraphInstantiateFlagDeviceLaunch | cudaGraphInstantiateFlagUseNodePriority;
  if (flags & ~kKnown) return cudaErrorInvalidValue;
  // Graphs launched from the device would need the server to instantiate
  // for device launch and the client to know the device-side handle.
  if (flags & cudaGraphInstantiateFlagDeviceLaunch) return cudaErrorNotSupported;
  // The other flags change nothing here: no memory nodes to free (auto
  // free), uploads are no-ops (the server holds the graph), and no node
  // carries a priority (kernel node attributes are refused).
  Session* session = Runtime::Get().current_session();
  if (!session) return cudaErrorInvalidDevice;
  auto x = std::make_unique<GraphExecObject>();
  x->session = session;
  x->flags = flags;
  // Graph memory has one owner: such a graph is not copied (and its
  // instantiation's nodes cannot be changed one by one).
  if (!graph->HasMemoryNodes()) x->snapshot = CloneGraph(*graph);
  std::vector<GraphNodeSpec> nodes;
  cudaError_t e = Describe(session, x->snapshot ? x->snapshot : graph, &x->order, &nodes, &x->inputs,
                           &x->channel_entries);
  if (e == cudaSuccess) {
    Status s = session->GraphInstantiate(nodes, &x->remote);
    if (!s.ok()) e = Code(s);
  }
  if (e != cudaSuccess) {
    Forget(session, x->channel_entries);
    if (x->snapshot) DeleteGraph(x->snapshot);
    return e;
  }
  for (const GraphNodeObject* n : x->order) {
    if (n->type == cudaGraphNodeTypeMemAlloc) x->allocations.push_back(n->graph_memory);
    if (n->type == cudaGraphNodeTypeMemFree) x->frees.push_back(n->graph_memory);
  }
  if (!x->snapshot) {
    x->user_objects = graph->user_objects;
    for (const auto& [object, count] : x->user_objects) RetainUserObject(object, count);
  }
  for (uint64_t p : x->allocations) {
    GraphMemory::Get().Retain(p);
    if (std::find(x->frees.begin(), x->frees.end(), p) == x->frees.end()) x->escaping.push_back(p);
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
  Status s = exec->session->GraphLaunch(exec->remote, ref.remote, buffers);
  if (s.ok() && (!exec->escaping.empty() || !exec->frees.empty()))
    GraphMemory::Get().Launched(exec->escaping, exec->frees);
  return Code(s);
}

cudaError_t DestroyExec(GraphExecObject* exec) {
  Status s = exec->session->GraphExecDestroy(exec->remote);
  // The entries stay until the server has destroyed the exec, which waits
  // for its launches: the host channel serves them in order before that.
  Status sync = exec->session->DeviceSynchronize();
  Forget(exec->session, exec->channel_entries);
  for (uint64_t p : exec->allocations) GraphMemory::Get().Release(p);
  if (exec->snapshot) DeleteGraph(exec->snapshot);  // after the launches: the user objects' destructors may run
  for (const auto& [object, count] : exec->user_objects) ReleaseUserObject(object, count);
  Untrack(exec);
  delete exec;
  return Code(s.ok() ? sync : s);
}

namespace {

// A copy of `graph` for an instantiation, its nodes paired (by position)
// with the program's nodes that `paired`'s are paired with.
GraphObject* Snapshot(const GraphObject& graph, const GraphObject& paired) {
  GraphObject* copy = CloneGraph(graph);
  for (size_t i = 0; i < copy->nodes.size(); ++i) copy->nodes[i]->original = paired.nodes[i]->original;
  return copy;
}

// Updates the server's graph to `next` (owned), which becomes the
// instantiation's snapshot; on failure `next` is deleted and nothing changes.
cudaError_t Replace(GraphExecObject* exec, GraphObject* next) {
  std::vector<GraphNodeObject*> order;
  std::vector<GraphNodeSpec> nodes;
  std::vector<HostRegion> inputs;
  std::vector<uint64_t> entries;
  cudaError_t e = Describe(exec->session, next, &order, &nodes, &inputs, &entries);
  if (e == cudaSuccess) {
    Status s = exec->session->GraphExecUpdate(exec->remote, nodes);
    if (!s.ok()) e = Code(s);
  }
  if (e != cudaSuccess) {
    Forget(exec->session, entries);
    DeleteGraph(next);
    return e;
  }
  Forget(exec->session, exec->channel_entries);
  DeleteGraph(exec->snapshot);
  exec->snapshot = next;
  exec->order = std::move(order);
  exec->inputs = std::move(inputs);
  exec->channel_entries = std::move(entries);
  return cudaSuccess;
}

}  // namespace

cudaError_t UpdateExec(GraphExecObject* exec, GraphObject* graph) {
  // CUDA updates no memory node's allocation; rcuda updates none.
  if (graph->HasMemoryNodes() || !exec->snapshot) return cudaErrorNotSupported;
  // Another number of nodes is another topology, which CUDA refuses too.
  if (graph->nodes.size() != exec->snapshot->nodes.size()) return cudaErrorGraphExecUpdateFailure;
  return Replace(exec, Snapshot(*graph, *exec->snapshot));
}

GraphNodeObject* ExecNode(GraphExecObject* exec, cudaGraphNode_t node, uint32_t* index) {
  const auto* wanted = reinterpret_cast<const GraphNodeObject*>(node);
  for (size_t i = 0; i < exec->order.size(); ++i) {
    GraphNodeObject* n = exec->order[i];
    // A node of a child graph is not the program's to change one by one.
    bool match = exec->snapshot ? n->graph == exec->snapshot && n->original == wanted : n == wanted;
    if (match) {
      *index = static_cast<uint32_t>(i);
      return n;
    }
  }
  return nullptr;
}

cudaError_t ChangeExecNode(GraphExecObject* exec, cudaGraphNode_t node, cudaGraphNodeType type,
                           const std::function<cudaError_t(GraphNodeObject*)>& change) {
  uint32_t index;
  GraphNodeObject* current = ExecNode(exec, node, &index);
  if (!current || current->type != type) return cudaErrorInvalidValue;
  if (!exec->snapshot) return cudaErrorNotSupported;  // memory nodes: no snapshot to change
  size_t position = 0;
  while (exec->snapshot->nodes[position].get() != current) ++position;
  GraphObject* next = Snapshot(*exec->snapshot, *exec->snapshot);
  cudaError_t e = change(next->nodes[position].get());
  if (e != cudaSuccess) {
    DeleteGraph(next);
    return e;
  }
  return Replace(exec, next);
}

namespace {

const char* TypeName(cudaGraphNodeType type) {
  switch (type) {
    case cudaGraphNodeTypeKernel: return "kernel";
    case cudaGraphNodeTypeMemcpy: return "memcpy";
    case cudaGraphNodeTypeMemset: return "memset";
    case cudaGraphNodeTypeHost: return "host";
    case cudaGraphNodeTypeGraph: return "graph";
    case cudaGraphNodeTypeEmpty: return "empty";
    case cudaGraphNodeTypeWaitEvent: return "event wait";
    case cudaGraphNodeTypeEventRecord: return "event record";
    default: return "node";
  }
}

// Writes `graph`'s nodes as `prefix`N and its edges; a child graph becomes a
// cluster of its own.
void DotNodes(std::FILE* f, const GraphObject& graph, const std::string& prefix, int depth) {
  std::map<const GraphNodeObject*, std::string> id;
  for (size_t i = 0; i < graph.nodes.size(); ++i) id[graph.nodes[i].get()] = prefix + std::to_string(i);
  std::string indent(2 * depth + 2, ' ');
  for (const auto& n : graph.nodes) {
    std::string label = TypeName(n->type);
    if (n->type == cudaGraphNodeTypeKernel && n->function) label += "\\n" + n->function->device_name;
    if (n->type == cudaGraphNodeTypeMemcpy || n->type == cudaGraphNodeTypeMemset)
      label += "\\n" + std::to_string(n->extent.width * n->extent.height * n->extent.depth) + " bytes";
    std::fprintf(f, "%s%s [label=\"%s\"];\n", indent.c_str(), id[n.get()].c_str(), label.c_str());
    if (n->child) {
      std::fprintf(f, "%ssubgraph cluster_%s {\n%s  label=\"child graph of %s\";\n", indent.c_str(),
                   id[n.get()].c_str(), indent.c_str(), id[n.get()].c_str());
      DotNodes(f, *n->child, id[n.get()] + "_", depth + 1);
      std::fprintf(f, "%s}\n", indent.c_str());
    }
  }
  for (const auto& n : graph.nodes)
    for (const GraphNodeObject* d : n->dependencies)
      std::fprintf(f, "%s%s -> %s;\n", indent.c_str(), id[d].c_str(), id[n.get()].c_str());
}

}  // namespace

cudaError_t WriteDot(const GraphObject& graph, const char* path) {
  std::FILE* f = std::fopen(path, "w");
  if (!f) return cudaErrorOperatingSystem;
  std::fprintf(f, "digraph rcuda_graph {\n  node [shape=box];\n");
  DotNodes(f, graph, "n", 0);
  std::fprintf(f, "}\n");
  return std::fclose(f) == 0 ? cudaSuccess : cudaErrorOperatingSystem;
}

}  // namespace rcuda::client
