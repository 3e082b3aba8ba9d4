// The graph API's node parameters, node removal, instantiation with
// parameters and the DOT dump: all answered from the client's copy of the
// graph (client/graph.h). Changing a node changes the graph, never an
// instantiated graph made from it, as natively.
#include <cstring>

#include "client/api_common.h"
#include "client/graph.h"
#include "client/objects.h"

using namespace rcuda::client;

namespace {

// The node, if it is a live node of type `type`.
GraphNodeObject* NodeOfType(cudaGraphNode_t node, cudaGraphNodeType type) {
  GraphNodeObject* n = FindNode(node);
  return n && n->type == type ? n : nullptr;
}

cudaError_t GetEvent(cudaGraphNode_t node, cudaGraphNodeType type, cudaEvent_t* event) {
  GraphNodeObject* n = NodeOfType(node, type);
  if (!n || !event) return Fail(cudaErrorInvalidValue);
  *event = n->event;
  return cudaSuccess;
}

cudaError_t SetEvent(cudaGraphNode_t node, cudaGraphNodeType type, cudaEvent_t event) {
  GraphNodeObject* n = NodeOfType(node, type);
  if (!n) return Fail(cudaErrorInvalidValue);
  if (!FindEvent(event)) return Fail(cudaErrorInvalidResourceHandle);
  n->event = event;
  return cudaSuccess;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphDestroyNode(cudaGraphNode_t node) {
  GraphNodeObject* n = FindNode(node);
  if (!n) return Fail(cudaErrorInvalidValue);
  n->graph->Remove(n);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphChildGraphNodeGetGraph(cudaGraphNode_t node, cudaGraph_t* graph) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeGraph);
  if (!n || !graph || !n->child) return Fail(cudaErrorInvalidValue);
  // The node's own graph, not a copy: changes to it change the node.
  *graph = reinterpret_cast<cudaGraph_t>(n->child);
  return cudaSuccess;
}

// Kernel node attributes: the launch attributes rcuda carries (cooperative,
// cluster dimensions, priority); the others are refused.
RCUDA_EXPORT cudaError_t cudaGraphKernelNodeSetAttribute(cudaGraphNode_t node, cudaKernelNodeAttrID attr,
                                                         const cudaKernelNodeAttrValue* value) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeKernel);
  if (!n || !value) return Fail(cudaErrorInvalidValue);
  switch (attr) {
    case cudaLaunchAttributeCooperative:
      n->launch.cooperative = value->cooperative != 0;
      return cudaSuccess;
    case cudaLaunchAttributeClusterDimension: {
      const auto& d = value->clusterDim;
      // All zero: no cluster; otherwise each dimension at least 1.
      bool none = d.x == 0 && d.y == 0 && d.z == 0;
      if (!none && (d.x == 0 || d.y == 0 || d.z == 0)) return Fail(cudaErrorInvalidValue);
      n->launch.cluster = rcuda::Dim3{d.x, d.y, d.z};
      return cudaSuccess;
    }
    case cudaLaunchAttributePriority:
      n->launch.has_priority = true;
      n->launch.priority = value->priority;
      return cudaSuccess;
    default:
      return Fail(cudaErrorNotSupported);
  }
}

RCUDA_EXPORT cudaError_t cudaGraphKernelNodeGetAttribute(cudaGraphNode_t node, cudaKernelNodeAttrID attr,
                                                         cudaKernelNodeAttrValue* value) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeKernel);
  if (!n || !value) return Fail(cudaErrorInvalidValue);
  std::memset(value, 0, sizeof *value);
  switch (attr) {
    case cudaLaunchAttributeCooperative:
      value->cooperative = n->launch.cooperative ? 1 : 0;
      return cudaSuccess;
    case cudaLaunchAttributeClusterDimension:
      value->clusterDim.x = n->launch.cluster.x;
      value->clusterDim.y = n->launch.cluster.y;
      value->clusterDim.z = n->launch.cluster.z;
      return cudaSuccess;
    case cudaLaunchAttributePriority:
      value->priority = n->launch.has_priority ? n->launch.priority : 0;
      return cudaSuccess;
    default:
      return Fail(cudaErrorNotSupported);
  }
}

