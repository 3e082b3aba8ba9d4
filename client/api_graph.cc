// The graph API (graphs live on the client; see client/graph.h).
#include <cstring>

#include "client/api_common.h"
#include "client/graph.h"
#include "client/graph_memory.h"
#include "client/runtime.h"
#include "client/objects.h"

using namespace rcuda::client;

namespace {

// Validates a node's graph and dependencies, then adds it.
cudaError_t AddNode(cudaGraphNode_t* out, cudaGraph_t graph, const cudaGraphNode_t* deps, size_t count,
                    cudaGraphNodeType type, GraphNodeObject** node) {
  GraphObject* g = FindGraph(graph);
  if (!out || !g || (count && !deps)) return cudaErrorInvalidValue;
  for (size_t i = 0; i < count; ++i) {
    GraphNodeObject* d = FindNode(deps[i]);
    if (!d || d->graph != g) return cudaErrorInvalidValue;
  }
  *node = g->Add(type, deps, count);
  *out = reinterpret_cast<cudaGraphNode_t>(*node);
  return cudaSuccess;
}

template <class Fill>
cudaError_t AddFilled(cudaGraphNode_t* out, cudaGraph_t graph, const cudaGraphNode_t* deps, size_t count,
                      cudaGraphNodeType type, Fill fill) {
  GraphNodeObject* node = nullptr;
  cudaError_t e = AddNode(out, graph, deps, count, type, &node);
  if (e != cudaSuccess) return Fail(e);
  e = fill(node);
  if (e != cudaSuccess) {
    node->graph->Remove(node);  // it could not be filled in
    *out = nullptr;
    return Fail(e);
  }
  return cudaSuccess;
}

template <class T>
cudaError_t ListOut(const std::vector<GraphNodeObject*>& nodes, T* out, size_t* count) {
  if (!count) return Fail(cudaErrorInvalidValue);
  if (!out) {
    *count = nodes.size();
    return cudaSuccess;
  }
  size_t n = std::min(*count, nodes.size());
  for (size_t i = 0; i < n; ++i) out[i] = reinterpret_cast<T>(nodes[i]);
  for (size_t i = n; i < *count; ++i) out[i] = nullptr;
  *count = n;
  return cudaSuccess;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphCreate(cudaGraph_t* graph, unsigned int flags) {
  if (!graph || flags) return Fail(cudaErrorInvalidValue);
  *graph = reinterpret_cast<cudaGraph_t>(NewGraph());
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  GraphObject* g = FindGraph(graph);
  // A child graph node's graph belongs to the node.
  if (!g || g->owner) return Fail(cudaErrorInvalidValue);
  DeleteGraph(g);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphClone(cudaGraph_t* clone, cudaGraph_t original) {
  GraphObject* g = FindGraph(original);
  if (!clone || !g) return Fail(cudaErrorInvalidValue);
  if (g->HasMemoryNodes()) return Fail(cudaErrorNotSupported);  // as CUDA: an allocation has one owner
  *clone = reinterpret_cast<cudaGraph_t>(CloneGraph(*g));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphNodeFindInClone(cudaGraphNode_t* node, cudaGraphNode_t original,
                                                  cudaGraph_t clone) {
  GraphObject* g = FindGraph(clone);
  if (!node || !g || !original) return Fail(cudaErrorInvalidValue);
  for (const auto& n : g->nodes) {
    if (n->original == reinterpret_cast<const GraphNodeObject*>(original)) {
      *node = reinterpret_cast<cudaGraphNode_t>(n.get());
      return cudaSuccess;
    }
  }
  return Fail(cudaErrorInvalidValue);
}

RCUDA_EXPORT cudaError_t cudaGraphAddEmptyNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                               const cudaGraphNode_t* deps, size_t count) {
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeEmpty, [](GraphNodeObject*) { return cudaSuccess; });
}

RCUDA_EXPORT cudaError_t cudaGraphAddKernelNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                const cudaGraphNode_t* deps, size_t count,
                                                const cudaKernelNodeParams* params) {
  if (!params) return Fail(cudaErrorInvalidValue);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeKernel,
                   [&](GraphNodeObject* n) { return SetKernelNode(n, *params); });
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemcpyNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                const cudaGraphNode_t* deps, size_t count,
                                                const cudaMemcpy3DParms* params) {
  if (!params) return Fail(cudaErrorInvalidValue);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeMemcpy,
                   [&](GraphNodeObject* n) { return SetMemcpyNode(n, *params); });
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemcpyNode1D(cudaGraphNode_t* node, cudaGraph_t graph,
                                                  const cudaGraphNode_t* deps, size_t count, void* dst,
                                                  const void* src, size_t bytes, cudaMemcpyKind kind) {
  const cudaMemcpy3DParms p = LinearCopyParams(dst, src, bytes, kind);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeMemcpy,
                   [&](GraphNodeObject* n) { return SetMemcpyNode(n, p); });
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemsetNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                const cudaGraphNode_t* deps, size_t count,
                                                const cudaMemsetParams* params) {
  if (!params) return Fail(cudaErrorInvalidValue);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeMemset,
                   [&](GraphNodeObject* n) { return SetMemsetNode(n, *params); });
}

