// curand_moments: an unmodified cuRAND host-API program (linked with
// NVIDIA's libcurand.so.10; through rcuda it binds to rcuda's, client/libs/).
// A pseudo-random generator on a stream of the program's, seeded, fills
// device memory with 32-bit integers, uniform, normal and log-normal floats
// and doubles, and Poisson counts; the copies back must have the moments of
// their distributions (tolerances of about six standard errors for N
// values) and lie in range. The same seed must give the same sequence again
// and another seed another one. Refusals the real library makes too: an odd
// count of normal values, a non-positive Poisson lambda, 64-bit values or
// quasi-random dimensions from a pseudo-random generator. It does not depend
// on any library's exact sequence (NVIDIA's or rcuda's host test double's).
// Under rcuda curandCreateGeneratorHost (which writes the client's host
// memory) must be refused with CURAND_STATUS_NOT_INITIALIZED.
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): output ranges beyond their allocation, a
// pointer that is no allocation, a made-up generator and an unknown
// function id are refused with an error status, and the session still serves.
#include <curand.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "library_session.h"
#include "device_vectors.h"
#include "test_util.h"

#define CURAND_CHECK(call) RTEST_LIBRARY_CHECK("cuRAND", call)
#define CURAND_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuRAND", call, expected)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

constexpr size_t kN = size_t{1} << 16;

struct Moments {
  double mean = 0, variance = 0;
};

template <class T, class F>
Moments MomentsOf(const std::vector<T>& v, F f) {
  Moments m;
  for (const T& x : v) m.mean += f(double(x));
  m.mean /= double(v.size());
  for (const T& x : v) m.variance += (f(double(x)) - m.mean) * (f(double(x)) - m.mean);
  m.variance /= double(v.size() - 1);
  return m;
}

template <class T>
Moments MomentsOf(const std::vector<T>& v) {
  return MomentsOf(v, [](double x) { return x; });
}

void ExpectMoments(const char* what, Moments got, double mean, double mean_tol, double variance, double var_tol) {
  std::printf("%-22s mean %.5f (expected %.5f)  variance %.5f (expected %.5f)\n", what, got.mean, mean, got.variance,
              variance);
  CHECKF(std::fabs(got.mean - mean) <= mean_tol, "%s: mean %g, expected %g +- %g", what, got.mean, mean, mean_tol);
  CHECKF(std::fabs(got.variance - variance) <= var_tol, "%s: variance %g, expected %g +- %g", what, got.variance,
         variance, var_tol);
}

