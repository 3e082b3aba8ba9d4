// graph_capture_more: capturing into an existing graph, changing a capture's
// dependencies, and user objects.
//  * cudaStreamBeginCaptureToGraph appends a kernel and a download to a
//    graph after its upload node; the end of the capture gives the same
//    graph, which runs.
//  * cudaStreamUpdateCaptureDependencies: captured work made to depend on a
//    node of the graph instead of the stream's last node (Set), or on one
//    more (Add); cudaStreamGetCaptureInfo reports the dependencies.
//  * A cudaLaunchKernelEx with a priority and a cluster shape, captured: the
//    kernel node carries both (read back, changed, copied to another node)
//    and runs.
//  * User objects: the destructor runs once the last reference is gone:
//    the program's, the graph's (cudaGraphRetainUserObject, with and without
//    moving the program's reference), an instantiation's (after the graph
//    is destroyed, only when the instantiation is), a clone's.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 2048;
std::atomic<int> g_destroyed{0};
void Destroy(void* p) {
  static_cast<std::atomic<int>*>(p)->fetch_add(1);
  g_destroyed.fetch_add(1);
}

void Expect(const std::vector<int>& got, const std::vector<int>& src, int add, const char* what) {
  for (int i = 0; i < kN; ++i)
    CHECKF(got[i] == src[i] + add, "%s: out[%d] = %d, expected %d", what, i, got[i], src[i] + add);
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("graph_capture_more");
  rtest::Checksum sum;
  std::vector<int> src(kN), out(kN, 0);
  for (auto& v : src) v = static_cast<int>(rng.Next() % 100000);
  int *dsrc = nullptr, *ddst = nullptr;
  CUDA_CHECK(cudaMalloc(&dsrc, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&ddst, kN * sizeof(int)));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const int blocks = rtest::BlocksFor(kN, 256);

  // Capture into a graph that has an upload node.
  cudaGraph_t graph;
  CUDA_CHECK(cudaGraphCreate(&graph, 0));
  cudaGraphNode_t upload;
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&upload, graph, nullptr, 0, dsrc, src.data(), kN * sizeof(int),
                                      cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaStreamBeginCaptureToGraph(stream, graph, &upload, nullptr, 1, cudaStreamCaptureModeGlobal));
  cudaStreamCaptureStatus status;
  cudaGraph_t capturing = nullptr;
  const cudaGraphNode_t* deps = nullptr;
  size_t ndeps = 0;
  CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, nullptr, &capturing, &deps, nullptr, &ndeps));
  CHECKF(status == cudaStreamCaptureStatusActive && capturing == graph, "the capture is not into the graph");
  CHECKF(ndeps == 1 && deps[0] == upload, "the capture does not start after the upload node (%zu deps)", ndeps);
  addFrom<<<blocks, 256, 0, stream>>>(dsrc, ddst, kN, 5);
  CUDA_CHECK(cudaMemcpyAsync(out.data(), ddst, kN * sizeof(int), cudaMemcpyDeviceToHost, stream));
  cudaGraph_t ended = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(stream, &ended));
  CHECKF(ended == graph, "the capture ended with another graph");
  size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  CHECKF(count == 3, "the graph has %zu nodes after the capture, expected 3", count);
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, 5, "captured into the graph");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));

  // The capture's dependencies replaced, then added to.
  cudaGraph_t second;
  CUDA_CHECK(cudaGraphCreate(&second, 0));
  cudaGraphNode_t root;
  CUDA_CHECK(cudaGraphAddMemcpyNode1D(&root, second, nullptr, 0, dsrc, src.data(), kN * sizeof(int),
                                      cudaMemcpyHostToDevice));
  cudaGraphNode_t extra;
  CUDA_CHECK(cudaGraphAddEmptyNode(&extra, second, nullptr, 0));
  CUDA_CHECK(cudaStreamBeginCaptureToGraph(stream, second, nullptr, nullptr, 0, cudaStreamCaptureModeGlobal));
  CUDA_CHECK(cudaStreamUpdateCaptureDependencies(stream, &root, nullptr, 1, cudaStreamSetCaptureDependencies));
  addFrom<<<blocks, 256, 0, stream>>>(dsrc, ddst, kN, 9);
  CUDA_CHECK(cudaStreamUpdateCaptureDependencies(stream, &extra, nullptr, 1, cudaStreamAddCaptureDependencies));
  CUDA_CHECK(cudaStreamGetCaptureInfo(stream, &status, nullptr, nullptr, &deps, nullptr, &ndeps));
  CHECKF(ndeps == 2, "after Add, the capture has %zu dependencies, expected 2", ndeps);
  CUDA_CHECK(cudaMemcpyAsync(out.data(), ddst, kN * sizeof(int), cudaMemcpyDeviceToHost, stream));
  CUDA_EXPECT(cudaStreamUpdateCaptureDependencies(stream, &upload, nullptr, 1, cudaStreamAddCaptureDependencies),
              cudaErrorInvalidValue);  // a node of another graph
  CUDA_CHECK(cudaStreamEndCapture(stream, &ended));
  size_t rootDependents = 0;
  CUDA_CHECK(cudaGraphNodeGetDependentNodes(root, nullptr, nullptr, &rootDependents));
  CHECKF(rootDependents == 1, "the root node has %zu dependents, expected the captured kernel", rootDependents);
  std::fill(out.begin(), out.end(), 0);
  CUDA_CHECK(cudaGraphInstantiate(&exec, second, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, 9, "captured after the root node");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(second));

  // A launch with attributes, captured: its kernel node carries them.
  int least = 0, greatest = 0;
  CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  cudaLaunchAttribute la[2];
  la[0].id = cudaLaunchAttributePriority;
  la[0].val.priority = greatest;
  la[1].id = cudaLaunchAttributeClusterDimension;
  la[1].val.clusterDim.x = 2;
  la[1].val.clusterDim.y = 1;
  la[1].val.clusterDim.z = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks);  // even: a cluster of 2 divides it
  config.blockDim = dim3(256);
  config.stream = stream;
  config.attrs = la;
  config.numAttrs = 2;
  int n = kN, add = 77;
  void* exArgs[] = {&dsrc, &ddst, &n, &add};
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  CUDA_CHECK(cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(addFrom), exArgs));
  CUDA_CHECK(cudaMemcpyAsync(out.data(), ddst, kN * sizeof(int), cudaMemcpyDeviceToHost, stream));
  cudaGraph_t attributed;
  CUDA_CHECK(cudaStreamEndCapture(stream, &attributed));
  cudaGraphNode_t nodes[2];
  size_t nnodes = 2;
  CUDA_CHECK(cudaGraphGetNodes(attributed, nodes, &nnodes));
  cudaGraphNode_t kernelNode = nullptr;
  for (size_t i = 0; i < nnodes; ++i) {
    cudaGraphNodeType t;
    CUDA_CHECK(cudaGraphNodeGetType(nodes[i], &t));
    if (t == cudaGraphNodeTypeKernel) kernelNode = nodes[i];
  }
  CHECKF(kernelNode != nullptr, "the captured graph has no kernel node");
  cudaKernelNodeAttrValue value = {};
  CUDA_CHECK(cudaGraphKernelNodeGetAttribute(kernelNode, cudaLaunchAttributePriority, &value));
  CHECKF(value.priority == greatest, "the captured node's priority is %d, expected %d", value.priority, greatest);
  CUDA_CHECK(cudaGraphKernelNodeGetAttribute(kernelNode, cudaLaunchAttributeClusterDimension, &value));
  CHECKF(value.clusterDim.x == 2 && value.clusterDim.y == 1 && value.clusterDim.z == 1,
         "the captured node's cluster is %ux%ux%u, expected 2x1x1", value.clusterDim.x, value.clusterDim.y,
         value.clusterDim.z);
  value = {};
  value.priority = least;
  CUDA_CHECK(cudaGraphKernelNodeSetAttribute(kernelNode, cudaLaunchAttributePriority, &value));
  CUDA_CHECK(cudaGraphKernelNodeGetAttribute(kernelNode, cudaLaunchAttributePriority, &value));
  CHECKF(value.priority == least, "the node's priority is %d after setting %d", value.priority, least);
  // A plain kernel node gets the attributes by copy.
  cudaKernelNodeParams plainParams = {};
  plainParams.func = reinterpret_cast<void*>(addFrom);
  plainParams.gridDim = dim3(blocks);
  plainParams.blockDim = dim3(256);
  plainParams.kernelParams = exArgs;
  cudaGraph_t other;
  CUDA_CHECK(cudaGraphCreate(&other, 0));
  cudaGraphNode_t plain;
  CUDA_CHECK(cudaGraphAddKernelNode(&plain, other, nullptr, 0, &plainParams));
  CUDA_CHECK(cudaGraphKernelNodeCopyAttributes(plain, kernelNode));
  CUDA_CHECK(cudaGraphKernelNodeGetAttribute(plain, cudaLaunchAttributeClusterDimension, &value));
  CHECKF(value.clusterDim.x == 2, "the copied cluster is %u wide, expected 2", value.clusterDim.x);
  CUDA_CHECK(cudaGraphDestroy(other));
  std::fill(out.begin(), out.end(), 0);
  CUDA_CHECK(cudaGraphInstantiate(&exec, attributed, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, add, "the captured launch with attributes");
  sum.AddVector(out);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(attributed));

  // User objects.
  std::atomic<int> a{0}, b{0}, c{0};
  cudaUserObject_t oa, ob, oc;
  CUDA_CHECK(cudaUserObjectCreate(&oa, &a, Destroy, 1, cudaUserObjectNoDestructorSync));
  CUDA_CHECK(cudaUserObjectCreate(&ob, &b, Destroy, 2, cudaUserObjectNoDestructorSync));
  CUDA_CHECK(cudaUserObjectCreate(&oc, &c, Destroy, 1, cudaUserObjectNoDestructorSync));
  CUDA_EXPECT(cudaUserObjectCreate(&oc, &c, Destroy, 1, 0), cudaErrorInvalidValue);  // the flag is required
  // The program's own references.
  CUDA_CHECK(cudaUserObjectRetain(oa, 2));
  CUDA_CHECK(cudaUserObjectRelease(oa, 2));
  CHECKF(a == 0, "a destructor ran with a reference left");
  // The graph takes a reference to a, and b's two by moving them.
  CUDA_CHECK(cudaGraphRetainUserObject(graph, oa, 1, 0));
  CUDA_CHECK(cudaGraphRetainUserObject(graph, ob, 2, cudaGraphUserObjectMove));
  CUDA_CHECK(cudaUserObjectRelease(oa, 1));
  CHECKF(a == 0 && b == 0, "a destructor ran while the graph holds a reference");
  // c: the graph's reference and the graph's release of it.
  CUDA_CHECK(cudaGraphRetainUserObject(graph, oc, 1, 0));
  CUDA_CHECK(cudaUserObjectRelease(oc, 1));
  CUDA_EXPECT(cudaGraphReleaseUserObject(graph, oc, 2), cudaErrorInvalidValue);  // more than it holds
  CUDA_CHECK(cudaGraphReleaseUserObject(graph, oc, 1));
  CHECKF(c == 1, "c's destructor ran %d times after its last reference, expected 1", c.load());
  // A clone and an instantiation hold references of their own.
  cudaGraph_t clone;
  CUDA_CHECK(cudaGraphClone(&clone, graph));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(cudaGraphDestroy(clone));
  CHECKF(a == 0 && b == 0, "a destructor ran while an instantiation holds a reference");
  std::fill(out.begin(), out.end(), 0);
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  Expect(out, src, 5, "the instantiation of the destroyed graph");
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  // CUDA runs destructors asynchronously: wait for them, bounded.
  for (int i = 0; i < 2000 && (a < 1 || b < 1); ++i) {
    CUDA_CHECK(cudaDeviceSynchronize());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECKF(a == 1 && b == 1, "destructors ran a %d, b %d times after the last references went, expected 1 each",
         a.load(), b.load());
  CHECKF(g_destroyed == 3, "%d destructor calls, expected 3", g_destroyed.load());

  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(dsrc));
  CUDA_CHECK(cudaFree(ddst));
  return rtest::Pass(sum);
}
