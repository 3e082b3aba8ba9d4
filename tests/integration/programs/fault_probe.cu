// fault_probe: the CUDA program the fault tests (tests/integration/
// fault_test.cc) run through rcuda. An ordinary CUDA program: on a GPU it
// runs natively too. One mode per role:
//
//   first-call            the first CUDA call must fail (no server reachable);
//                         prints FIRST/SECOND <error> <ms>
//   compute [rounds]      vector additions, checked; prints OK <rounds>
//   two-phase             compute, print PHASE1 OK, wait for a line on stdin,
//                         compute again in the same session (old and new
//                         buffers); prints PHASE2 OK
//   after-loss            set up, print READY, wait for a line on stdin (the
//                         test kills the server meanwhile), then every call
//                         must fail; prints CALL <name> <error> <ms>
//   sync-during-loss      launch a 30 s kernel, print SLEEPING, synchronize:
//                         must fail (the test kills the server) well before
//   big-copy <MiB>        print COPYING, copy host to device forever
//   meminfo               prints MEMINFO <free> <total>
//   crash                 launch a kernel that writes through a wild pointer
//                         (the test backend's host kernel really does, and
//                         its worker dies); synchronizing must fail
//   args ...              prints ARGS [arg]... (no CUDA call)
//   bad-pointers          free, copy and set memory through pointers never
//                         allocated: each must give cudaErrorInvalidValue,
//                         and the session must go on working
//
// Exit status 0 means the mode saw what it expects.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

extern "C" __global__ void fault_vec_add(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// Spins for `ns` nanoseconds of the GPU's global timer.
extern "C" __global__ void fault_sleep(long long ns) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < static_cast<unsigned long long>(ns));
}

// Writes through `p`, which the caller makes a wild pointer.
extern "C" __global__ void fault_crash(int* p) { *reinterpret_cast<volatile int*>(p) = 1; }

namespace {

double Ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// Prints and flushes one line: the test reads stdout as the program runs.
void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void WaitForLine() {
  std::string line;
  std::getline(std::cin, line);
}

// c = a + b on the device for n floats; false (with a message) on any error
// or wrong element.
bool ComputeOnce(int n, int salt) {
  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = static_cast<float>((i * 7 + salt) % 1000) * 0.5f;
    b[i] = static_cast<float>((i * 13 + salt) % 777) * 0.25f;
  }
  float *da = nullptr, *db = nullptr, *dc = nullptr;
  const size_t bytes = n * sizeof(float);
  cudaError_t e = cudaMalloc(&da, bytes);
  if (e == cudaSuccess) e = cudaMalloc(&db, bytes);
  if (e == cudaSuccess) e = cudaMalloc(&dc, bytes);
  if (e == cudaSuccess) e = cudaMemcpy(da, a.data(), bytes, cudaMemcpyHostToDevice);
  if (e == cudaSuccess) e = cudaMemcpy(db, b.data(), bytes, cudaMemcpyHostToDevice);
  if (e == cudaSuccess) {
    fault_vec_add<<<(n + 255) / 256, 256>>>(da, db, dc, n);
    e = cudaGetLastError();
  }
  if (e == cudaSuccess) e = cudaMemcpy(c.data(), dc, bytes, cudaMemcpyDeviceToHost);
  cudaFree(da);
  cudaFree(db);
  cudaFree(dc);
  if (e != cudaSuccess) {
    std::fprintf(stderr, "fault_probe: compute failed: %s\n", cudaGetErrorName(e));
    return false;
  }
  for (int i = 0; i < n; ++i) {
    if (c[i] != a[i] + b[i]) {
      std::fprintf(stderr, "fault_probe: c[%d] = %g, expected %g\n", i, c[i], a[i] + b[i]);
      return false;
    }
  }
  return true;
}

int FirstCall() {
  auto t0 = std::chrono::steady_clock::now();
  void* p = nullptr;
  cudaError_t first = cudaMalloc(&p, 16);
  double first_ms = Ms(t0);
  auto t1 = std::chrono::steady_clock::now();
  cudaError_t second = cudaMemset(p, 0, 16);
  double second_ms = Ms(t1);
  std::printf("FIRST %s %.1f\nSECOND %s %.1f\n", cudaGetErrorName(first), first_ms, cudaGetErrorName(second),
              second_ms);
  return first != cudaSuccess && second != cudaSuccess ? 0 : 1;
}

int Compute(int rounds) {
  if (rounds <= 0) return 64;
  for (int r = 0; r < rounds; ++r)
    if (!ComputeOnce(1000 + r * 37, r)) return 1;
  Say("OK " + std::to_string(rounds));
  return 0;
}