// Each distribution once, N values each, into `buffer` (8*N bytes).
void Distributions(curandGenerator_t g, cudaStream_t stream, void* buffer, rtest::Checksum& sum) {
  auto* f = static_cast<float*>(buffer);
  auto* d = static_cast<double*>(buffer);
  auto* u = static_cast<unsigned int*>(buffer);
  const double n = double(kN), se = 6.0 / std::sqrt(n);  // six standard errors, per unit of deviation

  CURAND_CHECK(curandGenerate(g, u, kN));
  std::vector<unsigned int> bits = FromDevice(u, kN, stream);
  for (int b = 0; b < 32; ++b) {
    size_t set = 0;
    for (unsigned int x : bits) set += (x >> b) & 1u;
    CHECKF(std::fabs(double(set) / n - 0.5) <= 0.5 * se, "curandGenerate: bit %d set in %zu of %zu", b, set, kN);
  }
  sum.AddVector(bits);

  CURAND_CHECK(curandGenerateUniform(g, f, kN));
  std::vector<float> uf = FromDevice(f, kN, stream);
  for (float x : uf) CHECKF(x > 0.0f && x <= 1.0f, "curandGenerateUniform: %g outside (0, 1]", x);
  // Uniform: variance 1/12, the sample variance's deviation sqrt((1/80 - 1/144)/N).
  ExpectMoments("uniform float", MomentsOf(uf), 0.5, std::sqrt(1.0 / 12) * se, 1.0 / 12,
                std::sqrt(1.0 / 80 - 1.0 / 144) * se);
  sum.AddVector(uf);

  CURAND_CHECK(curandGenerateUniformDouble(g, d, kN));
  std::vector<double> ud = FromDevice(d, kN, stream);
  for (double x : ud) CHECKF(x > 0.0 && x <= 1.0, "curandGenerateUniformDouble: %g outside (0, 1]", x);
  ExpectMoments("uniform double", MomentsOf(ud), 0.5, std::sqrt(1.0 / 12) * se, 1.0 / 12,
                std::sqrt(1.0 / 80 - 1.0 / 144) * se);
  sum.AddVector(ud);

  // Normal: the sample variance's deviation is sigma^2 sqrt(2/N).
  // Means, deviations and lambdas that are not integers: they travel as
  // floats and doubles, not converted.
  CURAND_CHECK(curandGenerateNormal(g, f, kN, 2.5f, 1.5f));
  std::vector<float> nf = FromDevice(f, kN, stream);
  ExpectMoments("normal float", MomentsOf(nf), 2.5, 1.5 * se, 2.25, 2.25 * std::sqrt(2.0) * se);
  sum.AddVector(nf);

  CURAND_CHECK(curandGenerateNormalDouble(g, d, kN, -1.25, 0.5));
  std::vector<double> nd = FromDevice(d, kN, stream);
  ExpectMoments("normal double", MomentsOf(nd), -1.25, 0.5 * se, 0.25, 0.25 * std::sqrt(2.0) * se);
  sum.AddVector(nd);

  // Log-normal: positive; its logarithm normal (mu, sigma); its mean
  // exp(mu + sigma^2 / 2), within six of its standard errors.
  const double mu = 0.25, sigma = 0.5, ln_mean = std::exp(mu + sigma * sigma / 2);
  const double ln_sd = std::sqrt((std::exp(sigma * sigma) - 1) * std::exp(2 * mu + sigma * sigma));
  CURAND_CHECK(curandGenerateLogNormal(g, f, kN, float(mu), float(sigma)));
  std::vector<float> lf = FromDevice(f, kN, stream);
  for (float x : lf) CHECKF(x > 0.0f, "curandGenerateLogNormal: %g is not positive", x);
  ExpectMoments("log of log-normal", MomentsOf(lf, [](double x) { return std::log(x); }), mu, sigma * se,
                sigma * sigma, sigma * sigma * std::sqrt(2.0) * se);
  CHECKF(std::fabs(MomentsOf(lf).mean - ln_mean) <= ln_sd * se, "log-normal float: mean %g, expected %g",
         MomentsOf(lf).mean, ln_mean);
  sum.AddVector(lf);

  CURAND_CHECK(curandGenerateLogNormalDouble(g, d, kN, mu, sigma));
  std::vector<double> ld = FromDevice(d, kN, stream);
  for (double x : ld) CHECKF(x > 0.0, "curandGenerateLogNormalDouble: %g is not positive", x);
  ExpectMoments("log of log-normal dbl", MomentsOf(ld, [](double x) { return std::log(x); }), mu, sigma * se,
                sigma * sigma, sigma * sigma * std::sqrt(2.0) * se);
  sum.AddVector(ld);

  // Poisson, lambda 3.5: mean and variance lambda; the sample variance's
  // deviation sqrt((mu4 - lambda^2) / N), mu4 = lambda (1 + 3 lambda).
  const double lambda = 3.5;
  CURAND_CHECK(curandGeneratePoisson(g, u, kN, lambda));
  std::vector<unsigned int> pu = FromDevice(u, kN, stream);
  for (unsigned int x : pu) CHECKF(x < 100, "curandGeneratePoisson(3.5): %u", x);
  ExpectMoments("poisson(3.5)", MomentsOf(pu), lambda, std::sqrt(lambda) * se, lambda,
                std::sqrt(lambda * (1 + 3 * lambda) - lambda * lambda) * se);
  sum.AddVector(pu);

  // What the real library refuses too.
  CURAND_EXPECT(curandGenerateNormal(g, f, 3, 0.0f, 1.0f), CURAND_STATUS_LENGTH_NOT_MULTIPLE);
  CURAND_EXPECT(curandGeneratePoisson(g, u, 16, 0.0), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandGenerateLongLong(g, static_cast<unsigned long long*>(buffer), 16), CURAND_STATUS_TYPE_ERROR);
  CURAND_EXPECT(curandSetQuasiRandomGeneratorDimensions(g, 2), CURAND_STATUS_TYPE_ERROR);
}

