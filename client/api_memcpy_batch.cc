// cudaMemcpyBatchAsync: a batch of linear copies, each with its attributes.
// rcuda enqueues them in order on the stream, one cudaMemcpyAsync each:
// stream order is the strictest of the source orders a batch may ask for,
// and a batch with a source that must be read before the call returns
// (cudaMemcpySrcAccessOrderDuringApiCall) waits for the stream. The hints
// apply to managed and system memory, which rcuda does not carry; the
// overlap flag is a hint.
#include "client/api_common.h"
#include "client/objects.h"

using namespace rcuda::client;

cudaError_t exports::cudaMemcpyBatchAsync(void* const* dsts, const void* const* srcs, const size_t* sizes,
                                          size_t count, cudaMemcpyAttributes* attrs, size_t* attrs_idxs,
                                          size_t num_attrs, cudaStream_t stream, bool per_thread) {
  if (!count || !dsts || !srcs || !sizes || !attrs || !attrs_idxs || !num_attrs || num_attrs > count)
    return Fail(cudaErrorInvalidValue);
  if (stream == cudaStreamLegacy || (!stream && !per_thread)) return Fail(cudaErrorInvalidValue);
  bool wait = false;
  for (size_t k = 0; k < num_attrs; ++k) {
    // attrs_idxs: 0 first, increasing, each below count.
    if ((k == 0 && attrs_idxs[0] != 0) || (k > 0 && attrs_idxs[k] <= attrs_idxs[k - 1]) || attrs_idxs[k] >= count)
      return Fail(cudaErrorInvalidValue);
    const cudaMemcpyAttributes& a = attrs[k];
    if (a.srcAccessOrder != cudaMemcpySrcAccessOrderStream && a.srcAccessOrder != cudaMemcpySrcAccessOrderDuringApiCall &&
        a.srcAccessOrder != cudaMemcpySrcAccessOrderAny)
      return Fail(cudaErrorInvalidValue);
    if (a.flags & ~static_cast<unsigned>(cudaMemcpyFlagPreferOverlapWithCompute)) return Fail(cudaErrorInvalidValue);
    wait |= a.srcAccessOrder == cudaMemcpySrcAccessOrderDuringApiCall;
  }
  StreamRef ref;
  cudaError_t e = ResolveStream(stream, per_thread, &ref);
  if (e != cudaSuccess) return Fail(e);
  // A capture cannot finish a copy before the call returns.
  if (wait && ref.object && ref.object->capture) return Fail(cudaErrorStreamCaptureUnsupported);
  for (size_t i = 0; i < count; ++i) {
    e = exports::cudaMemcpyAsync(dsts[i], srcs[i], sizes[i], cudaMemcpyDefault, stream, per_thread);
    if (e != cudaSuccess) return e;
  }
  return wait ? exports::cudaStreamSynchronize(stream, per_thread) : cudaSuccess;
}
