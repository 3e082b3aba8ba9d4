// graph_nodes: child graph nodes, the node parameter getters and setters,
// node removal, instantiation with parameters and the DOT dump.
//
// A parent graph runs: upload -> child graph (one kernel, +7) -> kernel
// (+1000) -> [zap: memset 0] -> download -> host node. Checked:
//  * a child graph node holds a copy: changing the graph it was made from
//    changes nothing, changing the node's own graph (ChildGraphNodeGetGraph)
//    changes the next instantiation; the node's graph cannot be destroyed;
//  * the memcpy, memset and host nodes return their parameters, and new
//    parameters (another host buffer, another value, another function) take
//    effect at the next instantiation, not in the one made before;
//  * destroying the zap node removes its edges: the download still waits
//    for the kernel and the result is not zeroed;
//  * event nodes return and change their event;
//  * cudaGraphInstantiateWithParams reports success and its flags;
//    unknown flags are refused;
//  * an instantiation's memcpy, memset, host, event and child graph nodes
//    change one by one (cudaGraphExec*SetParams) without changing the graph;
//  * cudaGraphAddNode, cudaGraphNodeSetParams and cudaGraphExecNodeSetParams
//    make and change nodes of each kind as the calls of their kind do;
//  * memcpy nodes to and from a __device__ variable, made and changed, in
//    the graph and in an instantiation;
//  * cudaGraphDebugDotPrint writes a DOT file with the edges.
// With --session-checks (through rcuda): device launch and edge data are
// refused with cudaErrorNotSupported.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 2048;

__device__ int g_table[kN];

int g_first_calls = 0, g_second_calls = 0;
void CountFirst(void*) { ++g_first_calls; }
void CountSecond(void*) { ++g_second_calls; }

void Expect(const std::vector<int>& got, const std::vector<int>& src, int add, const char* what) {
  for (int i = 0; i < kN; ++i)
    CHECKF(got[i] == src[i] + add, "%s: out[%d] = %d, expected %d", what, i, got[i], src[i] + add);
}

void Run(cudaGraph_t graph, cudaStream_t stream) {
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaGraphExecDestroy(exec));
}