RCUDA_EXPORT cudaError_t cudaGraphAddHostNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                              const cudaGraphNode_t* deps, size_t count,
                                              const cudaHostNodeParams* params) {
  if (!params || !params->fn) return Fail(cudaErrorInvalidValue);
  cudaHostFn_t fn = params->fn;
  void* data = params->userData;
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeHost, [&](GraphNodeObject* n) {
    n->host_fn = [fn, data] { fn(data); };
    n->host_params = *params;
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddEventRecordNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                     const cudaGraphNode_t* deps, size_t count, cudaEvent_t event) {
  if (!FindEvent(event)) return Fail(cudaErrorInvalidResourceHandle);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeEventRecord, [&](GraphNodeObject* n) {
    n->event = event;
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddEventWaitNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                   const cudaGraphNode_t* deps, size_t count, cudaEvent_t event) {
  if (!FindEvent(event)) return Fail(cudaErrorInvalidResourceHandle);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeWaitEvent, [&](GraphNodeObject* n) {
    n->event = event;
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddChildGraphNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                    const cudaGraphNode_t* deps, size_t count, cudaGraph_t child) {
  GraphObject* c = FindGraph(child);
  if (!c) return Fail(cudaErrorInvalidValue);
  if (c->HasMemoryNodes()) return Fail(cudaErrorNotSupported);  // a copy would share the allocations
  // The node gets a copy: later changes to `child` do not reach it.
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeGraph, [&](GraphNodeObject* n) {
    SetChildGraph(n, *c);
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemAllocNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                  const cudaGraphNode_t* deps, size_t count,
                                                  cudaMemAllocNodeParams* params) {
  if (!params || !params->bytesize) return Fail(cudaErrorInvalidValue);
  const cudaMemPoolProps& props = params->poolProps;
  if (props.allocType != cudaMemAllocationTypePinned || props.handleTypes != cudaMemHandleTypeNone)
    return Fail(cudaErrorInvalidValue);
  // Device memory of one device: host-located graph memory and peer
  // access to it are not carried.
  if (props.location.type != cudaMemLocationTypeDevice) return Fail(cudaErrorNotSupported);
  Session* session = Runtime::Get().session(props.location.id);
  if (!session) return Fail(cudaErrorInvalidValue);
  if (params->accessDescCount && !params->accessDescs) return Fail(cudaErrorInvalidValue);
  for (size_t i = 0; i < params->accessDescCount; ++i) {
    const cudaMemAccessDesc& d = params->accessDescs[i];
    if (d.location.type != cudaMemLocationTypeDevice || d.location.id != props.location.id) return Fail(cudaErrorNotSupported);
  }
  GraphObject* g = FindGraph(graph);
  if (g && g->owner) return Fail(cudaErrorNotSupported);  // a child graph node's graph
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeMemAlloc, [&](GraphNodeObject* n) {
    uint64_t ptr = 0;
    cudaError_t e = GraphMemory::Get().Allocate(session, params->bytesize, &ptr);
    if (e != cudaSuccess) return e;
    n->graph_memory = ptr;
    params->dptr = reinterpret_cast<void*>(ptr);
    n->alloc_params = *params;
    n->alloc_params.accessDescs = nullptr;  // the program's array is not kept
    n->alloc_params.accessDescCount = 0;
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemFreeNode(cudaGraphNode_t* node, cudaGraph_t graph,
                                                 const cudaGraphNode_t* deps, size_t count, void* dptr) {
  if (!GraphMemory::Get().IsAllocation(reinterpret_cast<uint64_t>(dptr))) return Fail(cudaErrorInvalidValue);
  GraphObject* g = FindGraph(graph);
  if (g && g->owner) return Fail(cudaErrorNotSupported);
  return AddFilled(node, graph, deps, count, cudaGraphNodeTypeMemFree, [&](GraphNodeObject* n) {
    n->graph_memory = reinterpret_cast<uint64_t>(dptr);
    return cudaSuccess;
  });
}

RCUDA_EXPORT cudaError_t cudaGraphAddDependencies(cudaGraph_t graph, const cudaGraphNode_t* from,
                                                  const cudaGraphNode_t* to, const cudaGraphEdgeData* edges,
                                                  size_t count) {
  GraphObject* g = FindGraph(graph);
  if (!g || (count && (!from || !to))) return Fail(cudaErrorInvalidValue);
  if (!DefaultEdges(edges, count)) return Fail(cudaErrorNotSupported);
  for (size_t i = 0; i < count; ++i) {
    GraphNodeObject* a = FindNode(from[i]);
    GraphNodeObject* b = FindNode(to[i]);
    if (!a || !b || a->graph != g || b->graph != g || a == b) return Fail(cudaErrorInvalidValue);
    if (std::find(b->dependencies.begin(), b->dependencies.end(), a) != b->dependencies.end()) {
      return Fail(cudaErrorInvalidValue);  // the edge exists already
    }
  }
  for (size_t i = 0; i < count; ++i) FindNode(to[i])->dependencies.push_back(FindNode(from[i]));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphRemoveDependencies(cudaGraph_t graph, const cudaGraphNode_t* from,
                                                     const cudaGraphNode_t* to, const cudaGraphEdgeData* edges,
                                                     size_t count) {
  GraphObject* g = FindGraph(graph);
  if (!g || (count && (!from || !to))) return Fail(cudaErrorInvalidValue);
  if (!DefaultEdges(edges, count)) return Fail(cudaErrorNotSupported);
  for (size_t i = 0; i < count; ++i) {
    GraphNodeObject* a = FindNode(from[i]);
    GraphNodeObject* b = FindNode(to[i]);
    if (!a || !b || b->graph != g) return Fail(cudaErrorInvalidValue);
    auto it = std::find(b->dependencies.begin(), b->dependencies.end(), a);
    if (it == b->dependencies.end()) return Fail(cudaErrorInvalidValue);
    b->dependencies.erase(it);
  }
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  GraphObject* g = FindGraph(graph);
  if (!g) return Fail(cudaErrorInvalidValue);
  std::vector<GraphNodeObject*> all;
  for (auto& n : g->nodes) all.push_back(n.get());
  return ListOut(all, nodes, count);
}

RCUDA_EXPORT cudaError_t cudaGraphGetRootNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  GraphObject* g = FindGraph(graph);
  if (!g) return Fail(cudaErrorInvalidValue);
  std::vector<GraphNodeObject*> roots;
  for (auto& n : g->nodes)
    if (n->dependencies.empty()) roots.push_back(n.get());
  return ListOut(roots, nodes, count);
}

RCUDA_EXPORT cudaError_t cudaGraphGetEdges(cudaGraph_t graph, cudaGraphNode_t* from, cudaGraphNode_t* to,
                                           cudaGraphEdgeData* edges, size_t* count) {
  GraphObject* g = FindGraph(graph);
  if (!g || !count) return Fail(cudaErrorInvalidValue);
  std::vector<std::pair<GraphNodeObject*, GraphNodeObject*>> all;
  for (auto& n : g->nodes)
    for (GraphNodeObject* d : n->dependencies) all.emplace_back(d, n.get());
  if (!from && !to) {
    *count = all.size();
    return cudaSuccess;
  }
  if (!from || !to) return Fail(cudaErrorInvalidValue);
  size_t n = std::min(*count, all.size());
  for (size_t i = 0; i < n; ++i) {
    from[i] = reinterpret_cast<cudaGraphNode_t>(all[i].first);
    to[i] = reinterpret_cast<cudaGraphNode_t>(all[i].second);
    if (edges) std::memset(&edges[i], 0, sizeof edges[i]);
  }
  *count = n;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !type) return Fail(cudaErrorInvalidValue);
  *type = n->type;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphNodeGetDependencies(cudaGraphNode_t node, cudaGraphNode_t* deps,
                                                      cudaGraphEdgeData* edges, size_t* count) {
  GraphNodeObject* n = FindNode(node);
  if (!n) return Fail(cudaErrorInvalidValue);
  cudaError_t e = ListOut(n->dependencies, deps, count);
  // Every edge rcuda carries is a default one (no edge data).
  if (e == cudaSuccess && deps && edges) std::memset(edges, 0, *count * sizeof *edges);
  return e;
}

RCUDA_EXPORT cudaError_t cudaGraphNodeGetDependentNodes(cudaGraphNode_t node, cudaGraphNode_t* dependents,
                                                        cudaGraphEdgeData* edges, size_t* count) {
  GraphNodeObject* n = FindNode(node);
  if (!n) return Fail(cudaErrorInvalidValue);
  std::vector<GraphNodeObject*> out;
  for (auto& m : n->graph->nodes)
    if (std::find(m->dependencies.begin(), m->dependencies.end(), n) != m->dependencies.end()) out.push_back(m.get());
  cudaError_t e = ListOut(out, dependents, count);
  if (e == cudaSuccess && dependents && edges) std::memset(edges, 0, *count * sizeof *edges);
  return e;
}

RCUDA_EXPORT cudaError_t cudaGraphKernelNodeGetParams(cudaGraphNode_t node, cudaKernelNodeParams* params) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !params || n->type != cudaGraphNodeTypeKernel) return Fail(cudaErrorInvalidValue);
  params->func = const_cast<void*>(n->function->host_stub);
  params->gridDim = n->grid;
  params->blockDim = n->block;
  params->sharedMemBytes = n->shared_bytes;
  params->kernelParams = n->param_pointers.data();
  params->extra = nullptr;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphKernelNodeSetParams(cudaGraphNode_t node, const cudaKernelNodeParams* params) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !params || n->type != cudaGraphNodeTypeKernel) return Fail(cudaErrorInvalidValue);
  return Fail(SetKernelNode(n, *params));
}

RCUDA_EXPORT cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  GraphObject* g = FindGraph(graph);
  if (!exec || !g) return Fail(cudaErrorInvalidValue);
  GraphExecObject* x = nullptr;
  cudaError_t e = Instantiate(g, flags, &x);
  if (e != cudaSuccess) return Fail(e);
  *exec = reinterpret_cast<cudaGraphExec_t>(x);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t graph,
                                                       unsigned long long flags) {
  return cudaGraphInstantiate(exec, graph, flags);
}

}  // extern "C"

cudaError_t exports::cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream, bool per_thread) {
  GraphExecObject* x = FindExec(exec);
  if (!x) return Fail(cudaErrorInvalidValue);
  return Fail(Launch(x, stream, per_thread));
}

