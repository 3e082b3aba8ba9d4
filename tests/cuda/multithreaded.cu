// multithreaded: several host threads use the runtime at once, each with its
// own stream, buffers and kernels over many rounds, plus disjoint slices of
// one shared buffer; the last error is per thread (an error in one thread is
// not seen by another); the current device is per thread. Catches shared
// client state that is not thread-safe: replies delivered to the wrong
// thread, launches mixed up between threads, a global last error.
#include <thread>

#include "test_util.h"

__global__ void affine(int* x, int n, int mul, int add) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * mul + add;
}

__global__ void fillSlice(int* shared, int offset, int count, int value) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) shared[offset + i] = value + i;
}

constexpr int kThreads = 6;
constexpr int kRounds = 25;
constexpr int kSlice = 10007;

struct ThreadResult {
  std::vector<int> last;
};

static void Worker(int id, uint64_t seed, int* shared, int deviceCount, rtest::Barrier* barrier, ThreadResult* result) {
  rtest::Rng rng(seed);
  const int device = id % deviceCount;
  CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  int* pinned;
  CUDA_CHECK(cudaMallocHost(&pinned, 200000 * sizeof(int)));
  for (int round = 0; round < kRounds; ++round) {
    const int n = static_cast<int>(rng.Int(1000, 200000));
    std::vector<int> data(n);
    rng.FillInts(data, -1000, 1000);
    const int mul = static_cast<int>(rng.Int(-5, 5)), add = static_cast<int>(rng.Int(-1000, 1000));
    int* d;
    CUDA_CHECK(cudaMallocAsync(&d, n * sizeof(int), s));
    CUDA_CHECK(cudaMemcpyAsync(d, data.data(), n * sizeof(int), cudaMemcpyHostToDevice, s));
    affine<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(d, n, mul, add);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinned, d, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaFreeAsync(d, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    for (auto& x : data) x = x * mul + add;
    char what[80];
    std::snprintf(what, sizeof what, "thread %d round %d (n=%d)", id, round, n);
    rtest::ExpectEqual(pinned, data.data(), n, what);
    if (round == kRounds - 1) result->last = data;
    int current = -1;
    CUDA_CHECK(cudaGetDevice(&current));
    CHECKF(current == device, "thread %d: cudaGetDevice gave %d, it set %d", id, current, device);
  }

  // The shared buffer lives on device 0.
  CUDA_CHECK(cudaSetDevice(0));
  fillSlice<<<rtest::BlocksFor(kSlice, 128), 128>>>(shared, id * kSlice, kSlice, id * 1000000);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());

  // Per-thread last error: thread 0 makes an error; the others must not see it.
  barrier->Wait();
  if (id == 0) {
    affine<<<1, 4096>>>(shared, 1, 1, 0);  // invalid configuration
  }
  barrier->Wait();
  if (id != 0) CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  barrier->Wait();
  if (id == 0) {
    CUDA_EXPECT_CONFIG_ERROR(cudaGetLastError());
    CUDA_EXPECT(cudaGetLastError(), cudaSuccess);
  }
  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFreeHost(pinned));
}

int main() {
  rtest::Rng rng = rtest::Init("multithreaded");
  rtest::Checksum sum;
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  int* shared;
  CUDA_CHECK(cudaSetDevice(0));
  CUDA_CHECK(cudaMalloc(&shared, kThreads * kSlice * sizeof(int)));
  CUDA_CHECK(cudaMemset(shared, 0, kThreads * kSlice * sizeof(int)));

  rtest::Barrier barrier(kThreads);
  ThreadResult results[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(Worker, t, rng.Next(), shared, count, &barrier, &results[t]);
  for (auto& th : threads) th.join();

  std::vector<int> got(kThreads * kSlice), want(kThreads * kSlice);
  CUDA_CHECK(cudaMemcpy(got.data(), shared, got.size() * sizeof(int), cudaMemcpyDeviceToHost));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kSlice; ++i) want[t * kSlice + i] = t * 1000000 + i;
  rtest::ExpectEqual(got, want, "the shared buffer's slices written by each thread");
  sum.AddVector(got);
  for (int t = 0; t < kThreads; ++t) sum.AddVector(results[t].last);
  return rtest::Pass(sum);
}