size_t NodeCount(cudaGraph_t graph) {
  size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;
  rtest::Rng rng = rtest::Init("graph_nodes");
  rtest::Checksum sum;

  std::vector<int> src(kN), out(kN, 0), other(kN, 0);
  for (auto& v : src) v = static_cast<int>(rng.Next() % 100000);
  int *dsrc = nullptr, *dmid = nullptr, *ddst = nullptr;
  CUDA_CHECK(cudaMalloc(&dsrc, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dmid, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&ddst, kN * sizeof(int)));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));

  // The child: one kernel, dmid = dsrc + 7.
  int n = kN, addChild = 7, addParent = 1000;
  cudaGraph_t child;
  CUDA_CHECK(cudaGraphCreate(&child, 0));
  cudaKernelNodeParams kp = {};
  kp.func = reinterpret_cast<void*>(addFrom);
  kp.gridDim = dim3(rtest::BlocksFor(kN, 256));
  kp.blockDim = dim3(256);
  void* childArgs[] = {&dsrc, &dmid, &n, &addChild};
  kp.kernelParams = childArgs;
  cudaGraphNode_t childKernel;
  CUDA_CHECK(cudaGraphAddKernelNode(&childKernel, child, nullptr, 0, &kp));

  cudaGraph_t graph;
  CUDA_CHECK(cudaGraphCreate(&graph, 0));
  cudaGraphNode_t upload, childNode, parentKernel, zap, download, host;
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&upload, graph, nullptr, 0, dsrc, src.data(), kN * sizeof(int),
                                      cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaGraphAddChildGraphNode(&childNode, graph, &upload, 1, child));
  void* parentArgs[] = {&dmid, &ddst, &n, &addParent};
  kp.kernelParams = parentArgs;
  CUDA_CHECK(cudaGraphAddKernelNode(&parentKernel, graph, &childNode, 1, &kp));
  cudaMemsetParams mp = {};
  mp.dst = ddst;
  mp.value = 0;
  mp.elementSize = 4;
  mp.width = kN;
  mp.height = 1;
  CUDA_CHECK(cudaGraphAddMemsetNode(&zap, graph, &parentKernel, 1, &mp));
  cudaGraphNode_t downloadDeps[] = {parentKernel, zap};
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&download, graph, downloadDeps, 2, out.data(), ddst, kN * sizeof(int),
                                      cudaMemcpyDeviceToHost));
  cudaHostNodeParams hp = {CountFirst, nullptr};
  CUDA_CHECK(cudaGraphAddHostNode(&host, graph, &download, 1, &hp));

  // The node holds a copy: a kernel added to `child` now is not in it.
  cudaGraphNode_t late;
  CUDA_CHECK(cudaGraphAddEmptyNode(&late, child, &childKernel, 1));
  cudaGraph_t owned = nullptr;
  CUDA_CHECK(cudaGraphChildGraphNodeGetGraph(childNode, &owned));
  CHECKF(owned != nullptr && owned != child, "ChildGraphNodeGetGraph gave the original graph");
  CHECKF(NodeCount(owned) == 1, "the node's graph has %zu nodes, expected 1 (a copy)", NodeCount(owned));
  CHECKF(NodeCount(child) == 2, "the original child graph has %zu nodes, expected 2", NodeCount(child));

  // The memset node's parameters come back; the zap zeroes the result.
  cudaMemsetParams gotMemset = {};
  CUDA_CHECK(cudaGraphMemsetNodeGetParams(zap, &gotMemset));
  CHECKF(gotMemset.dst == ddst && gotMemset.elementSize == 4 && gotMemset.width == kN && gotMemset.value == 0,
         "MemsetNodeGetParams gave other parameters");
  Run(graph, stream);
  rtest::ExpectBytes(out.data(), out.size() * sizeof(int), 0, "the result after the zap");
  CHECKF(g_first_calls == 1, "the host node ran %d times, expected 1", g_first_calls);

  // A new memset value: the next run leaves 0x01010101 in each element.
  cudaGraphExec_t before;  // instantiated before the changes below
  CUDA_CHECK(cudaGraphInstantiate(&before, graph, 0));
  mp.value = 1;
  mp.elementSize = 1;
  mp.width = kN * sizeof(int);
  CUDA_CHECK(cudaGraphMemsetNodeSetParams(zap, &mp));
  Run(graph, stream);
  rtest::ExpectBytes(out.data(), out.size() * sizeof(int), 1, "the result after the new memset");

  // Without the zap, the download still follows the kernel.
  CUDA_CHECK(cudaGraphDestroyNode(zap));
  size_t ndeps = 0;
  CUDA_CHECK(cudaGraphNodeGetDependencies(download, nullptr, nullptr, &ndeps));
  CHECKF(ndeps == 1, "the download has %zu dependencies after the zap's removal, expected 1", ndeps);
  CHECKF(NodeCount(graph) == 5, "the graph has %zu nodes after the removal, expected 5", NodeCount(graph));
  Run(graph, stream);
  Expect(out, src, addChild + addParent, "child graph then kernel");
  sum.AddVector(out);

  // The node's own graph may change: its kernel now adds 9.
  cudaGraphNode_t ownedKernel = nullptr;
  size_t one = 1;
  CUDA_CHECK(cudaGraphGetNodes(owned, &ownedKernel, &one));
  int addNine = 9;
  void* nineArgs[] = {&dsrc, &dmid, &n, &addNine};
  kp.kernelParams = nineArgs;
  CUDA_CHECK(cudaGraphKernelNodeSetParams(ownedKernel, &kp));
  CUDA_EXPECT(cudaGraphDestroy(owned), cudaErrorInvalidValue);

  // The download goes to `other`, the host node calls CountSecond.
  cudaMemcpy3DParms gotCopy = {};
  CUDA_CHECK(cudaGraphMemcpyNodeGetParams(download, &gotCopy));
  CHECKF(gotCopy.dstPtr.ptr == out.data() && gotCopy.srcPtr.ptr == ddst && gotCopy.extent.width == kN * sizeof(int),
         "MemcpyNodeGetParams gave other parameters");
  CUDA_CHECK(cudaGraphMemcpyNodeSetParams1D(download, other.data(), ddst, kN * sizeof(int), cudaMemcpyDeviceToHost));
  cudaHostNodeParams gotHost = {};
  CUDA_CHECK(cudaGraphHostNodeGetParams(host, &gotHost));
  CHECKF(gotHost.fn == CountFirst, "HostNodeGetParams gave another function");
  hp.fn = CountSecond;
  CUDA_CHECK(cudaGraphHostNodeSetParams(host, &hp));
  std::fill(out.begin(), out.end(), -1);
  int firstBefore = g_first_calls;
  Run(graph, stream);
  Expect(other, src, addNine + addParent, "the changed child graph, into the other buffer");
  CHECKF(out[0] == -1 && out[kN - 1] == -1, "the old download buffer was written");
  CHECKF(g_second_calls == 1 && g_first_calls == firstBefore, "the new host function did not run in place of the old");
  sum.AddVector(other);

  // The instantiation from before the changes still has the zap, +7, `out`.
  CUDA_CHECK(cudaGraphLaunch(before, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  rtest::ExpectBytes(out.data(), out.size() * sizeof(int), 0, "the instantiation made before the changes");
  CUDA_CHECK(cudaGraphExecDestroy(before));

  // Event nodes.
  cudaEvent_t e1, e2, got = nullptr;
  CUDA_CHECK(cudaEventCreate(&e1));
  CUDA_CHECK(cudaEventCreate(&e2));
  cudaGraphNode_t record, wait;
  CUDA_CHECK(cudaGraphAddEventRecordNode(&record, graph, &host, 1, e1));
  CUDA_CHECK(cudaGraphAddEventWaitNode(&wait, graph, &record, 1, e1));
  CUDA_CHECK(cudaGraphEventRecordNodeSetEvent(record, e2));
  CUDA_CHECK(cudaGraphEventRecordNodeGetEvent(record, &got));
  CHECKF(got == e2, "EventRecordNodeGetEvent did not give the new event");
  CUDA_CHECK(cudaGraphEventWaitNodeSetEvent(wait, e2));
  CUDA_CHECK(cudaGraphEventWaitNodeGetEvent(wait, &got));
  CHECKF(got == e2, "EventWaitNodeGetEvent did not give the new event");
  CUDA_EXPECT(cudaGraphEventRecordNodeGetEvent(wait, &got), cudaErrorInvalidValue);  // a wait node
  CUDA_EXPECT(cudaGraphMemsetNodeGetParams(download, &gotMemset), cudaErrorInvalidValue);  // a memcpy node

  // Instantiation with parameters: upload to a stream, flags kept.
  cudaGraphInstantiateParams ip = {};
  ip.flags = cudaGraphInstantiateFlagUpload;
  ip.uploadStream = stream;
  ip.result_out = cudaGraphInstantiateError;
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiateWithParams(&exec, graph, &ip));
  CHECKF(ip.result_out == cudaGraphInstantiateSuccess, "result_out is %d", (int)ip.result_out);
  unsigned long long flags = 0;
  CUDA_CHECK(cudaGraphExecGetFlags(exec, &flags));
  CHECKF(flags == cudaGraphInstantiateFlagUpload, "ExecGetFlags gave %llx", flags);
  std::fill(other.begin(), other.end(), 0);
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(other, src, addNine + addParent, "the graph instantiated with parameters");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_EXPECT(cudaGraphInstantiateWithFlags(&exec, graph, 1ull << 40), cudaErrorInvalidValue);
  if (session_checks) {
    CUDA_EXPECT(cudaGraphInstantiateWithFlags(&exec, graph, cudaGraphInstantiateFlagDeviceLaunch),
                cudaErrorNotSupported);
  }

  // An instantiation's nodes changed one by one; the graph keeps its own.
  cudaGraph_t child2;
  CUDA_CHECK(cudaGraphCreate(&child2, 0));
  int addFifty = 50;
  void* fiftyArgs[] = {&dsrc, &dmid, &n, &addFifty};
  kp.kernelParams = fiftyArgs;
  cudaGraphNode_t child2Kernel;
  CUDA_CHECK(cudaGraphAddKernelNode(&child2Kernel, child2, nullptr, 0, &kp));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphExecMemcpyNodeSetParams1D(exec, download, out.data(), ddst, kN * sizeof(int),
                                                cudaMemcpyDeviceToHost));
  hp.fn = CountFirst;
  CUDA_CHECK(cudaGraphExecHostNodeSetParams(exec, host, &hp));
  CUDA_CHECK(cudaGraphExecEventRecordNodeSetEvent(exec, record, e1));
  CUDA_CHECK(cudaGraphExecEventWaitNodeSetEvent(exec, wait, e1));
  CUDA_CHECK(cudaGraphExecChildGraphNodeSetParams(exec, childNode, child2));
  CUDA_EXPECT(cudaGraphExecMemsetNodeSetParams(exec, download, &mp), cudaErrorInvalidValue);  // a memcpy node
  std::fill(out.begin(), out.end(), 0);
  std::fill(other.begin(), other.end(), -1);
  firstBefore = g_first_calls;
  int secondBefore = g_second_calls;
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, addFifty + addParent, "the instantiation's new child graph, into its new buffer");
  CHECKF(other[0] == -1 && other[kN - 1] == -1, "the instantiation wrote the graph's buffer");
  CHECKF(g_first_calls == firstBefore + 1 && g_second_calls == secondBefore,
         "the instantiation's new host function did not run in place of the old");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphMemcpyNodeGetParams(download, &gotCopy));
  CHECKF(gotCopy.dstPtr.ptr == other.data(), "changing the instantiation changed the graph's node");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(child2));

  // A memset node of an instantiation.
  cudaGraph_t fill;
  CUDA_CHECK(cudaGraphCreate(&fill, 0));
  mp.dst = ddst;
  mp.value = 3;
  mp.elementSize = 1;
  mp.width = kN * sizeof(int);
  mp.height = 1;
  cudaGraphNode_t set, get;
  CUDA_CHECK(cudaGraphAddMemsetNode(&set, fill, nullptr, 0, &mp));
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&get, fill, &set, 1, out.data(), ddst, kN * sizeof(int),
                                      cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaGraphInstantiate(&exec, fill, 0));
  mp.value = 7;
  CUDA_CHECK(cudaGraphExecMemsetNodeSetParams(exec, set, &mp));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  rtest::ExpectBytes(out.data(), out.size() * sizeof(int), 7, "the instantiation's new memset value");
  CUDA_CHECK(cudaGraphMemsetNodeGetParams(set, &gotMemset));
  CHECKF(gotMemset.value == 3, "changing the instantiation changed the graph's memset node");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(fill));

  // The generic calls: nodes made, changed and changed in an instantiation
  // through cudaGraphNodeParams.
  cudaGraph_t generic;
  CUDA_CHECK(cudaGraphCreate(&generic, 0));
  cudaGraphNodeParams gp = {};
  gp.type = cudaGraphNodeTypeKernel;
  gp.kernel.func = reinterpret_cast<void*>(addFrom);
  gp.kernel.gridDim = dim3(rtest::BlocksFor(kN, 256));
  gp.kernel.blockDim = dim3(256);
  int addGeneric = 31;
  void* genericArgs[] = {&dsrc, &ddst, &n, &addGeneric};
  gp.kernel.kernelParams = genericArgs;
  cudaGraphNode_t gk, gs, gc;
  CUDA_CHECK(cudaGraphAddNode(&gk, generic, nullptr, nullptr, 0, &gp));
  gp = {};
  gp.type = cudaGraphNodeTypeMemset;
  gp.memset.dst = dmid;
  gp.memset.value = 5;
  gp.memset.elementSize = 1;
  gp.memset.width = kN * sizeof(int);
  gp.memset.height = 1;
  CUDA_CHECK(cudaGraphAddNode(&gs, generic, &gk, nullptr, 1, &gp));
  gp.memset.value = 6;
  CUDA_CHECK(cudaGraphNodeSetParams(gs, &gp));
  cudaGraphNodeParams copyParams = {};
  copyParams.type = cudaGraphNodeTypeMemcpy;
  copyParams.memcpy.copyParams.srcPtr = make_cudaPitchedPtr(ddst, kN * sizeof(int), kN * sizeof(int), 1);
  copyParams.memcpy.copyParams.dstPtr = make_cudaPitchedPtr(out.data(), kN * sizeof(int), kN * sizeof(int), 1);
  copyParams.memcpy.copyParams.extent = make_cudaExtent(kN * sizeof(int), 1, 1);
  copyParams.memcpy.copyParams.kind = cudaMemcpyDeviceToHost;
  cudaGraphEdgeData plain = {};
  CUDA_CHECK(cudaGraphAddNode(&gc, generic, &gs, &plain, 1, &copyParams));
  CUDA_EXPECT(cudaGraphNodeSetParams(gc, &gp), cudaErrorInvalidValue);  // a memset's parameters for a memcpy node
  CUDA_CHECK(cudaGraphInstantiate(&exec, generic, 0));
  gp.memset.value = 9;
  CUDA_CHECK(cudaGraphExecNodeSetParams(exec, gs, &gp));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, addGeneric, "the graph of generic nodes");
  sum.AddVector(out);
  std::vector<unsigned char> mid(kN * sizeof(int));
  CUDA_CHECK(cudaMemcpy(mid.data(), dmid, mid.size(), cudaMemcpyDeviceToHost));
  rtest::ExpectBytes(mid.data(), mid.size(), 9, "the generic memset changed in the instantiation");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  if (session_checks) {
    // Edge data (here a programmatic edge) is not carried.
    cudaGraphEdgeData programmatic = {};
    programmatic.type = cudaGraphDependencyTypeProgrammatic;
    programmatic.from_port = cudaGraphKernelNodePortProgrammatic;
    gp = {};
    gp.type = cudaGraphNodeTypeEmpty;
    cudaGraphNode_t ge;
    CUDA_EXPECT(cudaGraphAddNode(&ge, generic, &gk, &programmatic, 1, &gp), cudaErrorNotSupported);
  }
  CUDA_CHECK(cudaGraphDestroy(generic));

  // Copies to and from a __device__ variable, at an offset.
  constexpr size_t kShift = 4 * sizeof(int), kPart = (kN - 4) * sizeof(int);
  cudaGraph_t symbolic;
  CUDA_CHECK(cudaGraphCreate(&symbolic, 0));
  cudaGraphNode_t toTable, fromTable, unused;
  CUDA_CHECK(cudaGraphAddMemcpyNodeToSymbol(&toTable, symbolic, nullptr, 0, g_table, src.data(), kPart, kShift,
                                            cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaGraphAddMemcpyNodeFromSymbol(&fromTable, symbolic, &toTable, 1, out.data(), g_table, kPart, kShift,
                                              cudaMemcpyDeviceToHost));
  CUDA_EXPECT(cudaGraphAddMemcpyNodeToSymbol(&unused, symbolic, nullptr, 0, g_table, src.data(), kN * sizeof(int),
                                             kShift, cudaMemcpyHostToDevice),
              cudaErrorInvalidValue);  // past the variable's end
  CUDA_CHECK(cudaGraphInstantiate(&exec, symbolic, 0));
  std::fill(out.begin(), out.end(), -1);
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int i = 0; i < kN - 4; ++i) CHECKF(out[i] == src[i], "through the variable: out[%d] = %d", i, out[i]);
  // The instantiation reads from the variable's start: out[j] = src[j - 4].
  CUDA_CHECK(cudaGraphExecMemcpyNodeSetParamsFromSymbol(exec, fromTable, out.data(), g_table, kPart, 0,
                                                        cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int j = 4; j < kN - 4; ++j) CHECKF(out[j] == src[j - 4], "from the variable's start: out[%d] = %d", j, out[j]);
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphMemcpyNodeSetParamsToSymbol(toTable, g_table, other.data(), kPart, 0, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaGraphMemcpyNodeSetParamsFromSymbol(fromTable, out.data(), g_table, kPart, 0, cudaMemcpyDefault));
  CUDA_CHECK(cudaGraphExecMemcpyNodeSetParamsToSymbol(exec, toTable, g_table, src.data(), kPart, 0,
                                                      cudaMemcpyHostToDevice));
  CUDA_EXPECT(cudaGraphMemcpyNodeSetParamsToSymbol(toTable, g_table, src.data(), kPart, 0, cudaMemcpyDeviceToHost),
              cudaErrorInvalidMemcpyDirection);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(symbolic));

  // The DOT dump names the graph's edges.
  char path[] = "/tmp/rcuda-graph-nodes-XXXXXX";
  int fd = mkstemp(path);
  CHECKF(fd >= 0, "mkstemp failed");
  close(fd);
  CUDA_CHECK(cudaGraphDebugDotPrint(graph, path, 0));
  std::string dot;
  if (FILE* f = std::fopen(path, "r")) {
    char buf[4096];
    size_t got_bytes;
    while ((got_bytes = std::fread(buf, 1, sizeof buf, f)) > 0) dot.append(buf, got_bytes);
    std::fclose(f);
  }
  std::remove(path);
  CHECKF(dot.find("digraph") != std::string::npos && dot.find("->") != std::string::npos,
         "the DOT dump has no digraph or no edge (%zu bytes)", dot.size());

  CUDA_CHECK(cudaEventDestroy(e1));
  CUDA_CHECK(cudaEventDestroy(e2));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaGraphDestroy(child));
  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(dsrc));
  CUDA_CHECK(cudaFree(dmid));
  CUDA_CHECK(cudaFree(ddst));
  return rtest::Pass(sum);
}