RCUDA_EXPORT cudaError_t cudaGraphKernelNodeCopyAttributes(cudaGraphNode_t dst, cudaGraphNode_t src) {
  GraphNodeObject* d = NodeOfType(dst, cudaGraphNodeTypeKernel);
  GraphNodeObject* s = NodeOfType(src, cudaGraphNodeTypeKernel);
  if (!d || !s) return Fail(cudaErrorInvalidValue);
  d->launch = s->launch;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphMemcpyNodeGetParams(cudaGraphNode_t node, cudaMemcpy3DParms* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeMemcpy);
  if (!n || !params) return Fail(cudaErrorInvalidValue);
  *params = n->memcpy_params;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphMemcpyNodeSetParams(cudaGraphNode_t node, const cudaMemcpy3DParms* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeMemcpy);
  if (!n || !params) return Fail(cudaErrorInvalidValue);
  return Fail(SetMemcpyNode(n, *params));  // leaves the node as it was on failure
}

RCUDA_EXPORT cudaError_t cudaGraphMemcpyNodeSetParams1D(cudaGraphNode_t node, void* dst, const void* src,
                                                        size_t bytes, cudaMemcpyKind kind) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeMemcpy);
  if (!n) return Fail(cudaErrorInvalidValue);
  const cudaMemcpy3DParms p = LinearCopyParams(dst, src, bytes, kind);
  return Fail(SetMemcpyNode(n, p));
}

RCUDA_EXPORT cudaError_t cudaGraphMemsetNodeGetParams(cudaGraphNode_t node, cudaMemsetParams* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeMemset);
  if (!n || !params) return Fail(cudaErrorInvalidValue);
  *params = n->memset_params;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphMemsetNodeSetParams(cudaGraphNode_t node, const cudaMemsetParams* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeMemset);
  if (!n || !params) return Fail(cudaErrorInvalidValue);
  return Fail(SetMemsetNode(n, *params));
}

RCUDA_EXPORT cudaError_t cudaGraphHostNodeGetParams(cudaGraphNode_t node, cudaHostNodeParams* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeHost);
  if (!n || !params) return Fail(cudaErrorInvalidValue);
  *params = n->host_params;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphHostNodeSetParams(cudaGraphNode_t node, const cudaHostNodeParams* params) {
  GraphNodeObject* n = NodeOfType(node, cudaGraphNodeTypeHost);
  if (!n || !params || !params->fn) return Fail(cudaErrorInvalidValue);
  cudaHostFn_t fn = params->fn;
  void* data = params->userData;
  n->host_fn = [fn, data] { fn(data); };
  n->host_params = *params;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphEventRecordNodeGetEvent(cudaGraphNode_t node, cudaEvent_t* event) {
  return GetEvent(node, cudaGraphNodeTypeEventRecord, event);
}

RCUDA_EXPORT cudaError_t cudaGraphEventRecordNodeSetEvent(cudaGraphNode_t node, cudaEvent_t event) {
  return SetEvent(node, cudaGraphNodeTypeEventRecord, event);
}

RCUDA_EXPORT cudaError_t cudaGraphEventWaitNodeGetEvent(cudaGraphNode_t node, cudaEvent_t* event) {
  return GetEvent(node, cudaGraphNodeTypeWaitEvent, event);
}

RCUDA_EXPORT cudaError_t cudaGraphEventWaitNodeSetEvent(cudaGraphNode_t node, cudaEvent_t event) {
  return SetEvent(node, cudaGraphNodeTypeWaitEvent, event);
}

// ---- An instantiation's nodes, changed one by one ------------------------

RCUDA_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                          const cudaMemcpy3DParms* params) {
  GraphExecObject* x = FindExec(exec);
  if (!x || !params) return Fail(cudaErrorInvalidValue);
  return Fail(ChangeExecNode(x, node, cudaGraphNodeTypeMemcpy,
                             [&](GraphNodeObject* n) { return SetMemcpyNode(n, *params); }));
}

RCUDA_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParams1D(cudaGraphExec_t exec, cudaGraphNode_t node, void* dst,
                                                            const void* src, size_t bytes, cudaMemcpyKind kind) {
  GraphExecObject* x = FindExec(exec);
  if (!x) return Fail(cudaErrorInvalidValue);
  const cudaMemcpy3DParms p = LinearCopyParams(dst, src, bytes, kind);
  return Fail(ChangeExecNode(x, node, cudaGraphNodeTypeMemcpy, [&](GraphNodeObject* n) { return SetMemcpyNode(n, p); }));
}