int TwoPhase() {
  // A buffer that lives across the pause: the session's state must survive
  // whatever happens to other sessions meanwhile.
  const int n = 4099;
  std::vector<float> kept(n), back(n);
  for (int i = 0; i < n; ++i) kept[i] = static_cast<float>(i) * 1.5f;
  float* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(float)) != cudaSuccess) return 1;
  if (cudaMemcpy(d, kept.data(), n * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) return 1;
  if (!ComputeOnce(10007, 1)) return 1;
  Say("PHASE1 OK");
  WaitForLine();
  if (!ComputeOnce(10007, 2) || !ComputeOnce(333, 3)) return 1;
  cudaError_t e = cudaMemcpy(back.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost);
  if (e != cudaSuccess || back != kept) {
    std::fprintf(stderr, "fault_probe: the kept buffer came back %s\n",
                 e != cudaSuccess ? cudaGetErrorName(e) : "changed");
    return 1;
  }
  if (cudaFree(d) != cudaSuccess) return 1;
  Say("PHASE2 OK");
  return 0;
}

// Runs `call` and reports it; true when it failed, as it must.
template <class Fn>
bool MustFail(const char* name, Fn call) {
  auto t0 = std::chrono::steady_clock::now();
  cudaError_t e = call();
  std::printf("CALL %s %s %.1f\n", name, cudaGetErrorName(e), Ms(t0));
  std::fflush(stdout);
  return e != cudaSuccess;
}

int CallsAfterLoss(float* d, std::vector<float>& host) {
  const size_t bytes = host.size() * sizeof(float);
  const int n = static_cast<int>(host.size());
  int failed = 0, calls = 0;
  auto check = [&](const char* name, auto call) {
    ++calls;
    if (MustFail(name, call)) ++failed;
  };
  check("cudaMemcpyHtoD", [&] { return cudaMemcpy(d, host.data(), bytes, cudaMemcpyHostToDevice); });
  check("cudaMemcpyDtoH", [&] { return cudaMemcpy(host.data(), d, bytes, cudaMemcpyDeviceToHost); });
  check("cudaMemset", [&] { return cudaMemset(d, 0, bytes); });
  check("cudaMalloc", [&] {
    void* p = nullptr;
    return cudaMalloc(&p, 64);
  });
  check("launch+cudaDeviceSynchronize", [&] {
    fault_vec_add<<<(n + 255) / 256, 256>>>(d, d, d, n);
    cudaError_t e = cudaGetLastError();
    cudaError_t s = cudaDeviceSynchronize();
    return e != cudaSuccess ? e : s;
  });
  check("cudaMemGetInfo", [&] {
    size_t f = 0, t = 0;
    return cudaMemGetInfo(&f, &t);
  });
  check("cudaFree", [&] { return cudaFree(d); });
  check("cudaDeviceSynchronize", [&] { return cudaDeviceSynchronize(); });
  std::printf("FAILED %d OF %d\n", failed, calls);
  return failed == calls ? 0 : 1;
}

int AfterLoss() {
  std::vector<float> host(1 << 16, 1.f);
  float* d = nullptr;
  if (cudaMalloc(&d, host.size() * sizeof(float)) != cudaSuccess) return 2;
  if (!ComputeOnce(1000, 0)) return 2;
  Say("READY");
  WaitForLine();
  return CallsAfterLoss(d, host);
}

