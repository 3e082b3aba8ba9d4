#include "client/launch.h"

#include <algorithm>

#include "client/errors.h"
#include "client/graph.h"
#include "client/objects.h"

namespace rcuda::client {

cudaError_t LaunchOnStream(const Function* f, dim3 grid, dim3 block, void** args, size_t shared, cudaStream_t stream,
                     const LaunchOptions& extras, bool per_thread) {
  if (!f) return Fail(cudaErrorInvalidDeviceFunction);
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  if (extras.cluster.x && (grid.x % extras.cluster.x || grid.y % std::max(1u, extras.cluster.y) ||
                          grid.z % std::max(1u, extras.cluster.z))) {
    return Fail(cudaErrorInvalidClusterSize);  // the grid must be whole clusters
  }
  if (extras.cooperative) {
    // A cooperative grid must be resident all at once; CUDA refuses a larger
    // one at the launch, so the check happens here, not later.
    Status s = ref.session->Connect();
    if (!s.ok()) return Return(s);
    const DeviceDescription& d = ref.session->device_info();
    if (!d.attribute(cudaDevAttrCooperativeLaunch)) return Fail(cudaErrorNotSupported);
    FunctionDescription rf;
    s = ref.session->GetFunction(*f, &rf);
    if (!s.ok()) return Return(s);
    int64_t blocks = 0;
    s = ref.session->OccupancyMaxActiveBlocks(rf.handle, int64_t(block.x) * block.y * block.z,
                                              static_cast<int64_t>(shared), 0, &blocks);
    if (!s.ok()) return Return(s);
    int64_t fits = blocks * d.attribute(cudaDevAttrMultiProcessorCount);
    if (int64_t(grid.x) * grid.y * grid.z > fits) return Fail(cudaErrorCooperativeLaunchTooLarge);
  }
  if (ref.object && ref.object->capture) {
    GraphNodeObject* node = CaptureNode(ref.object, cudaGraphNodeTypeKernel);
    cudaKernelNodeParams p{const_cast<void*>(f->host_stub), grid, block, static_cast<unsigned>(shared), args, nullptr};
    node->launch = extras;  // the launch's attributes become the node's
    return Fail(SetKernelNode(node, p));
  }
  return Return(ref.session->Launch(*f, grid, block, args, shared, ref.remote, extras));
}

}  // namespace rcuda::client
