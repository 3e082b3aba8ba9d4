// graph_memory: graph memory nodes.
//  * An explicit graph allocates (cudaGraphAddMemAllocNode), fills the
//    allocation with a kernel, copies it to the host and frees it
//    (cudaGraphAddMemFreeNode); the node parameters come back; two launches
//    give the result.
//  * An allocation the graph does not free outlives the launch: the program
//    reads it, frees it with cudaFree, launches again, frees it with
//    cudaFreeAsync.
//  * cudaMallocAsync and cudaFreeAsync in a stream capture become allocation
//    and free nodes, and the captured graph runs.
//  * A graph with memory nodes is not cloned; the graph memory attributes
//    report at least the bytes allocated; the high marks reset to zero only;
//    cudaDeviceGraphMemTrim succeeds; once every graph, instantiation and
//    live allocation is gone, no graph memory is in use.
#include <cstring>
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 4096;
constexpr size_t kBytes = kN * sizeof(int);

void Expect(const std::vector<int>& got, const std::vector<int>& src, int add, const char* what) {
  for (int i = 0; i < kN; ++i)
    CHECKF(got[i] == src[i] + add, "%s: out[%d] = %d, expected %d", what, i, got[i], src[i] + add);
}

cudaMemAllocNodeParams AllocParams(int device) {
  cudaMemAllocNodeParams p = {};
  p.poolProps.allocType = cudaMemAllocationTypePinned;
  p.poolProps.location.type = cudaMemLocationTypeDevice;
  p.poolProps.location.id = device;
  p.bytesize = kBytes;
  return p;
}