// Instantiated graphs are on the GPU's server already; uploading them ahead
// of their first launch has nothing left to do.
cudaError_t exports::cudaGraphUpload(cudaGraphExec_t exec, cudaStream_t stream, bool per_thread) {
  return FindExec(exec) ? cudaSuccess : Fail(cudaErrorInvalidValue);
  (void)per_thread;  // uploading is a no-op on every stream
}

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  GraphExecObject* x = FindExec(exec);
  if (!x) return Fail(cudaErrorInvalidValue);
  return Fail(DestroyExec(x));
}

RCUDA_EXPORT cudaError_t cudaGraphExecKernelNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                          const cudaKernelNodeParams* params) {
  GraphExecObject* x = FindExec(exec);
  if (!x || !params) return Fail(cudaErrorInvalidValue);
  uint32_t index;
  GraphNodeObject* n = ExecNode(x, node, &index);
  if (!n || n->type != cudaGraphNodeTypeKernel) return Fail(cudaErrorInvalidValue);
  // A scratch node holds the new parameters until the server took them.
  // One node's parameters travel alone: no whole-graph update.
  GraphNodeObject scratch = *n;
  cudaError_t e = SetKernelNode(&scratch, *params);
  if (e != cudaSuccess) return Fail(e);
  rcuda::GraphNodeSpec r;
  if ((e = DescribeKernel(x->session, scratch, &r)) != cudaSuccess) return Fail(e);
  rcuda::Status s = x->session->GraphExecKernelNodeSetParams(x->remote, index, r);
  if (!s.ok()) return Return(s);
  // The instantiation's copy remembers them, for later whole-graph updates.
  if (x->snapshot) (void)SetKernelNode(n, *params);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphExecUpdate(cudaGraphExec_t exec, cudaGraph_t graph,
                                             cudaGraphExecUpdateResultInfo* info) {
  GraphExecObject* x = FindExec(exec);
  GraphObject* g = FindGraph(graph);
  if (!x || !g) return Fail(cudaErrorInvalidValue);
  cudaError_t e = UpdateExec(x, g);
  if (info) {
    std::memset(info, 0, sizeof *info);
    info->result = e == cudaSuccess ? cudaGraphExecUpdateSuccess : cudaGraphExecUpdateErrorTopologyChanged;
  }
  return Fail(e);
}

}  // extern "C"