int SyncDuringLoss() {
  std::vector<float> host(1024, 1.f);
  float* d = nullptr;
  if (cudaMalloc(&d, host.size() * sizeof(float)) != cudaSuccess) return 2;
  fault_sleep<<<1, 1>>>(30'000'000'000LL);
  if (cudaGetLastError() != cudaSuccess) return 2;
  Say("SLEEPING");
  auto t0 = std::chrono::steady_clock::now();
  cudaError_t e = cudaDeviceSynchronize();
  std::printf("SYNC %s %.1f\n", cudaGetErrorName(e), Ms(t0));
  if (e == cudaSuccess) return 1;
  return CallsAfterLoss(d, host);
}

int BigCopy(size_t mib) {
  const size_t bytes = mib << 20;
  std::vector<char> host(bytes);
  for (size_t i = 0; i < bytes; i += 4096) host[i] = static_cast<char>(i >> 12);
  void* d = nullptr;
  cudaError_t e = cudaMalloc(&d, bytes);
  if (e != cudaSuccess) {
    std::fprintf(stderr, "fault_probe: cudaMalloc(%zu MiB): %s\n", mib, cudaGetErrorName(e));
    return 2;
  }
  Say("COPYING");
  for (;;) {
    e = cudaMemcpy(d, host.data(), bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
      std::fprintf(stderr, "fault_probe: copy failed: %s\n", cudaGetErrorName(e));
      return 1;
    }
  }
}

// Copies between pinned memory and the device in a loop, asynchronously on
// a stream: over shared memory, from and to a host segment the worker maps.
int PinnedCopy(size_t mib) {
  const size_t bytes = mib << 20;
  char* host = nullptr;
  void* d = nullptr;
  cudaStream_t s = nullptr;
  cudaError_t e = cudaMallocHost(&host, bytes);
  if (e == cudaSuccess) e = cudaMalloc(&d, bytes);
  if (e == cudaSuccess) e = cudaStreamCreate(&s);
  if (e != cudaSuccess) {
    std::fprintf(stderr, "fault_probe: pinned set-up (%zu MiB): %s\n", mib, cudaGetErrorName(e));
    return 2;
  }
  for (size_t i = 0; i < bytes; i += 4096) host[i] = static_cast<char>(i >> 12);
  Say("COPYING");
  for (;;) {
    e = cudaMemcpyAsync(d, host, bytes, cudaMemcpyHostToDevice, s);
    if (e == cudaSuccess) e = cudaMemcpyAsync(host, d, bytes, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    if (e != cudaSuccess) {
      std::fprintf(stderr, "fault_probe: pinned copy failed: %s\n", cudaGetErrorName(e));
      return 1;
    }
  }
}

int MemInfo() {
  size_t free = 0, total = 0;
  cudaError_t e = cudaMemGetInfo(&free, &total);
  if (e != cudaSuccess) {
    std::fprintf(stderr, "fault_probe: cudaMemGetInfo: %s\n", cudaGetErrorName(e));
    return 1;
  }
  std::printf("MEMINFO %zu %zu\n", free, total);
  return 0;
}

int Crash() {
  if (!ComputeOnce(1000, 0)) return 2;
  auto t0 = std::chrono::steady_clock::now();
  fault_crash<<<1, 1>>>(reinterpret_cast<int*>(0x10));
  cudaError_t launch = cudaGetLastError();
  cudaError_t sync = cudaDeviceSynchronize();
  std::printf("CRASH launch %s sync %s %.1f\n", cudaGetErrorName(launch), cudaGetErrorName(sync), Ms(t0));
  // A kernel fault is sticky on a GPU; a worker that died is gone for good.
  void* p = nullptr;
  cudaError_t after = cudaMalloc(&p, 16);
  std::printf("AFTER %s\n", cudaGetErrorName(after));
  return sync != cudaSuccess && after != cudaSuccess ? 0 : 1;
}

int BadPointers() {
  const size_t n = 1024;
  std::vector<float> host(n, 2.f);
  float* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(float)) != cudaSuccess) return 2;
  static float not_device[16];  // host memory the program owns
  void* never_allocated = reinterpret_cast<void*>(0x7ff000000000ull);
  int wrong = 0;
  auto expect_invalid = [&](const char* what, cudaError_t e) {
    std::printf("BAD %s %s\n", what, cudaGetErrorName(e));
    if (e != cudaErrorInvalidValue) ++wrong;
    cudaGetLastError();  // not sticky: clear it
  };
  expect_invalid("cudaFree(never allocated)", cudaFree(never_allocated));
  expect_invalid("cudaFree(host array)", cudaFree(not_device));
  expect_invalid("cudaFree(inside an allocation)", cudaFree(d + 4));
  expect_invalid("cudaMemcpy DtoH from never allocated",
                 cudaMemcpy(host.data(), never_allocated, 64, cudaMemcpyDeviceToHost));
  expect_invalid("cudaMemcpy HtoD to never allocated",
                 cudaMemcpy(never_allocated, host.data(), 64, cudaMemcpyHostToDevice));
  expect_invalid("cudaMemcpy DtoH past the end", cudaMemcpy(host.data(), d + 1000, 100 * sizeof(float),
                                                            cudaMemcpyDeviceToHost));
  expect_invalid("cudaMemcpy DtoD from never allocated",
                 cudaMemcpy(d, never_allocated, 64, cudaMemcpyDeviceToDevice));
  expect_invalid("cudaMemset never allocated", cudaMemset(never_allocated, 0, 64));
  expect_invalid("cudaMemset past the end", cudaMemset(d + 1000, 0, 100 * sizeof(float)));
  // The session goes on: what it allocated still holds its data, and it
  // still computes.
  std::vector<float> back(n);
  cudaError_t e = cudaMemcpy(d, host.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  if (e == cudaSuccess) e = cudaMemcpy(back.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  bool ok = e == cudaSuccess && back == host && ComputeOnce(5000, 4) && cudaFree(d) == cudaSuccess;
  std::printf("WRONG %d SESSION %s\n", wrong, ok ? "OK" : "BROKEN");
  return wrong == 0 && ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "args") {
    std::string line = "ARGS";
    for (int i = 1; i < argc; ++i) line += std::string(" [") + argv[i] + "]";
    Say(line);
    return 0;
  }
  if (mode == "first-call") return FirstCall();
  if (mode == "compute") return Compute(argc > 2 ? std::atoi(argv[2]) : 3);
  if (mode == "two-phase") return TwoPhase();
  if (mode == "after-loss") return AfterLoss();
  if (mode == "sync-during-loss") return SyncDuringLoss();
  if (mode == "big-copy") return BigCopy(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024);
  if (mode == "pinned-copy") return PinnedCopy(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64);
  if (mode == "meminfo") return MemInfo();
  if (mode == "crash") return Crash();
  if (mode == "bad-pointers") return BadPointers();
  std::fprintf(stderr,
               "usage: fault_probe args ... | first-call | compute [rounds] | two-phase | after-loss | sync-during-loss |\n"
               "       big-copy <MiB> | meminfo | crash | bad-pointers\n");
  return 64;
}
