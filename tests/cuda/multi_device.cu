// multi_device: every device cudaGetDeviceCount reports gets its own
// allocations, streams and kernels, with results that depend on the device;
// cudaMemcpyPeer/cudaMemcpyPeerAsync and cudaMemcpyDefault copy between every
// ordered pair of devices (with one device, within it);
// cudaDeviceCanAccessPeer for every pair, and where it says yes, peer access
// enabled and a kernel on one device reading the other's memory. Catches
// work sent to the wrong device, device switches lost between calls, and
// copies between devices (of one or of several servers) that go wrong.
#include "test_util.h"

__global__ void scaleByDevice(const int* in, int* out, int n, int factor) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i] * factor + factor;
}

__global__ void addRemote(int* local, const int* remote, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) local[i] += remote[i];
}

int main() {
  rtest::Rng rng = rtest::Init("multi_device");
  rtest::Checksum sum;
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  CHECKF(count >= 1, "%d devices", count);
  rtest::Note("%d device(s)", count);
  sum.AddValue(count);

  const int n = 200003;
  const size_t bytes = n * sizeof(int);
  std::vector<int> input(n);
  rng.FillInts(input, -10000, 10000);
  std::vector<int*> in(count), out(count);
  std::vector<cudaStream_t> streams(count);

  // Per-device work, queued on all devices before any result is read.
  for (int dev = 0; dev < count; ++dev) {
    CUDA_CHECK(cudaSetDevice(dev));
    CUDA_CHECK(cudaStreamCreate(&streams[dev]));
    CUDA_CHECK(cudaMalloc(&in[dev], bytes));
    CUDA_CHECK(cudaMalloc(&out[dev], bytes));
    CUDA_CHECK(cudaMemcpyAsync(in[dev], input.data(), bytes, cudaMemcpyHostToDevice, streams[dev]));
    scaleByDevice<<<rtest::BlocksFor(n, 256), 256, 0, streams[dev]>>>(in[dev], out[dev], n, dev + 2);
    CUDA_CHECK_LAUNCH();
  }
  for (int dev = 0; dev < count; ++dev) {
    CUDA_CHECK(cudaSetDevice(dev));
    int current = -1;
    CUDA_CHECK(cudaGetDevice(&current));
    CHECKF(current == dev, "cudaGetDevice gave %d after cudaSetDevice(%d)", current, dev);
    CUDA_CHECK(cudaStreamSynchronize(streams[dev]));
    std::vector<int> got(n), want(n);
    CUDA_CHECK(cudaMemcpy(got.data(), out[dev], bytes, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) want[i] = input[i] * (dev + 2) + dev + 2;
    char what[64];
    std::snprintf(what, sizeof what, "scaleByDevice on device %d", dev);
    rtest::ExpectEqual(got, want, what);
    sum.AddVector(got);
  }

  // Copies between every ordered pair (src, dst), three ways.
  for (int src = 0; src < count; ++src) {
    for (int dst = 0; dst < count; ++dst) {
      std::vector<int> want(n);
      for (int i = 0; i < n; ++i) want[i] = input[i] * (src + 2) + src + 2;
      std::vector<int> got(n);
      char what[96];
      int* target;
      CUDA_CHECK(cudaSetDevice(dst));
      CUDA_CHECK(cudaMalloc(&target, bytes));

      CUDA_CHECK(cudaMemset(target, 0, bytes));
      CUDA_CHECK(cudaMemcpyPeer(target, dst, out[src], src, bytes));
      CUDA_CHECK(cudaMemcpy(got.data(), target, bytes, cudaMemcpyDeviceToHost));
      std::snprintf(what, sizeof what, "cudaMemcpyPeer from device %d to device %d", src, dst);
      rtest::ExpectEqual(got, want, what);

      CUDA_CHECK(cudaMemset(target, 0, bytes));
      CUDA_CHECK(cudaMemcpyPeerAsync(target, dst, out[src], src, bytes, streams[dst]));
      CUDA_CHECK(cudaMemcpyAsync(got.data(), target, bytes, cudaMemcpyDeviceToHost, streams[dst]));
      CUDA_CHECK(cudaStreamSynchronize(streams[dst]));
      std::snprintf(what, sizeof what, "cudaMemcpyPeerAsync from device %d to device %d", src, dst);
      rtest::ExpectEqual(got, want, what);

      CUDA_CHECK(cudaMemset(target, 0, bytes));
      CUDA_CHECK(cudaMemcpy(target, out[src], bytes, cudaMemcpyDefault));
      CUDA_CHECK(cudaMemcpy(got.data(), target, bytes, cudaMemcpyDefault));
      std::snprintf(what, sizeof what, "cudaMemcpyDefault from device %d to device %d", src, dst);
      rtest::ExpectEqual(got, want, what);
      CUDA_CHECK(cudaFree(target));
    }
  }

  // Peer access where the devices allow it.
  for (int a = 0; a < count; ++a) {
    for (int b = 0; b < count; ++b) {
      if (a == b) continue;
      int can = -1;
      CUDA_CHECK(cudaDeviceCanAccessPeer(&can, a, b));
      CHECKF(can == 0 || can == 1, "cudaDeviceCanAccessPeer(%d, %d) gave %d", a, b, can);
      rtest::Note("device %d %s access device %d", a, can ? "can" : "cannot", b);
      if (!can) continue;
      CUDA_CHECK(cudaSetDevice(a));
      cudaError_t err = cudaDeviceEnablePeerAccess(b, 0);
      CHECKF(err == cudaSuccess || err == cudaErrorPeerAccessAlreadyEnabled, "cudaDeviceEnablePeerAccess(%d) on %d: %s",
             b, a, rtest::ErrorText(err));
      if (err != cudaSuccess) CUDA_EXPECT(cudaGetLastError(), err);
      int* local;
      CUDA_CHECK(cudaMalloc(&local, bytes));
      CUDA_CHECK(cudaMemcpy(local, in[a], bytes, cudaMemcpyDeviceToDevice));
      addRemote<<<rtest::BlocksFor(n, 256), 256>>>(local, out[b], n);
      CUDA_CHECK_LAUNCH();
      std::vector<int> got(n), want(n);
      CUDA_CHECK(cudaMemcpy(got.data(), local, bytes, cudaMemcpyDeviceToHost));
      for (int i = 0; i < n; ++i) want[i] = input[i] + input[i] * (b + 2) + b + 2;
      char what[96];
      std::snprintf(what, sizeof what, "a kernel on device %d reading device %d's memory", a, b);
      rtest::ExpectEqual(got, want, what);
      CUDA_CHECK(cudaFree(local));
      CUDA_CHECK(cudaDeviceDisablePeerAccess(b));
    }
  }

  for (int dev = 0; dev < count; ++dev) {
    CUDA_CHECK(cudaSetDevice(dev));
    CUDA_CHECK(cudaStreamDestroy(streams[dev]));
    CUDA_CHECK(cudaFree(in[dev]));
    CUDA_CHECK(cudaFree(out[dev]));
  }
  return rtest::Pass(sum);
}
