// host_func: cudaLaunchHostFunc and cudaStreamAddCallback run on the host in
// stream order: after the work queued before them (a host function sees the
// results of an earlier kernel and device-to-host copy) and before the work
// queued after them (a later host-to-device copy carries what the host
// function wrote into pinned memory); in the order they were queued; and
// other streams can wait for them through events. Catches host functions run
// at call time, run late, reordered, or copies that read their source when
// queued rather than when executed.
#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.h"

__global__ void addConst(int* x, int n, int c) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += c;
}

__global__ void bumpCounter(int* counter) {
  if (threadIdx.x == 0 && blockIdx.x == 0) *counter += 1;
}

struct Stage {
  const int* observed;   // pinned memory the host function reads
  int* produced;         // pinned memory it writes (or null)
  const int* expected;   // what it must find
  int n;
  int multiplier;
  std::atomic<int>* sequence;
  int position = -1;     // where in the sequence it ran
  bool sawExpected = false;
  cudaError_t status = cudaErrorUnknown;
};

static void RunStage(Stage* st) {
  st->position = st->sequence->fetch_add(1);
  st->sawExpected = std::memcmp(st->observed, st->expected, st->n * sizeof(int)) == 0;
  if (st->produced)
    for (int i = 0; i < st->n; ++i) st->produced[i] = st->observed[i] * st->multiplier;
}

static void CUDART_CB HostFn(void* data) { RunStage(static_cast<Stage*>(data)); }

static void CUDART_CB Callback(cudaStream_t, cudaError_t status, void* data) {
  auto* st = static_cast<Stage*>(data);
  st->status = status;
  RunStage(st);
}

struct Tick {
  const int* counterCopy;  // pinned copy of the device counter
  int expected;
  std::vector<int>* order;
  bool ok = false;
};

static void CUDART_CB TickFn(void* data) {
  auto* t = static_cast<Tick*>(data);
  t->ok = *t->counterCopy == t->expected;
  t->order->push_back(t->expected);  // host functions of one stream never run concurrently
}

struct SlowProducer {
  int* pinned;
  int n;
  int value;
};

static void CUDART_CB SlowProduce(void* data) {
  auto* p = static_cast<SlowProducer*>(data);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  for (int i = 0; i < p->n; ++i) p->pinned[i] = p->value + i;
}

