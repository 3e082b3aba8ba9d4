// Graph memory's queries: the allocation and free nodes' parameters and the
// device's graph memory attributes (client/graph_memory.h). The nodes are
// added in api_graph.cc, beside the other node kinds.
#include "client/api_common.h"
#include "client/graph.h"
#include "client/graph_memory.h"
#include "client/runtime.h"

using namespace rcuda::client;

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphMemAllocNodeGetParams(cudaGraphNode_t node, cudaMemAllocNodeParams* params) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !params || n->type != cudaGraphNodeTypeMemAlloc) return Fail(cudaErrorInvalidValue);
  *params = n->alloc_params;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGraphMemFreeNodeGetParams(cudaGraphNode_t node, void* dptr_out) {
  GraphNodeObject* n = FindNode(node);
  if (!n || !dptr_out || n->type != cudaGraphNodeTypeMemFree) return Fail(cudaErrorInvalidValue);
  *static_cast<void**>(dptr_out) = reinterpret_cast<void*>(n->graph_memory);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceGetGraphMemAttribute(int device, cudaGraphMemAttributeType attr, void* value) {
  if (!Runtime::Get().session(device)) return Fail(cudaErrorInvalidDevice);
  if (!value) return Fail(cudaErrorInvalidValue);
  uint64_t v = 0;
  cudaError_t e = GraphMemory::Get().GetAttribute(device, attr, &v);
  if (e != cudaSuccess) return Fail(e);
  *static_cast<uint64_t*>(value) = v;  // cuuint64_t, as CUDA's
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceSetGraphMemAttribute(int device, cudaGraphMemAttributeType attr, void* value) {
  if (!Runtime::Get().session(device)) return Fail(cudaErrorInvalidDevice);
  // Only the high marks may be set, and only to zero (a reset).
  if (!value || *static_cast<const uint64_t*>(value) != 0) return Fail(cudaErrorInvalidValue);
  return Fail(GraphMemory::Get().ResetHigh(device, attr));
}

// rcuda holds no graph memory beyond the allocations of nodes that exist
// or allocations still live (client/graph_memory.h): nothing to trim.
RCUDA_EXPORT cudaError_t cudaDeviceGraphMemTrim(int device) {
  if (!Runtime::Get().session(device)) return Fail(cudaErrorInvalidDevice);
  return cudaSuccess;
}

}  // extern "C"