RCUDA_EXPORT cudaError_t cudaGraphExecMemsetNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                          const cudaMemsetParams* params) {
  GraphExecObject* x = FindExec(exec);
  if (!x || !params) return Fail(cudaErrorInvalidValue);
  return Fail(ChangeExecNode(x, node, cudaGraphNodeTypeMemset,
                             [&](GraphNodeObject* n) { return SetMemsetNode(n, *params); }));
}

RCUDA_EXPORT cudaError_t cudaGraphExecHostNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                        const cudaHostNodeParams* params) {
  GraphExecObject* x = FindExec(exec);
  if (!x || !params || !params->fn) return Fail(cudaErrorInvalidValue);
  cudaHostFn_t fn = params->fn;
  void* data = params->userData;
  return Fail(ChangeExecNode(x, node, cudaGraphNodeTypeHost, [&](GraphNodeObject* n) {
    n->host_fn = [fn, data] { fn(data); };
    n->host_params = *params;
    return cudaSuccess;
  }));
}

static cudaError_t ExecSetEvent(cudaGraphExec_t exec, cudaGraphNode_t node, cudaGraphNodeType type,
                                cudaEvent_t event) {
  GraphExecObject* x = FindExec(exec);
  if (!x) return Fail(cudaErrorInvalidValue);
  if (!FindEvent(event)) return Fail(cudaErrorInvalidResourceHandle);
  return Fail(ChangeExecNode(x, node, type, [&](GraphNodeObject* n) {
    n->event = event;
    return cudaSuccess;
  }));
}

RCUDA_EXPORT cudaError_t cudaGraphExecEventRecordNodeSetEvent(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                              cudaEvent_t event) {
  return ExecSetEvent(exec, node, cudaGraphNodeTypeEventRecord, event);
}

RCUDA_EXPORT cudaError_t cudaGraphExecEventWaitNodeSetEvent(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                            cudaEvent_t event) {
  return ExecSetEvent(exec, node, cudaGraphNodeTypeWaitEvent, event);
}

RCUDA_EXPORT cudaError_t cudaGraphExecChildGraphNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                              cudaGraph_t child) {
  GraphExecObject* x = FindExec(exec);
  GraphObject* c = FindGraph(child);
  if (!x || !c) return Fail(cudaErrorInvalidValue);
  if (c->HasMemoryNodes()) return Fail(cudaErrorNotSupported);
  return Fail(ChangeExecNode(x, node, cudaGraphNodeTypeGraph, [&](GraphNodeObject* n) {
    SetChildGraph(n, *c);  // the server refuses another topology
    return cudaSuccess;
  }));
}

RCUDA_EXPORT cudaError_t cudaGraphExecGetFlags(cudaGraphExec_t exec, unsigned long long* flags) {
  GraphExecObject* x = FindExec(exec);
  if (!x || !flags) return Fail(cudaErrorInvalidValue);
  *flags = x->flags;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphDebugDotPrint(cudaGraph_t graph, const char* path, unsigned int flags) {
  GraphObject* g = FindGraph(graph);
  if (!g || !path) return Fail(cudaErrorInvalidValue);
  (void)flags;  // the verbosity flags: rcuda's dump has one level of detail
  return Fail(WriteDot(*g, path));
}

}  // extern "C"

cudaError_t exports::cudaGraphInstantiateWithParams(cudaGraphExec_t* exec, cudaGraph_t graph,
                                                    cudaGraphInstantiateParams* params, bool per_thread) {
  GraphObject* g = FindGraph(graph);
  if (!exec || !g || !params) return Fail(cudaErrorInvalidValue);
  params->errNode_out = nullptr;
  if (params->flags & cudaGraphInstantiateFlagUpload) {
    // The upload itself is a no-op (the server holds the graph), but its
    // stream must be one of the program's.
    StreamRef ref;
    cudaError_t e = ResolveStream(params->uploadStream, per_thread, &ref);
    if (e != cudaSuccess) {
      params->result_out = cudaGraphInstantiateError;
      return Fail(e);
    }
  }
  GraphExecObject* x = nullptr;
  cudaError_t e = Instantiate(g, params->flags, &x);
  if (e != cudaSuccess) {
    params->result_out = e == cudaErrorNotSupported ? cudaGraphInstantiateNodeOperationNotSupported
                                                    : cudaGraphInstantiateError;
    return Fail(e);
  }
  params->result_out = cudaGraphInstantiateSuccess;
  *exec = reinterpret_cast<cudaGraphExec_t>(x);
  return cudaSuccess;
}