// The first N uniform floats of a new generator seeded `seed`, its starting
// state generated first by curandGenerateSeeds when `seeds_first` (which
// the first generation does anyway: the sequence is the same).
std::vector<float> Sequence(unsigned long long seed, cudaStream_t stream, float* out, bool seeds_first = false) {
  curandGenerator_t g = nullptr;
  CURAND_CHECK(curandCreateGenerator(&g, CURAND_RNG_PSEUDO_DEFAULT));
  CURAND_CHECK(curandSetStream(g, stream));
  CURAND_CHECK(curandSetPseudoRandomGeneratorSeed(g, seed));
  CURAND_CHECK(curandSetGeneratorOffset(g, 0));
  if (seeds_first) CURAND_CHECK(curandGenerateSeeds(g));
  CURAND_CHECK(curandGenerateUniform(g, out, kN));
  std::vector<float> v = FromDevice(out, kN, stream);
  CURAND_CHECK(curandDestroyGenerator(g));
  return v;
}

void SessionChecks(curandGenerator_t g) {
  rtest::RawLibraryCallFn call = rtest::PrivateLibraryCall();
  CHECKF(call != nullptr, "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  float* small = nullptr;
  CUDA_CHECK(cudaMalloc(&small, 16 * sizeof(float)));
  // Ranges beyond the allocation, one byte or far, and one whose size
  // overflows 64 bits: refused before the library.
  CURAND_EXPECT(curandGenerateUniform(g, small, 17), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandGenerateUniformDouble(g, reinterpret_cast<double*>(small), 9), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandGenerateNormal(g, small, 1000, 0.0f, 1.0f), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandGenerate(g, reinterpret_cast<unsigned int*>(small), size_t{1} << 62),
                CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandGeneratePoisson(g, reinterpret_cast<unsigned int*>(small + 8), 9, 1.0),
                CURAND_STATUS_OUT_OF_RANGE);
  // A pointer that is no allocation at all.
  CURAND_EXPECT(curandGenerateUniform(g, reinterpret_cast<float*>(uintptr_t{0x1000}), 4), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_CHECK(curandGenerateUniform(g, small, 16));  // the whole allocation is fine
  // A made-up generator.
  auto fake = reinterpret_cast<curandGenerator_t>(uintptr_t{0xdead});
  CURAND_EXPECT(curandSetPseudoRandomGeneratorSeed(fake, 1), CURAND_STATUS_OUT_OF_RANGE);
  CURAND_EXPECT(curandDestroyGenerator(fake), CURAND_STATUS_OUT_OF_RANGE);
  // An unknown function id; a float whose bits do not fit 32 (wire id 2 is cuRAND).
  rtest::RawLibraryReply reply{};
  const int64_t values[5] = {static_cast<int64_t>(reinterpret_cast<uintptr_t>(g)),
                             static_cast<int64_t>(reinterpret_cast<uintptr_t>(small)), 2, int64_t{1} << 40, 0};
  rtest::RawLibraryCall unknown{2, 100000, values, 1, nullptr, 0};
  CHECKF(call(&unknown, &reply) == 0 && reply.status == CURAND_STATUS_OUT_OF_RANGE, "unknown function: status %d",
         reply.status);
  rtest::RawLibraryCall wide_float{2, 12, values, 5, nullptr, 0};  // function 12: curandGenerateNormal
  CHECKF(call(&wide_float, &reply) == 0 && reply.status == CURAND_STATUS_OUT_OF_RANGE,
         "a mean of 40 bits: status %d", reply.status);
  // An unknown library: the session's own error, not a crash.
  rtest::RawLibraryCall library{77, 0, nullptr, 0, nullptr, 0};
  CHECKF(call(&library, &reply) == cudaErrorInvalidValue, "unknown library accepted");
  // Still serving.
  CURAND_CHECK(curandGenerateUniform(g, small, 16));
  std::vector<float> after(16);
  CUDA_CHECK(cudaDeviceSynchronize());
  CUDA_CHECK(cudaMemcpy(after.data(), small, sizeof(float) * 16, cudaMemcpyDeviceToHost));
  for (float x : after) CHECKF(x > 0.0f && x <= 1.0f, "after the refusals: %g", x);
  CUDA_CHECK(cudaFree(small));
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("curand_moments");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;
  const unsigned long long seed = rng.Next();

  int version = 0;
  CURAND_CHECK(curandGetVersion(&version));
  CHECKF(version / 1000 == CURAND_VER_MAJOR, "curandGetVersion: %d", version);
  std::printf("cuRAND version %d\n", version);
  {
    // The library's properties (forwarded: the worker's library answers).
    int major = -1, patch = -1, ignored = 0;
    CURAND_CHECK(curandGetProperty(MAJOR_VERSION, &major));
    CURAND_CHECK(curandGetProperty(PATCH_LEVEL, &patch));
    CHECKF(major == CURAND_VER_MAJOR && patch >= 0, "curandGetProperty: major %d, patch %d", major, patch);
    CURAND_EXPECT(curandGetProperty(static_cast<libraryPropertyType>(9), &ignored), CURAND_STATUS_OUT_OF_RANGE);
  }

  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  void* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, kN * sizeof(double)));

  curandGenerator_t g = nullptr;
  CURAND_CHECK(curandCreateGenerator(&g, CURAND_RNG_PSEUDO_DEFAULT));
  CURAND_CHECK(curandSetStream(g, stream));
  CURAND_CHECK(curandSetPseudoRandomGeneratorSeed(g, seed));
  CURAND_CHECK(curandSetGeneratorOrdering(g, CURAND_ORDERING_PSEUDO_DEFAULT));
  CURAND_EXPECT(curandSetGeneratorOrdering(g, CURAND_ORDERING_QUASI_DEFAULT), CURAND_STATUS_OUT_OF_RANGE);
  Distributions(g, stream, buffer, sum);

  // The same seed, the same sequence; another seed, another one.
  auto* out = static_cast<float*>(buffer);
  std::vector<float> first = Sequence(seed, stream, out), again = Sequence(seed, stream, out, /*seeds_first=*/true);
  std::vector<float> other = Sequence(seed ^ 0x5deece66dULL, stream, out);
  CHECKF(first == again, "seed %llu gave two different sequences", seed);
  size_t same = 0;
  for (size_t i = 0; i < kN; ++i) same += first[i] == other[i];
  CHECKF(same < kN / 100, "another seed gave %zu of %zu values the same", same, kN);
  sum.AddVector(first);

  // A generator writing the client's host memory: rcuda's worker cannot.
  curandGenerator_t host = nullptr;
  curandStatus_t host_status = curandCreateGeneratorHost(&host, CURAND_RNG_PSEUDO_DEFAULT);
  if (rtest::PrivateLibraryCall() != nullptr) {
    CHECKF(host_status == CURAND_STATUS_NOT_INITIALIZED, "under rcuda curandCreateGeneratorHost returned %d",
           (int)host_status);
  } else {
    CURAND_CHECK(host_status);  // natively it exists
    CURAND_CHECK(curandDestroyGenerator(host));
  }

  if (session_checks) SessionChecks(g);

  CURAND_CHECK(curandDestroyGenerator(g));
  CUDA_CHECK(cudaFree(buffer));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