size_t CountOfType(cudaGraph_t graph, cudaGraphNodeType type) {
  size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  std::vector<cudaGraphNode_t> nodes(count);
  CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &count));
  size_t n = 0;
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType t;
    CUDA_CHECK(cudaGraphNodeGetType(node, &t));
    n += t == type;
  }
  return n;
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("graph_memory");
  rtest::Checksum sum;
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));

  std::vector<int> src(kN), out(kN, 0);
  for (auto& v : src) v = static_cast<int>(rng.Next() % 100000);
  int* dsrc = nullptr;
  CUDA_CHECK(cudaMalloc(&dsrc, kBytes));
  CUDA_CHECK(cudaMemcpy(dsrc, src.data(), kBytes, cudaMemcpyHostToDevice));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  int n = kN, add = 11;
  cudaKernelNodeParams kp = {};
  kp.func = reinterpret_cast<void*>(addFrom);
  kp.gridDim = dim3(rtest::BlocksFor(kN, 256));
  kp.blockDim = dim3(256);

  // Allocate, fill, copy out, free: all in the graph.
  cudaGraph_t graph;
  CUDA_CHECK(cudaGraphCreate(&graph, 0));
  cudaMemAllocNodeParams ap = AllocParams(device);
  cudaGraphNode_t alloc, fill, copy, release;
  CUDA_CHECK(cudaGraphAddMemAllocNode(&alloc, graph, nullptr, 0, &ap));
  CHECKF(ap.dptr != nullptr, "the allocation node gave no address");
  int* scratch = static_cast<int*>(ap.dptr);
  void* fillArgs[] = {&dsrc, &scratch, &n, &add};
  kp.kernelParams = fillArgs;
  CUDA_CHECK(cudaGraphAddKernelNode(&fill, graph, &alloc, 1, &kp));
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&copy, graph, &fill, 1, out.data(), scratch, kBytes, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaGraphAddMemFreeNode(&release, graph, &copy, 1, scratch));
  cudaMemAllocNodeParams gotAlloc = {};
  CUDA_CHECK(cudaGraphMemAllocNodeGetParams(alloc, &gotAlloc));
  CHECKF(gotAlloc.dptr == scratch && gotAlloc.bytesize == kBytes, "MemAllocNodeGetParams gave other parameters");
  void* freed = nullptr;
  CUDA_CHECK(cudaGraphMemFreeNodeGetParams(release, &freed));
  CHECKF(freed == scratch, "MemFreeNodeGetParams gave %p, expected %p", freed, static_cast<void*>(scratch));
  cudaGraph_t clone = nullptr;
  CHECKF(cudaGraphClone(&clone, graph) != cudaSuccess, "a graph with memory nodes was cloned");
  (void)cudaGetLastError();

  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  for (int launch = 0; launch < 2; ++launch) {
    std::fill(out.begin(), out.end(), 0);
    CUDA_CHECK(cudaGraphLaunch(exec, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    Expect(out, src, add, "allocate, fill, copy, free");
  }
  sum.AddVector(out);
  uint64_t high = 0;
  CUDA_CHECK(cudaDeviceGetGraphMemAttribute(device, cudaGraphMemAttrReservedMemHigh, &high));
  CHECKF(high >= kBytes, "reserved graph memory high mark %llu, expected at least %zu",
         static_cast<unsigned long long>(high), kBytes);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));

  // An allocation that outlives its graph's launch.
  CUDA_CHECK(cudaGraphCreate(&graph, 0));
  ap = AllocParams(device);
  CUDA_CHECK(cudaGraphAddMemAllocNode(&alloc, graph, nullptr, 0, &ap));
  int* kept = static_cast<int*>(ap.dptr);
  void* keepArgs[] = {&dsrc, &kept, &n, &add};
  kp.kernelParams = keepArgs;
  CUDA_CHECK(cudaGraphAddKernelNode(&fill, graph, &alloc, 1, &kp));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  for (int launch = 0; launch < 2; ++launch) {
    add = 100 * (launch + 1);  // the node copied its arguments when it was made: it keeps 11
    CUDA_CHECK(cudaGraphLaunch(exec, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::fill(out.begin(), out.end(), 0);
    CUDA_CHECK(cudaMemcpy(out.data(), kept, kBytes, cudaMemcpyDeviceToHost));
    Expect(out, src, 11, "the allocation after the launch");
    if (launch == 0) {
      CUDA_CHECK(cudaFree(kept));
    } else {
      CUDA_CHECK(cudaFreeAsync(kept, stream));
      CUDA_CHECK(cudaStreamSynchronize(stream));
    }
  }
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));

  // Captured cudaMallocAsync / cudaFreeAsync.
  add = 23;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  int* temp = nullptr;
  CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&temp), kBytes, stream));
  addFrom<<<rtest::BlocksFor(kN, 256), 256, 0, stream>>>(dsrc, temp, kN, add);
  CUDA_CHECK(cudaMemcpyAsync(out.data(), temp, kBytes, cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaFreeAsync(temp, stream));
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CHECKF(CountOfType(graph, cudaGraphNodeTypeMemAlloc) == 1, "the capture has no allocation node");
  CHECKF(CountOfType(graph, cudaGraphNodeTypeMemFree) == 1, "the capture has no free node");
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  std::fill(out.begin(), out.end(), 0);
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, add, "the captured allocation");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));

  // The high marks reset to zero only; trimming succeeds.
  uint64_t zero = 0, one = 1;
  CUDA_CHECK(cudaDeviceSetGraphMemAttribute(device, cudaGraphMemAttrUsedMemHigh, &zero));
  CUDA_EXPECT(cudaDeviceSetGraphMemAttribute(device, cudaGraphMemAttrUsedMemHigh, &one), cudaErrorInvalidValue);
  CUDA_CHECK(cudaDeviceGraphMemTrim(device));
  // Every graph, instantiation and live allocation is gone: no graph memory
  // is in use.
  uint64_t used = 1;
  CUDA_CHECK(cudaDeviceGetGraphMemAttribute(device, cudaGraphMemAttrUsedMemCurrent, &used));
  CHECKF(used == 0, "%llu bytes of graph memory in use after everything was freed",
         static_cast<unsigned long long>(used));

  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(dsrc));
  return rtest::Pass(sum);
}
