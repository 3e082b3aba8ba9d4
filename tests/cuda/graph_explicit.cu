// graph_explicit: a graph built node by node: a memset node, two kernel nodes
// (one a root, one after the memset) feeding a third, and a device-to-host
// memcpy node; dependencies given at creation and with
// cudaGraphAddDependencies; nodes and edges counted; instantiate and launch;
// cudaGraphExecKernelNodeSetParams changing one launch's parameter; then
// cudaGraphKernelNodeSetParams on the graph plus cudaGraphExecUpdate, after
// which the executable graph takes ALL its parameters from the graph again.
// Catches parameters captured by pointer instead of by value, dependencies
// ignored, and updates applied to the wrong node.
#include "test_util.h"

__global__ void scaleBy(int* x, int n, int factor) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= factor;
}

__global__ void fillLinear(int* y, int n, int a, int b) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * i + b;
}

__global__ void combineInto(const int* x, const int* y, int* z, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) z[i] = x[i] - y[i];
}

static std::vector<int> Expected(int n, int memsetValue, int factor, int a, int b) {
  std::vector<int> z(n);
  for (int i = 0; i < n; ++i) z[i] = memsetValue * factor - (a * i + b);
  return z;
}

int main() {
  rtest::Rng rng = rtest::Init("graph_explicit");
  rtest::Checksum sum;
  const int n = 20021;
  const size_t bytes = n * sizeof(int);
  int *dx, *dy, *dz, *hOut;
  CUDA_CHECK(cudaMalloc(&dx, bytes));
  CUDA_CHECK(cudaMalloc(&dy, bytes));
  CUDA_CHECK(cudaMalloc(&dz, bytes));
  CUDA_CHECK(cudaMallocHost(&hOut, bytes));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));

  cudaGraph_t graph;
  CUDA_CHECK(cudaGraphCreate(&graph, 0));

  // memset x to `value` (32-bit elements)
  const int memsetValue = static_cast<int>(rng.Int(1, 1000));
  cudaMemsetParams ms = {};
  ms.dst = dx;
  ms.value = static_cast<unsigned>(memsetValue);
  ms.elementSize = 4;
  ms.width = n;
  ms.height = 1;
  cudaGraphNode_t memsetNode;
  CUDA_CHECK(cudaGraphAddMemsetNode(&memsetNode, graph, nullptr, 0, &ms));

  // scaleBy(x) after the memset
  int nArg = n, factor = static_cast<int>(rng.Int(-9, 9));
  void* scaleArgs[] = {&dx, &nArg, &factor};
  cudaKernelNodeParams scaleParams = {};
  scaleParams.func = reinterpret_cast<void*>(scaleBy);
  scaleParams.gridDim = dim3(rtest::BlocksFor(n, 128));
  scaleParams.blockDim = dim3(128);
  scaleParams.kernelParams = scaleArgs;
  cudaGraphNode_t scaleNode;
  CUDA_CHECK(cudaGraphAddKernelNode(&scaleNode, graph, &memsetNode, 1, &scaleParams));

  // fillLinear(y), a root
  int a = static_cast<int>(rng.Int(-50, 50)), b = static_cast<int>(rng.Int(-5000, 5000));
  void* fillArgs[] = {&dy, &nArg, &a, &b};
  cudaKernelNodeParams fillParams = {};
  fillParams.func = reinterpret_cast<void*>(fillLinear);
  fillParams.gridDim = dim3(rtest::BlocksFor(n, 256));
  fillParams.blockDim = dim3(256);
  fillParams.kernelParams = fillArgs;
  cudaGraphNode_t fillNode;
  CUDA_CHECK(cudaGraphAddKernelNode(&fillNode, graph, nullptr, 0, &fillParams));

  // combineInto(x, y, z) after both, added without dependencies first
  void* combineArgs[] = {&dx, &dy, &dz, &nArg};
  cudaKernelNodeParams combineParams = {};
  combineParams.func = reinterpret_cast<void*>(combineInto);
  combineParams.gridDim = dim3(rtest::BlocksFor(n, 64));
  combineParams.blockDim = dim3(64);
  combineParams.kernelParams = combineArgs;
  cudaGraphNode_t combineNode;
  CUDA_CHECK(cudaGraphAddKernelNode(&combineNode, graph, nullptr, 0, &combineParams));
  cudaGraphNode_t from[] = {scaleNode, fillNode}, to[] = {combineNode, combineNode};
  CUDA_CHECK(cudaGraphAddDependencies(graph, from, to, nullptr, 2));

  // z -> host, after the combine
  cudaGraphNode_t copyNode;
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&copyNode, graph, &combineNode, 1, hOut, dz, bytes, cudaMemcpyDeviceToHost));

  size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  CHECKF(count == 5, "the graph has %zu nodes, expected 5", count);
  CUDA_CHECK(cudaGraphGetEdges(graph, nullptr, nullptr, nullptr, &count));
  CHECKF(count == 4, "the graph has %zu edges, expected 4", count);

  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  // Parameters were copied at node creation: changing the host variables
  // now must not change what the graph does.
  const int origFactor = factor, origA = a, origB = b;
  factor = 1000;
  a = 0;
  b = 0;
  std::memset(hOut, 0, bytes);
  CUDA_CHECK(cudaGraphLaunch(exec, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  auto want = Expected(n, memsetValue, origFactor, origA, origB);
  rtest::ExpectEqual(hOut, want.data(), n, "first launch of the explicit graph");
  sum.Add(hOut, bytes);

  // Change one kernel node's parameters in the executable graph only.
  int newFactor = origFactor + 3;
  void* newScaleArgs[] = {&dx, &nArg, &newFactor};
  cudaKernelNodeParams newScale = scaleParams;
  newScale.kernelParams = newScaleArgs;
  CUDA_CHECK(cudaGraphExecKernelNodeSetParams(exec, scaleNode, &newScale));
  CUDA_CHECK(cudaGraphLaunch(exec, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  want = Expected(n, memsetValue, newFactor, origA, origB);
  rtest::ExpectEqual(hOut, want.data(), n, "after cudaGraphExecKernelNodeSetParams on the scale node");
  sum.Add(hOut, bytes);

  // Change the fill node in the graph and update the executable graph from
  // it: the fill changes, and the scale node returns to the graph's factor.
  int newA = origA - 7, newB = origB + 11;
  void* newFillArgs[] = {&dy, &nArg, &newA, &newB};
  cudaKernelNodeParams newFill = fillParams;
  newFill.kernelParams = newFillArgs;
  CUDA_CHECK(cudaGraphKernelNodeSetParams(fillNode, &newFill));
  cudaGraphExecUpdateResultInfo info = {};
  CUDA_CHECK(cudaGraphExecUpdate(exec, graph, &info));
  CHECKF(info.result == cudaGraphExecUpdateSuccess, "cudaGraphExecUpdate result %d", info.result);
  CUDA_CHECK(cudaGraphLaunch(exec, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  want = Expected(n, memsetValue, origFactor, newA, newB);
  rtest::ExpectEqual(hOut, want.data(), n, "after cudaGraphKernelNodeSetParams + cudaGraphExecUpdate");
  sum.Add(hOut, bytes);

  // A second instantiation of the same graph launched on the legacy stream.
  cudaGraphExec_t exec2;
  CUDA_CHECK(cudaGraphInstantiate(&exec2, graph, 0));
  std::memset(hOut, 0, bytes);
  CUDA_CHECK(cudaGraphLaunch(exec2, 0));
  CUDA_CHECK(cudaDeviceSynchronize());
  rtest::ExpectEqual(hOut, want.data(), n, "a second instantiation launched on the legacy stream");

  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphExecDestroy(exec2));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaStreamDestroy(s));
  for (int* p : {dx, dy, dz}) CUDA_CHECK(cudaFree(p));
  CUDA_CHECK(cudaFreeHost(hOut));
  return rtest::Pass(sum);
}
