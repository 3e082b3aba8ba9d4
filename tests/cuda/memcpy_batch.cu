// memcpy_batch: cudaMemcpyBatchAsync.
//  * Host to device: four buffers in one batch, two sets of attributes
//    (stream order; any order).
//  * Device to device with the source read during the call: the call
//    returns with the copies done, without a synchronization.
//  * Device to host, in stream order after a kernel on the same stream.
//  * Refused (cudaErrorInvalidValue): a first attribute index other than 0,
//    indices out of order, an invalid source order, the legacy stream.
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 1024;
constexpr int kCopies = 4;

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("memcpy_batch");
  rtest::Checksum sum;
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  std::vector<std::vector<int>> host(kCopies, std::vector<int>(kN)), back(kCopies, std::vector<int>(kN, 0));
  for (auto& h : host)
    for (auto& v : h) v = static_cast<int>(rng.Next() % 100000);
  int* dev[kCopies];
  int* copy[kCopies];
  for (int i = 0; i < kCopies; ++i) {
    CUDA_CHECK(cudaMalloc(&dev[i], kN * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&copy[i], kN * sizeof(int)));
  }
  void* dsts[kCopies];
  const void* srcs[kCopies];
  size_t sizes[kCopies];

  // Host to device: copies 0-1 in stream order, 2-3 in any order.
  cudaMemcpyAttributes attrs[2] = {};
  attrs[0].srcAccessOrder = cudaMemcpySrcAccessOrderStream;
  attrs[1].srcAccessOrder = cudaMemcpySrcAccessOrderAny;
  attrs[1].flags = cudaMemcpyFlagPreferOverlapWithCompute;
  size_t idxs[2] = {0, 2};
  for (int i = 0; i < kCopies; ++i) {
    dsts[i] = dev[i];
    srcs[i] = host[i].data();
    sizes[i] = kN * sizeof(int);
  }
  CUDA_CHECK(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, attrs, idxs, 2, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));

  // Device to device, the sources read during the call.
  cudaMemcpyAttributes during = {};
  during.srcAccessOrder = cudaMemcpySrcAccessOrderDuringApiCall;
  size_t zero = 0;
  for (int i = 0; i < kCopies; ++i) {
    dsts[i] = copy[i];
    srcs[i] = dev[i];
  }
  CUDA_CHECK(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, &during, &zero, 1, stream));
  // The copies are done: overwriting the sources now changes nothing.
  for (int i = 0; i < kCopies; ++i) CUDA_CHECK(cudaMemset(dev[i], 0, kN * sizeof(int)));

  // Device to host after a kernel that adds 3 to the first copy, in stream order.
  addFrom<<<rtest::BlocksFor(kN, 256), 256, 0, stream>>>(copy[0], copy[0], kN, 3);
  for (int i = 0; i < kCopies; ++i) {
    dsts[i] = back[i].data();
    srcs[i] = copy[i];
  }
  CUDA_CHECK(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, attrs, &zero, 1, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int i = 0; i < kCopies; ++i) {
    const int add = i == 0 ? 3 : 0;
    for (int j = 0; j < kN; ++j)
      CHECKF(back[i][j] == host[i][j] + add, "copy %d: element %d is %d, expected %d", i, j, back[i][j],
             host[i][j] + add);
    sum.AddVector(back[i]);
  }

  // Refused.
  size_t badFirst[2] = {1, 2}, badOrder[2] = {2, 1};
  CUDA_EXPECT(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, attrs, badFirst, 2, stream), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, attrs, badOrder, 2, stream), cudaErrorInvalidValue);
  cudaMemcpyAttributes invalid = {};
  CUDA_EXPECT(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, &invalid, &zero, 1, stream), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaMemcpyBatchAsync(dsts, srcs, sizes, kCopies, attrs, &zero, 1, cudaStreamLegacy),
              cudaErrorInvalidValue);

  for (int i = 0; i < kCopies; ++i) {
    CUDA_CHECK(cudaFree(dev[i]));
    CUDA_CHECK(cudaFree(copy[i]));
  }
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
