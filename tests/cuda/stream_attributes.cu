// stream_attributes: cudaStreamSetAttribute/GetAttribute/CopyAttributes for
// the access policy window (L2 persistence), the synchronization policy and
// the priority; cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize). Values
// set are read back, copied to another stream, and kernels still run on the
// streams. Catches attributes that are dropped, mixed up or not copied, and a
// priority attribute that cudaStreamGetPriority does not see.
// With --session-checks (the remote runs: rcuda checks what the native driver
// does not), a window outside the program's device memory must be refused
// with cudaErrorInvalidValue.
#include <cstring>
#include <vector>

#include "test_util.h"
#include "common_kernels.cuh"

namespace {

constexpr int kN = 1 << 16;

void ExpectWindow(cudaStream_t s, const cudaAccessPolicyWindow& want, const char* what) {
  cudaStreamAttrValue got;
  std::memset(&got, 0, sizeof got);
  CUDA_CHECK(cudaStreamGetAttribute(s, cudaStreamAttributeAccessPolicyWindow, &got));
  const cudaAccessPolicyWindow& w = got.accessPolicyWindow;
  CHECKF(w.base_ptr == want.base_ptr && w.num_bytes == want.num_bytes && w.hitRatio == want.hitRatio &&
             w.hitProp == want.hitProp && w.missProp == want.missProp,
         "%s: window %p+%zu ratio %g props %d/%d", what, w.base_ptr, w.num_bytes, w.hitRatio, (int)w.hitProp,
         (int)w.missProp);
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("stream_attributes");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;

  int maxWindow = 0, maxPersisting = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&maxWindow, cudaDevAttrMaxAccessPolicyWindowSize, 0));
  CUDA_CHECK(cudaDeviceGetAttribute(&maxPersisting, cudaDevAttrMaxPersistingL2CacheSize, 0));
  CHECKF(maxWindow > 0, "cudaDevAttrMaxAccessPolicyWindowSize is %d", maxWindow);
  // The L2 set-aside for persisting accesses (item of the same feature).
  size_t persisting = static_cast<size_t>(maxPersisting) / 2, gotLimit = 0;
  CUDA_CHECK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, persisting));
  CUDA_CHECK(cudaDeviceGetLimit(&gotLimit, cudaLimitPersistingL2CacheSize));
  CHECKF(gotLimit > 0 && gotLimit <= static_cast<size_t>(maxPersisting), "persisting L2 limit %zu (max %d)", gotLimit,
         maxPersisting);

  int *src = nullptr, *dst = nullptr;
  CUDA_CHECK(cudaMalloc(&src, kN * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dst, kN * sizeof(int)));
  std::vector<int> in(kN), out(kN);
  for (auto& v : in) v = static_cast<int>(rng.Next() % 1000000);
  CUDA_CHECK(cudaMemcpy(src, in.data(), kN * sizeof(int), cudaMemcpyHostToDevice));
  // A copy from pageable memory may return before its DMA is done (CUDA's
  // documented behaviour), and the streams below are non-blocking: not
  // ordered after the legacy stream. Wait for it.
  CUDA_CHECK(cudaDeviceSynchronize());

  cudaStream_t a, b;
  CUDA_CHECK(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking));
  CUDA_CHECK(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking));

  cudaStreamAttrValue v;
  std::memset(&v, 0, sizeof v);
  const size_t windowBytes = std::min<size_t>(kN * sizeof(int), static_cast<size_t>(maxWindow));
  v.accessPolicyWindow.base_ptr = src;
  v.accessPolicyWindow.num_bytes = windowBytes;
  v.accessPolicyWindow.hitRatio = 0.25f * static_cast<float>(1 + rng.Next() % 4);
  v.accessPolicyWindow.hitProp = cudaAccessPropertyPersisting;
  v.accessPolicyWindow.missProp = cudaAccessPropertyStreaming;
  const cudaAccessPolicyWindow window = v.accessPolicyWindow;
  CUDA_CHECK(cudaStreamSetAttribute(a, cudaStreamAttributeAccessPolicyWindow, &v));
  ExpectWindow(a, window, "stream a");

  std::memset(&v, 0, sizeof v);
  v.syncPolicy = cudaSyncPolicySpin;
  CUDA_CHECK(cudaStreamSetAttribute(a, cudaStreamAttributeSynchronizationPolicy, &v));
  std::memset(&v, 0, sizeof v);
  CUDA_CHECK(cudaStreamGetAttribute(a, cudaStreamAttributeSynchronizationPolicy, &v));
  CHECKF(v.syncPolicy == cudaSyncPolicySpin, "sync policy read back as %d", (int)v.syncPolicy);

  int least = 0, greatest = 0, priority = 1;
  CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  std::memset(&v, 0, sizeof v);
  v.priority = greatest;
  CUDA_CHECK(cudaStreamSetAttribute(a, cudaStreamAttributePriority, &v));
  std::memset(&v, 0, sizeof v);
  CUDA_CHECK(cudaStreamGetAttribute(a, cudaStreamAttributePriority, &v));
  CHECKF(v.priority == greatest, "priority attribute read back as %d, expected %d", v.priority, greatest);
  CUDA_CHECK(cudaStreamGetPriority(a, &priority));
  CHECKF(priority == greatest, "cudaStreamGetPriority gave %d after the attribute set %d", priority, greatest);

  // Copied whole to b.
  CUDA_CHECK(cudaStreamCopyAttributes(b, a));
  ExpectWindow(b, window, "stream b (copied)");
  std::memset(&v, 0, sizeof v);
  CUDA_CHECK(cudaStreamGetAttribute(b, cudaStreamAttributeSynchronizationPolicy, &v));
  CHECKF(v.syncPolicy == cudaSyncPolicySpin, "copied sync policy is %d", (int)v.syncPolicy);
  CUDA_CHECK(cudaStreamGetPriority(b, &priority));
  CHECKF(priority == greatest, "copied priority is %d, expected %d", priority, greatest);

  // Work runs on both streams under their attributes.
  addFrom<<<rtest::BlocksFor(kN, 256), 256, 0, a>>>(src, dst, kN, 3);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaStreamSynchronize(a));
  addFrom<<<rtest::BlocksFor(kN, 256), 256, 0, b>>>(dst, dst, kN, 4);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaStreamSynchronize(b));
  CUDA_CHECK(cudaMemcpy(out.data(), dst, kN * sizeof(int), cudaMemcpyDeviceToHost));
  for (int i = 0; i < kN; ++i) CHECKF(out[i] == in[i] + 7, "out[%d] = %d, expected %d", i, out[i], in[i] + 7);
  sum.AddVector(out);

  if (session_checks) {
    // A window over host memory, and one running past the allocation's end.
    std::vector<char> host(4096);
    std::memset(&v, 0, sizeof v);
    v.accessPolicyWindow = window;
    v.accessPolicyWindow.base_ptr = host.data();
    v.accessPolicyWindow.num_bytes = host.size();
    CUDA_EXPECT(cudaStreamSetAttribute(a, cudaStreamAttributeAccessPolicyWindow, &v), cudaErrorInvalidValue);
    v.accessPolicyWindow.base_ptr = src;
    v.accessPolicyWindow.num_bytes = 2 * kN * sizeof(int) + 4096;
    CUDA_EXPECT(cudaStreamSetAttribute(a, cudaStreamAttributeAccessPolicyWindow, &v), cudaErrorInvalidValue);
    ExpectWindow(a, window, "stream a after refused windows");
    CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);  // the last refusal, cleared
  }
  CUDA_EXPECT(cudaStreamSetAttribute(a, cudaStreamAttributePriority, nullptr), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
  CUDA_CHECK(cudaGetLastError());  // cleared by the call before

  CUDA_CHECK(cudaStreamDestroy(a));
  CUDA_CHECK(cudaStreamDestroy(b));
  CUDA_CHECK(cudaFree(src));
  CUDA_CHECK(cudaFree(dst));
  return rtest::Pass(sum);
}
