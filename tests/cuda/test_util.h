// Helpers shared by rcuda's self-checking CUDA test programs.
//
// Each program in tests/cuda/ is an ordinary CUDA program (nvcc -cudart=shared)
// that checks its own results against a CPU reference. The conventions that
// tests/gpu/run.sh and the integration tests rely on:
//   - inputs are fresh random values each run, unless RCUDA_TEST_SEED is set
//     (then everything is deterministic from it);
//   - every CUDA call's return code is checked; any error or wrong result
//     prints "FAIL <name>: <what>" on stderr and exits 1;
//   - on success, stdout gets exactly two lines: "CHECKSUM <16 hex digits>"
//     (an FNV-1a hash of the program's outputs, never of times or pointers,
//     so native and remote runs with the same seed print the same line) and
//     "PASS <name>".
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace rtest {

struct State {
  const char* name = "?";
  uint64_t seed = 0;
};

inline State& GlobalState() {
  static State state;
  return state;
}

[[noreturn]] inline void Fail(const char* fmt, ...) {
  State& s = GlobalState();
  std::fprintf(stderr, "FAIL %s: ", s.name);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, " (seed %" PRIu64 "; rerun with RCUDA_TEST_SEED=%" PRIu64 ")\n", s.seed, s.seed);
  std::fflush(stderr);
  std::exit(1);
}

// A note on stderr that does not affect the result (which path a program
// took where CUDA allows several outcomes).
inline void Note(const char* fmt, ...) {
  std::fprintf(stderr, "note %s: ", GlobalState().name);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

inline const char* ErrorText(cudaError_t err) {
  static thread_local char buf[256];
  std::snprintf(buf, sizeof buf, "%s (%d: %s)", cudaGetErrorName(err), static_cast<int>(err),
                cudaGetErrorString(err));
  return buf;
}

// splitmix64: small, fast, and the same sequence on every platform (unlike
// std::uniform_*_distribution, whose output is implementation-defined).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t U32() { return static_cast<uint32_t>(Next() >> 32); }
  // Uniform integer in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  // Uniform float in [lo, hi), with 24 random bits.
  float Float(float lo, float hi) { return lo + (hi - lo) * (static_cast<float>(U32() >> 8) / 16777216.0f); }
  double Double(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(Next() >> 11) / 9007199254740992.0);
  }
  template <class T>
  void FillInts(std::vector<T>& v, int64_t lo, int64_t hi) {
    for (auto& x : v) x = static_cast<T>(Int(lo, hi));
  }
  void FillFloats(std::vector<float>& v, float lo, float hi) {
    for (auto& x : v) x = Float(lo, hi);
  }
  void FillBytes(void* p, size_t n) {
    auto* b = static_cast<unsigned char*>(p);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t r = Next();
      std::memcpy(b + i, &r, 8);
    }
    if (i < n) {
      uint64_t r = Next();
      std::memcpy(b + i, &r, n - i);
    }
  }

 private:
  uint64_t state_;
};

// Sets the program's name and seed; returns the generator for its inputs.
inline Rng Init(const char* name) {
  State& s = GlobalState();
  s.name = name;
  if (const char* env = std::getenv("RCUDA_TEST_SEED"); env && *env) {
    s.seed = std::strtoull(env, nullptr, 0);
  } else {
    std::random_device rd;
    s.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  return Rng(s.seed);
}

// FNV-1a, 64-bit, over the bytes of the program's outputs.
class Checksum {
 public:
  void Add(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      hash_ ^= b[i];
      hash_ *= 0x100000001B3ull;
    }
  }
  template <class T>
  void AddValue(const T& v) {
    Add(&v, sizeof v);
  }
  template <class T>
  void AddVector(const std::vector<T>& v) {
    AddValue<uint64_t>(v.size());
    Add(v.data(), v.size() * sizeof(T));
  }
  void AddString(const char* s) {
    AddValue<uint64_t>(std::strlen(s));
    Add(s, std::strlen(s));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xCBF29CE484222325ull;
};

// Prints the success lines and returns the process exit code.
inline int Pass(const Checksum& sum) {
  std::printf("CHECKSUM %016" PRIx64 "\n", sum.value());
  std::printf("PASS %s\n", GlobalState().name);
  std::fflush(stdout);
  return 0;
}

template <class T>
inline double AsDouble(const T& v) {
  return static_cast<double>(v);
}

// Exact comparison of an output array with its reference; names the first
// difference.
template <class T>
void ExpectEqual(const T* got, const T* want, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      size_t bad = 0;
      for (size_t j = i; j < n; ++j) bad += std::memcmp(&got[j], &want[j], sizeof(T)) != 0;
      Fail("%s: element %zu of %zu is %.17g, expected %.17g (%zu elements differ)", what, i, n,
           AsDouble(got[i]), AsDouble(want[i]), bad);
    }
  }
}

