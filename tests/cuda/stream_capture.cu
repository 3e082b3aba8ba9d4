// stream_capture: a sequence of copies, a memset and kernels captured from a
// stream into a graph (cudaStreamBeginCapture/EndCapture, IsCapturing,
// GetCaptureInfo), nothing of it executed during capture, then instantiated
// and launched 100 times, each launch depending on the previous one's result;
// the graph's host-to-device copy reads its pinned source at each launch;
// a fork/join capture across two streams with events; launching on another
// stream. Catches captured work executed eagerly, graph launches reordered or
// merged, and copies whose data was frozen at capture time.
#include "test_util.h"

// y = y * a + x + b (wrapping)
__global__ void accumulate(int* y, const int* x, int n, int a, int b) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = y[i] * a + x[i] + b;
}

__global__ void doubleInto(const int* x, int* z, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) z[i] = 2 * x[i];
}

__global__ void addInto(int* y, const int* z, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += z[i];
}

static int Wrap(long long v) { return static_cast<int>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

int main() {
  rtest::Rng rng = rtest::Init("stream_capture");
  rtest::Checksum sum;
  const int n = 30011;
  const size_t bytes = n * sizeof(int);
  const int blocks = rtest::BlocksFor(n, 256);

  cudaStream_t s, s2, other;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaStreamCreate(&s2));
  CUDA_CHECK(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking));
  int *dx, *dy, *dz, *scratch, *hIn, *hOut;
  CUDA_CHECK(cudaMalloc(&dx, bytes));
  CUDA_CHECK(cudaMalloc(&dy, bytes));
  CUDA_CHECK(cudaMalloc(&dz, bytes));
  CUDA_CHECK(cudaMalloc(&scratch, bytes));
  CUDA_CHECK(cudaMallocHost(&hIn, bytes));
  CUDA_CHECK(cudaMallocHost(&hOut, bytes));

  std::vector<int> x(n), y(n);
  rng.FillInts(x, -1000, 1000);
  rng.FillInts(y, -1000, 1000);
  std::copy(x.begin(), x.end(), hIn);
  std::memset(hOut, 0, bytes);
  CUDA_CHECK(cudaMemcpy(dy, y.data(), bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(scratch, 0x11, bytes));
  const int a = static_cast<int>(rng.Int(-3, 3)), b = static_cast<int>(rng.Int(-100, 100));

  // Capture: H2D from pinned, memset, kernel, D2H to pinned.
  cudaStreamCaptureStatus status;
  CUDA_CHECK(cudaStreamIsCapturing(s, &status));
  CHECKF(status == cudaStreamCaptureStatusNone, "a fresh stream is capturing (status %d)", status);
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  CUDA_CHECK(cudaMemcpyAsync(dx, hIn, bytes, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemsetAsync(scratch, 0, bytes, s));
  accumulate<<<blocks, 256, 0, s>>>(dy, dx, n, a, b);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpyAsync(hOut, dy, bytes, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamIsCapturing(s, &status));
  CHECKF(status == cudaStreamCaptureStatusActive, "cudaStreamIsCapturing during capture gave %d", status);
  unsigned long long captureId = 0;
  CUDA_CHECK(cudaStreamGetCaptureInfo(s, &status, &captureId));
  CHECKF(status == cudaStreamCaptureStatusActive && captureId != 0, "cudaStreamGetCaptureInfo: status %d id %llu",
         status, captureId);
  cudaGraph_t graph;
  CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  CUDA_CHECK(cudaStreamIsCapturing(s, &status));
  CHECKF(status == cudaStreamCaptureStatusNone, "cudaStreamIsCapturing after capture gave %d", status);
  size_t nodes = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &nodes));
  CHECKF(nodes == 4, "the captured graph has %zu nodes, expected 4", nodes);

  // Nothing ran during capture.
  {
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<int> yNow(n);
    CUDA_CHECK(cudaMemcpy(yNow.data(), dy, bytes, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(yNow, y, "y after capture, before any launch (captured work ran eagerly)");
    std::vector<unsigned char> scratchNow(bytes);
    CUDA_CHECK(cudaMemcpy(scratchNow.data(), scratch, bytes, cudaMemcpyDeviceToHost));
    rtest::ExpectBytes(scratchNow.data(), bytes, 0x11, "scratch after capture (the captured memset ran eagerly)");
    rtest::ExpectBytes(hOut, bytes, 0, "pinned output after capture (the captured D2H ran eagerly)");
  }

  cudaGraphExec_t exec;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  const int launches = 100;
  for (int l = 0; l < launches; ++l) CUDA_CHECK(cudaGraphLaunch(exec, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  for (int l = 0; l < launches; ++l)
    for (int i = 0; i < n; ++i) y[i] = Wrap(static_cast<long long>(y[i]) * a + x[i] + b);
  rtest::ExpectEqual(hOut, y.data(), n, "after 100 launches of the captured graph");
  sum.Add(hOut, bytes);

  // New pinned input between launches: the graph's copy reads it at launch,
  // on another stream this time.
  rng.FillInts(x, -1000, 1000);
  std::copy(x.begin(), x.end(), hIn);
  CUDA_CHECK(cudaGraphLaunch(exec, other));
  CUDA_CHECK(cudaGraphLaunch(exec, other));
  CUDA_CHECK(cudaStreamSynchronize(other));
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < n; ++i) y[i] = Wrap(static_cast<long long>(y[i]) * a + x[i] + b);
  rtest::ExpectEqual(hOut, y.data(), n, "graph launches after the pinned input changed");
  sum.Add(hOut, bytes);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));

  // Fork/join across two streams: y += 2 * x with the doubling on s2.
  {
    cudaEvent_t fork, join;
    CUDA_CHECK(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&join, cudaEventDisableTiming));
    CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CUDA_CHECK(cudaEventRecord(fork, s));
    CUDA_CHECK(cudaStreamWaitEvent(s2, fork, 0));
    doubleInto<<<blocks, 256, 0, s2>>>(dx, dz, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventRecord(join, s2));
    CUDA_CHECK(cudaStreamWaitEvent(s, join, 0));
    addInto<<<blocks, 256, 0, s>>>(dy, dz, n);
    CUDA_CHECK_LAUNCH();
    cudaGraph_t forkJoin;
    CUDA_CHECK(cudaStreamEndCapture(s, &forkJoin));
    CUDA_CHECK(cudaGraphGetNodes(forkJoin, nullptr, &nodes));
    CHECKF(nodes == 2, "the fork/join graph has %zu nodes, expected 2", nodes);
    cudaGraphExec_t fj;
    CUDA_CHECK(cudaGraphInstantiate(&fj, forkJoin, 0));
    for (int l = 0; l < 10; ++l) CUDA_CHECK(cudaGraphLaunch(fj, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    for (int l = 0; l < 10; ++l)
      for (int i = 0; i < n; ++i) y[i] = Wrap(static_cast<long long>(y[i]) + 2LL * x[i]);
    std::vector<int> got(n);
    CUDA_CHECK(cudaMemcpy(got.data(), dy, bytes, cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(got, y, "10 launches of a fork/join graph");
    sum.AddVector(got);
    CUDA_CHECK(cudaGraphExecDestroy(fj));
    CUDA_CHECK(cudaGraphDestroy(forkJoin));
    CUDA_CHECK(cudaEventDestroy(fork));
    CUDA_CHECK(cudaEventDestroy(join));
  }

  for (cudaStream_t st : {s, s2, other}) CUDA_CHECK(cudaStreamDestroy(st));
  for (int* p : {dx, dy, dz, scratch}) CUDA_CHECK(cudaFree(p));
  CUDA_CHECK(cudaFreeHost(hIn));
  CUDA_CHECK(cudaFreeHost(hOut));
  return rtest::Pass(sum);
}
