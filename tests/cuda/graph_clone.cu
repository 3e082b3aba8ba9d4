// graph_clone: cudaGraphClone and cudaGraphNodeFindInClone. A graph of a
// host-to-device copy, two kernels and a device-to-host copy is cloned; the
// original is destroyed (the clone must not depend on it), the clone's kernel
// node found through cudaGraphNodeFindInClone gets new parameters, and both
// the clone and a second clone of the clone run. Catches clones that share
// nodes or parameter buffers with their original, dependencies that still
// point into the original, and lookups that find the wrong node.
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 4096;

void Expect(const std::vector<int>& got, const std::vector<int>& src, int add, const char* what) {
  for (int i = 0; i < kN; ++i)
    CHECKF(got[i] == src[i] + add, "%s: out[%d] = %d, expected %d", what, i, got[i], src[i] + add);
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("graph_clone");
  rtest::Checksum sum;

  std::vector<int> src(kN), out(kN, 0);
  for (auto& v : src) v = static_cast<int>(rng.Next() % 100000);
  int *dsrc = nullptr, *dmid = nullptr, *ddst = nullptr;
  CUDA_CHECK(cudaMalloc(&dsrc, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dmid, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&ddst, kN * sizeof(int)));

  cudaGraph_t graph;
  CUDA_CHECK(cudaGraphCreate(&graph, 0));
  cudaGraphNode_t upload, first, second, download;
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&upload, graph, nullptr, 0, dsrc, src.data(), kN * sizeof(int),
                                      cudaMemcpyHostToDevice));
  int n = kN, addFirst = 7, addSecond = 1000;
  void* firstArgs[] = {&dsrc, &dmid, &n, &addFirst};
  cudaKernelNodeParams kp = {};
  kp.func = reinterpret_cast<void*>(addFrom);
  kp.gridDim = dim3(rtest::BlocksFor(kN, 256));
  kp.blockDim = dim3(256);
  kp.kernelParams = firstArgs;
  CUDA_CHECK(cudaGraphAddKernelNode(&first, graph, &upload, 1, &kp));
  void* secondArgs[] = {&dmid, &ddst, &n, &addSecond};
  kp.kernelParams = secondArgs;
  CUDA_CHECK(cudaGraphAddKernelNode(&second, graph, &first, 1, &kp));
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&download, graph, &second, 1, out.data(), ddst, kN * sizeof(int),
                                      cudaMemcpyDeviceToHost));

  cudaGraph_t clone;
  CUDA_CHECK(cudaGraphClone(&clone, graph));
  size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(clone, nullptr, &count));
  CHECKF(count == 4, "the clone has %zu nodes, expected 4", count);
  cudaGraphNode_t secondInClone = nullptr, uploadInClone = nullptr;
  CUDA_CHECK(cudaGraphNodeFindInClone(&secondInClone, second, clone));
  CUDA_CHECK(cudaGraphNodeFindInClone(&uploadInClone, upload, clone));
  CHECKF(secondInClone != second && secondInClone != nullptr, "FindInClone gave the original node");
  cudaGraphNodeType type;
  CUDA_CHECK(cudaGraphNodeGetType(secondInClone, &type));
  CHECKF(type == cudaGraphNodeTypeKernel, "the clone of a kernel node has type %d", (int)type);
  CUDA_CHECK(cudaGraphNodeGetType(uploadInClone, &type));
  CHECKF(type == cudaGraphNodeTypeMemcpy, "the clone of a memcpy node has type %d", (int)type);
  // The clone's node depends on the clone of `first`, not on `first`.
  cudaGraphNode_t dep = nullptr, firstInClone = nullptr;
  size_t ndeps = 1;
  CUDA_CHECK(cudaGraphNodeGetDependencies(secondInClone, &dep, nullptr, &ndeps));
  CUDA_CHECK(cudaGraphNodeFindInClone(&firstInClone, first, clone));
  CHECKF(ndeps == 1 && dep == firstInClone, "the cloned node's dependency is not the clone of its original's");
  // The kernel parameters were copied: reading them back gives the values.
  cudaKernelNodeParams got = {};
  CUDA_CHECK(cudaGraphKernelNodeGetParams(secondInClone, &got));
  CHECKF(got.kernelParams && *static_cast<int*>(got.kernelParams[3]) == addSecond,
         "the cloned node's fourth parameter is not %d", addSecond);

  // The clone outlives its original; its parameters are its own.
  CUDA_CHECK(cudaGraphDestroy(graph));
  int addChanged = -5;
  void* changedArgs[] = {&dmid, &ddst, &n, &addChanged};
  kp.kernelParams = changedArgs;
  CUDA_CHECK(cudaGraphKernelNodeSetParams(secondInClone, &kp));
  cudaGraph_t cloneOfClone;
  CUDA_CHECK(cudaGraphClone(&cloneOfClone, clone));

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, clone, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, addFirst + addChanged, "the clone");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(clone));

  std::fill(out.begin(), out.end(), 0);
  for (auto& v : src) v = static_cast<int>(rng.Next() % 100000);  // the upload reads src at each launch
  CUDA_CHECK(cudaGraphInstantiate(&exec, cloneOfClone, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, addFirst + addChanged, "the clone of the clone");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_EXPECT(cudaGraphClone(nullptr, cloneOfClone), cudaErrorInvalidValue);
  CUDA_CHECK(cudaGraphDestroy(cloneOfClone));

  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(dsrc));
  CUDA_CHECK(cudaFree(dmid));
  CUDA_CHECK(cudaFree(ddst));
  return rtest::Pass(sum);
}