template <class T>
void ExpectEqual(const std::vector<T>& got, const std::vector<T>& want, const char* what) {
  if (got.size() != want.size()) Fail("%s: %zu elements, expected %zu", what, got.size(), want.size());
  ExpectEqual(got.data(), want.data(), got.size(), what);
}

// Comparison with a tolerance, for results whose float operation order on
// the GPU is not the CPU's.
template <class T>
void ExpectNear(const T* got, const T* want, size_t n, double rel, double abs_tol, const char* what) {
  for (size_t i = 0; i < n; ++i) {
    double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    if (!(std::fabs(g - w) <= abs_tol + rel * std::fabs(w))) {
      Fail("%s: element %zu of %zu is %.9g, expected %.9g", what, i, n, g, w);
    }
  }
}

// Bytes equal to a value (memset results, untouched guard bytes).
inline void ExpectBytes(const void* p, size_t n, unsigned char value, const char* what) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != value) Fail("%s: byte %zu of %zu is 0x%02x, expected 0x%02x", what, i, n, b[i], value);
  }
}

// After a query (cudaStreamQuery, cudaEventQuery) answered
// cudaErrorNotReady: whether the runtime also records that as the last error
// is not specified, so read it away, accepting only those two answers.
inline void ClearNotReady() {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess && err != cudaErrorNotReady)
    Fail("cudaGetLastError after a query that answered cudaErrorNotReady gave %s", ErrorText(err));
}

inline int BlocksFor(size_t n, int block) { return static_cast<int>((n + block - 1) / block); }

// A reusable barrier for host threads (std::barrier needs C++20 in nvcc's
// host compiler, which the programs do not require).
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    int gen = generation_;
    if (++waiting_ == count_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return gen != generation_; });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_, waiting_ = 0, generation_ = 0;
};

}  // namespace rtest

// Checks a CUDA call's return code; on failure names the call, where, and the
// error.
#define CUDA_CHECK(call)                                                                                      \
  do {                                                                                                        \
    cudaError_t rtest_err_ = (call);                                                                          \
    if (rtest_err_ != cudaSuccess)                                                                            \
      ::rtest::Fail("%s:%d: %s returned %s", __FILE__, __LINE__, #call, ::rtest::ErrorText(rtest_err_));      \
  } while (0)

// Checks that a call returns one particular error code.
#define CUDA_EXPECT(call, expected)                                                                          \
  do {                                                                                                       \
    cudaError_t rtest_err_ = (call);                                                                         \
    if (rtest_err_ != (expected))                                                                            \
      ::rtest::Fail("%s:%d: %s returned %s, expected %s", __FILE__, __LINE__, #call,                         \
                    ::rtest::ErrorText(rtest_err_), cudaGetErrorName(expected));                             \
  } while (0)

// A refused launch configuration. CUDA 13 reports it as
// cudaErrorInvalidValue (seen natively on an H100 for a 2048-thread block);
// older runtimes said cudaErrorInvalidConfiguration. Either is a correct
// refusal; which one is printed, so native and remote runs can be compared.
#define CUDA_EXPECT_CONFIG_ERROR(call)                                                                      \
  do {                                                                                                      \
    cudaError_t rtest_err_ = (call);                                                                        \
    if (rtest_err_ != cudaErrorInvalidValue && rtest_err_ != cudaErrorInvalidConfiguration)                 \
      ::rtest::Fail("%s:%d: %s returned %s, expected a launch configuration error", __FILE__, __LINE__,     \
                    #call, ::rtest::ErrorText(rtest_err_));                                                 \
    std::printf("NOTE %s:%d: launch configuration error reported as %s\n", __FILE__, __LINE__,              \
                cudaGetErrorName(rtest_err_));                                                              \
  } while (0)

// After a <<<>>> launch: the launch itself must have been accepted.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// Checks a condition about results; the message says what was wrong:
// CHECKF(got == want, "cudaGetDevice gave %d, expected %d", got, want).
#define CHECKF(cond, fmt, ...)                                                                        \
  do {                                                                                                \
    if (!(cond)) ::rtest::Fail("%s:%d: check failed: %s: " fmt, __FILE__, __LINE__, #cond, ##__VA_ARGS__); \
  } while (0)

#ifdef __CUDACC__
// Device side: spins for about `ns` nanoseconds of GPU time (the global
// timer), so that "a longer kernel" is longer independently of clock rates.
// The test backend's host kernels model it by sleeping.
__device__ inline unsigned long long GlobalTimerNs() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__device__ inline void SpinForNs(long long ns) {
  unsigned long long start = GlobalTimerNs();
  while (static_cast<long long>(GlobalTimerNs() - start) < ns) {
  }
}
#endif