int main() {
  rtest::Rng rng = rtest::Init("host_func");
  rtest::Checksum sum;
  const int n = 40009;
  const size_t bytes = n * sizeof(int);

  cudaStream_t s, s2;
  CUDA_CHECK(cudaStreamCreate(&s));
  CUDA_CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  int *d1, *d2, *pinOut, *pinIn, *pinOut2;
  CUDA_CHECK(cudaMalloc(&d1, bytes));
  CUDA_CHECK(cudaMalloc(&d2, bytes));
  CUDA_CHECK(cudaMallocHost(&pinOut, bytes));
  CUDA_CHECK(cudaMallocHost(&pinIn, bytes));
  CUDA_CHECK(cudaMallocHost(&pinOut2, bytes));
  std::memset(pinOut, 0, bytes);
  std::memset(pinIn, 0, bytes);
  std::memset(pinOut2, 0, bytes);

  std::vector<int> input(n), afterKernel(n), afterSecond(n);
  rng.FillInts(input, -10000, 10000);
  const int c1 = static_cast<int>(rng.Int(-100, 100)), c2 = static_cast<int>(rng.Int(-100, 100));
  for (int i = 0; i < n; ++i) {
    afterKernel[i] = input[i] + c1;
    afterSecond[i] = afterKernel[i] * 3 + c2;
  }

  std::atomic<int> sequence{0};
  Stage first{pinOut, pinIn, afterKernel.data(), n, 3, &sequence};
  Stage second{pinOut2, nullptr, afterSecond.data(), n, 1, &sequence};

  CUDA_CHECK(cudaMemcpyAsync(d1, input.data(), bytes, cudaMemcpyHostToDevice, s));
  addConst<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(d1, n, c1);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpyAsync(pinOut, d1, bytes, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaLaunchHostFunc(s, HostFn, &first));            // reads pinOut, writes pinIn
  CUDA_CHECK(cudaMemcpyAsync(d2, pinIn, bytes, cudaMemcpyHostToDevice, s));  // must carry pinIn as written
  addConst<<<rtest::BlocksFor(n, 256), 256, 0, s>>>(d2, n, c2);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaMemcpyAsync(pinOut2, d2, bytes, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamAddCallback(s, Callback, &second, 0));
  CUDA_CHECK(cudaStreamSynchronize(s));

  CHECKF(first.position == 0 && second.position == 1, "host functions ran in positions %d and %d", first.position,
         second.position);
  CHECKF(first.sawExpected, "cudaLaunchHostFunc ran before the kernel and copy queued ahead of it had finished");
  CHECKF(second.status == cudaSuccess, "cudaStreamAddCallback's callback got status %s", cudaGetErrorName(second.status));
  CHECKF(second.sawExpected,
         "the callback saw wrong data: the H2D copy after the host function did not carry what it wrote, or the "
         "callback ran early");
  rtest::ExpectEqual(pinOut2, afterSecond.data(), n, "result after both host functions");
  sum.Add(pinOut2, bytes);

  // Many host functions interleaved with kernels: each sees exactly the
  // kernels before it, and they run in order.
  {
    int* dCounter;
    int* pinCounts;
    const int kTicks = 200;
    CUDA_CHECK(cudaMalloc(&dCounter, sizeof(int)));
    CUDA_CHECK(cudaMemsetAsync(dCounter, 0, sizeof(int), s));
    CUDA_CHECK(cudaMallocHost(&pinCounts, kTicks * sizeof(int)));
    std::vector<Tick> ticks(kTicks);
    std::vector<int> order;
    order.reserve(kTicks);
    for (int i = 0; i < kTicks; ++i) {
      bumpCounter<<<1, 1, 0, s>>>(dCounter);
      CUDA_CHECK_LAUNCH();
      CUDA_CHECK(cudaMemcpyAsync(&pinCounts[i], dCounter, sizeof(int), cudaMemcpyDeviceToHost, s));
      ticks[i] = Tick{&pinCounts[i], i + 1, &order};
      if (i % 2 == 0)
        CUDA_CHECK(cudaLaunchHostFunc(s, TickFn, &ticks[i]));
      else
        CUDA_CHECK(cudaStreamAddCallback(
            s, [](cudaStream_t, cudaError_t, void* data) { TickFn(data); }, &ticks[i], 0));
    }
    CUDA_CHECK(cudaStreamSynchronize(s));
    CHECKF(static_cast<int>(order.size()) == kTicks, "%zu of %d host functions ran", order.size(), kTicks);
    for (int i = 0; i < kTicks; ++i) {
      CHECKF(order[i] == i + 1, "host function %d ran in position %d", order[i] - 1, i);
      CHECKF(ticks[i].ok, "host function %d saw counter %d, expected %d", i, pinCounts[i], i + 1);
    }
    sum.Add(pinCounts, kTicks * sizeof(int));
    CUDA_CHECK(cudaFree(dCounter));
    CUDA_CHECK(cudaFreeHost(pinCounts));
  }

  // Another stream waits for a slow host function through an event.
  {
    cudaEvent_t produced;
    CUDA_CHECK(cudaEventCreateWithFlags(&produced, cudaEventDisableTiming));
    std::memset(pinIn, 0, bytes);
    SlowProducer producer{pinIn, n, static_cast<int>(rng.Int(-1000000, 1000000))};
    CUDA_CHECK(cudaLaunchHostFunc(s, SlowProduce, &producer));
    CUDA_CHECK(cudaEventRecord(produced, s));
    CUDA_CHECK(cudaStreamWaitEvent(s2, produced, 0));
    CUDA_CHECK(cudaMemcpyAsync(d1, pinIn, bytes, cudaMemcpyHostToDevice, s2));
    addConst<<<rtest::BlocksFor(n, 128), 128, 0, s2>>>(d1, n, 1);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpyAsync(pinOut, d1, bytes, cudaMemcpyDeviceToHost, s2));
    CUDA_CHECK(cudaStreamSynchronize(s2));
    std::vector<int> want(n);
    for (int i = 0; i < n; ++i) want[i] = producer.value + i + 1;
    rtest::ExpectEqual(pinOut, want.data(), n, "a stream waiting on an event recorded after a slow host function");
    sum.Add(pinOut, bytes);
    CUDA_CHECK(cudaEventDestroy(produced));
  }

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaStreamDestroy(s2));
  for (int* p : {d1, d2}) CUDA_CHECK(cudaFree(p));
  for (int* p : {pinOut, pinIn, pinOut2}) CUDA_CHECK(cudaFreeHost(p));
  return rtest::Pass(sum);
}
