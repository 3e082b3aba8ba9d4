// The graph API's generic node calls (cudaGraphAddNode, cudaGraphNodeSetParams,
// cudaGraphExecNodeSetParams): each node kind goes to the call of its kind,
// so that a node made either way is the same node. Kinds rcuda does not carry
// (external semaphores, conditionals) are refused with cudaErrorNotSupported.
#include "client/api_common.h"
#include "client/graph.h"

using namespace rcuda::client;

namespace {

cudaKernelNodeParams KernelParams(const cudaKernelNodeParamsV2& p) {
  cudaKernelNodeParams k{};
  k.func = p.func;
  k.gridDim = p.gridDim;
  k.blockDim = p.blockDim;
  k.sharedMemBytes = p.sharedMemBytes;
  k.kernelParams = p.kernelParams;
  k.extra = p.extra;
  return k;
}

cudaMemsetParams MemsetParams(const cudaMemsetParamsV2& p) {
  cudaMemsetParams m{};
  m.dst = p.dst;
  m.pitch = p.pitch;
  m.value = p.value;
  m.elementSize = p.elementSize;
  m.width = p.width;
  m.height = p.height;
  return m;
}

cudaHostNodeParams HostParams(const cudaHostNodeParamsV2& p) { return cudaHostNodeParams{p.fn, p.userData}; }

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphAddNode(cudaGraphNode_t* node, cudaGraph_t graph, const cudaGraphNode_t* deps,
                                          const cudaGraphEdgeData* edges, size_t count,
                                          cudaGraphNodeParams* params) {
  if (!params) return Fail(cudaErrorInvalidValue);
  if (!DefaultEdges(edges, count)) return Fail(cudaErrorNotSupported);
  switch (params->type) {
    case cudaGraphNodeTypeKernel: {
      cudaKernelNodeParams k = KernelParams(params->kernel);
      return cudaGraphAddKernelNode(node, graph, deps, count, &k);
    }
    case cudaGraphNodeTypeMemcpy:
      if (params->memcpy.flags) return Fail(cudaErrorInvalidValue);  // must be zero
      return cudaGraphAddMemcpyNode(node, graph, deps, count, &params->memcpy.copyParams);
    case cudaGraphNodeTypeMemset: {
      cudaMemsetParams m = MemsetParams(params->memset);
      return cudaGraphAddMemsetNode(node, graph, deps, count, &m);
    }
    case cudaGraphNodeTypeHost: {
      cudaHostNodeParams h = HostParams(params->host);
      return cudaGraphAddHostNode(node, graph, deps, count, &h);
    }
    case cudaGraphNodeTypeGraph:
      // Moving the program's graph into the node (no copy) is not carried.
      if (params->graph.ownership != cudaGraphChildGraphOwnershipClone) return Fail(cudaErrorNotSupported);
      return cudaGraphAddChildGraphNode(node, graph, deps, count, params->graph.graph);
    case cudaGraphNodeTypeEmpty:
      return cudaGraphAddEmptyNode(node, graph, deps, count);
    case cudaGraphNodeTypeEventRecord:
      return cudaGraphAddEventRecordNode(node, graph, deps, count, params->eventRecord.event);
    case cudaGraphNodeTypeWaitEvent:
      return cudaGraphAddEventWaitNode(node, graph, deps, count, params->eventWait.event);
    case cudaGraphNodeTypeMemAlloc: {
      // The two structures have the same members; dptr is the result.
      cudaMemAllocNodeParams a{};
      a.poolProps = params->alloc.poolProps;
      a.accessDescs = params->alloc.accessDescs;
      a.accessDescCount = params->alloc.accessDescCount;
      a.bytesize = params->alloc.bytesize;
      cudaError_t e = cudaGraphAddMemAllocNode(node, graph, deps, count, &a);
      if (e == cudaSuccess) params->alloc.dptr = a.dptr;
      return e;
    }
    case cudaGraphNodeTypeMemFree:
      return cudaGraphAddMemFreeNode(node, graph, deps, count, params->free.dptr);
    default:
      return Fail(cudaErrorNotSupported);  // external semaphores, conditionals
  }
}

RCUDA_EXPORT cudaError_t cudaGraphNodeSetParams(cudaGraphNode_t node, cudaGraphNodeParams* params) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !params || n->type != params->type) return Fail(cudaErrorInvalidValue);
  switch (params->type) {
    case cudaGraphNodeTypeKernel: {
      cudaKernelNodeParams k = KernelParams(params->kernel);
      return cudaGraphKernelNodeSetParams(node, &k);
    }
    case cudaGraphNodeTypeMemcpy:
      if (params->memcpy.flags) return Fail(cudaErrorInvalidValue);
      return cudaGraphMemcpyNodeSetParams(node, &params->memcpy.copyParams);
    case cudaGraphNodeTypeMemset: {
      cudaMemsetParams m = MemsetParams(params->memset);
      return cudaGraphMemsetNodeSetParams(node, &m);
    }
    case cudaGraphNodeTypeHost: {
      cudaHostNodeParams h = HostParams(params->host);
      return cudaGraphHostNodeSetParams(node, &h);
    }
    case cudaGraphNodeTypeEventRecord:
      return cudaGraphEventRecordNodeSetEvent(node, params->eventRecord.event);
    case cudaGraphNodeTypeWaitEvent:
      return cudaGraphEventWaitNodeSetEvent(node, params->eventWait.event);
    case cudaGraphNodeTypeMemAlloc:
    case cudaGraphNodeTypeMemFree:
    case cudaGraphNodeTypeEmpty:
      return Fail(cudaErrorInvalidValue);  // nothing to change, as natively
    default:
      return Fail(cudaErrorNotSupported);  // child graphs (changed through their graph), the rest
  }
}

RCUDA_EXPORT cudaError_t cudaGraphExecNodeSetParams(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                    cudaGraphNodeParams* params) {
  if (!params) return Fail(cudaErrorInvalidValue);
  switch (params->type) {
    case cudaGraphNodeTypeKernel: {
      cudaKernelNodeParams k = KernelParams(params->kernel);
      return cudaGraphExecKernelNodeSetParams(exec, node, &k);
    }
    case cudaGraphNodeTypeMemcpy:
      if (params->memcpy.flags) return Fail(cudaErrorInvalidValue);
      return cudaGraphExecMemcpyNodeSetParams(exec, node, &params->memcpy.copyParams);
    case cudaGraphNodeTypeMemset: {
      cudaMemsetParams m = MemsetParams(params->memset);
      return cudaGraphExecMemsetNodeSetParams(exec, node, &m);
    }
    case cudaGraphNodeTypeHost: {
      cudaHostNodeParams h = HostParams(params->host);
      return cudaGraphExecHostNodeSetParams(exec, node, &h);
    }
    case cudaGraphNodeTypeGraph:
      return cudaGraphExecChildGraphNodeSetParams(exec, node, params->graph.graph);
    case cudaGraphNodeTypeEventRecord:
      return cudaGraphExecEventRecordNodeSetEvent(exec, node, params->eventRecord.event);
    case cudaGraphNodeTypeWaitEvent:
      return cudaGraphExecEventWaitNodeSetEvent(exec, node, params->eventWait.event);
    case cudaGraphNodeTypeMemAlloc:
    case cudaGraphNodeTypeMemFree:
    case cudaGraphNodeTypeEmpty:
      return Fail(cudaErrorInvalidValue);
    default:
      return Fail(cudaErrorNotSupported);
  }
}

}  // extern "C"
