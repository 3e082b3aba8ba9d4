// Graph memcpy nodes to and from a __device__ variable: the variable's
// address and size are looked up once (cudaGetSymbolAddress/Size), and the
// node is an ordinary one-dimensional memcpy node, as natively.
#include "client/api_common.h"
#include "client/graph.h"

using namespace rcuda::client;

namespace {

cudaError_t SymbolCopy(const void* symbol, size_t bytes, size_t offset, bool to_symbol, const void* other,
                       cudaMemcpyKind kind, cudaMemcpy3DParms* p) {
  const cudaMemcpyKind allowed = to_symbol ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  if (kind != allowed && kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault)
    return cudaErrorInvalidMemcpyDirection;
  void* address = nullptr;
  size_t size = 0;
  cudaError_t e = cudaGetSymbolAddress(&address, symbol);
  if (e == cudaSuccess) e = cudaGetSymbolSize(&size, symbol);
  if (e != cudaSuccess) return e;
  if (offset > size || bytes > size - offset) return cudaErrorInvalidValue;
  void* device = static_cast<char*>(address) + offset;
  void* dst = to_symbol ? device : const_cast<void*>(other);
  const void* src = to_symbol ? other : device;
  *p = LinearCopyParams(dst, src, bytes, kind);
  return cudaSuccess;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaGraphAddMemcpyNodeToSymbol(cudaGraphNode_t* node, cudaGraph_t graph,
                                                        const cudaGraphNode_t* deps, size_t count, const void* symbol,
                                                        const void* src, size_t bytes, size_t offset,
                                                        cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/true, src, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphAddMemcpyNode(node, graph, deps, count, &p);
}

RCUDA_EXPORT cudaError_t cudaGraphAddMemcpyNodeFromSymbol(cudaGraphNode_t* node, cudaGraph_t graph,
                                                          const cudaGraphNode_t* deps, size_t count, void* dst,
                                                          const void* symbol, size_t bytes, size_t offset,
                                                          cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/false, dst, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphAddMemcpyNode(node, graph, deps, count, &p);
}

RCUDA_EXPORT cudaError_t cudaGraphMemcpyNodeSetParamsToSymbol(cudaGraphNode_t node, const void* symbol,
                                                              const void* src, size_t bytes, size_t offset,
                                                              cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/true, src, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphMemcpyNodeSetParams(node, &p);
}

RCUDA_EXPORT cudaError_t cudaGraphMemcpyNodeSetParamsFromSymbol(cudaGraphNode_t node, void* dst, const void* symbol,
                                                                size_t bytes, size_t offset, cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/false, dst, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphMemcpyNodeSetParams(node, &p);
}

RCUDA_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParamsToSymbol(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                                  const void* symbol, const void* src, size_t bytes,
                                                                  size_t offset, cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/true, src, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphExecMemcpyNodeSetParams(exec, node, &p);
}

RCUDA_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParamsFromSymbol(cudaGraphExec_t exec, cudaGraphNode_t node,
                                                                    void* dst, const void* symbol, size_t bytes,
                                                                    size_t offset, cudaMemcpyKind kind) {
  cudaMemcpy3DParms p;
  cudaError_t e = SymbolCopy(symbol, bytes, offset, /*to_symbol=*/false, dst, kind, &p);
  return e != cudaSuccess ? Fail(e) : cudaGraphExecMemcpyNodeSetParams(exec, node, &p);
}

}  // extern "C"
