// TEST EQUIPMENT: a host libcurand.so.10 for rcuda-server's test backend
// (README.md). It implements exactly the functions rcuda forwards
// (client/libs/curand.def), on the fake driver's "device" memory, which is
// host memory of the worker process (tests/fake_driver). Its numbers are
// not NVIDIA's sequences: a counter-based generator (splitmix64 of the
// seed and the value's position), deterministic for a seed and offset, with
// the distributions cuRAND documents. Nothing it computes or times says
// anything about a GPU or about NVIDIA's cuRAND.
//
// Stream order (tests/fake_libs/driver_streams.h): each generation queues
// an empty host function on the generator's stream and waits for it, then
// computes on the calling thread. Not asynchronous, unlike cuRAND.
#include <cuda.h>
#include <curand.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>

#include "tests/fake_libs/fake_library.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

struct curandGenerator_st {
  curandRngType_t type = CURAND_RNG_PSEUDO_DEFAULT;
  unsigned long long seed = 0;    // cuRAND's default seed
  unsigned long long offset = 0;  // where the sequence starts (SetGeneratorOffset)
  unsigned long long next = 0;    // the position of the next value
  curandOrdering_t ordering = CURAND_ORDERING_PSEUDO_DEFAULT;
  cudaStream_t stream = nullptr;
};

namespace {

const rcuda::fake_libs::FakeLibrary kDouble(
    "libcurand.so.10", "host random numbers (splitmix64)"
                       " on the fake driver's host memory, not a GPU and not NVIDIA's cuRAND");

bool DriverReached() { return kDouble.Driver().ok(); }

// Waits until the generator's stream reaches this call (tests/fake_libs/driver_streams.h).
curandStatus_t WaitForStream(curandGenerator_t g) {
  switch (kDouble.WaitFor(g->stream)) {
    case rcuda::fake_libs::FakeLibrary::Wait::kReached: return CURAND_STATUS_SUCCESS;
    case rcuda::fake_libs::FakeLibrary::Wait::kNoDriver: return CURAND_STATUS_INITIALIZATION_FAILED;
    case rcuda::fake_libs::FakeLibrary::Wait::kFailed: break;
  }
  return CURAND_STATUS_LAUNCH_FAILURE;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The 64 random bits of the value at `position` of the generator's sequence.
uint64_t Bits(curandGenerator_t g, uint64_t position) { return SplitMix64(SplitMix64(g->seed) + position); }

// Uniform in (0, 1], as cuRAND's (0 excluded, 1 included).
float UniformFloat(uint64_t bits) { return static_cast<float>((bits >> 40) + 1) * 0x1.0p-24f; }
double UniformDouble(uint64_t bits) { return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53; }

bool IsPseudo(curandRngType_t t) {
  return t == CURAND_RNG_TEST || t == CURAND_RNG_PSEUDO_DEFAULT || t == CURAND_RNG_PSEUDO_XORWOW ||
         t == CURAND_RNG_PSEUDO_MRG32K3A || t == CURAND_RNG_PSEUDO_MTGP32 || t == CURAND_RNG_PSEUDO_MT19937 ||
         t == CURAND_RNG_PSEUDO_PHILOX4_32_10;
}

// Runs fill(out, i, position) for the generator's next n positions, after
// the stream's earlier work; the sequence moves on by n.
template <class T, class Fill>
curandStatus_t Generate(curandGenerator_t g, T* out, size_t n, Fill fill) {
  if (g == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  if (out == nullptr && n != 0) return CURAND_STATUS_OUT_OF_RANGE;
  curandStatus_t s = WaitForStream(g);
  if (s != CURAND_STATUS_SUCCESS) return s;
  for (size_t i = 0; i < n; ++i) fill(out, i, g->next + i);
  g->next += n;
  return CURAND_STATUS_SUCCESS;
}

// Normal values by Box-Muller, a pair from each two positions; n must be
// even, as cuRAND's pseudo-random generators require.
template <class T, class Map>
curandStatus_t GenerateNormal(curandGenerator_t g, T* out, size_t n, double mean, double stddev, Map map) {
  if (g != nullptr && n % 2 != 0) return CURAND_STATUS_LENGTH_NOT_MULTIPLE;
  return Generate(g, out, n, [&](T* o, size_t i, uint64_t position) {
    const uint64_t pair = position - (i % 2);
    const double u1 = UniformDouble(Bits(g, pair)), u2 = UniformDouble(Bits(g, pair + 1));
    const double r = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * std::numbers::pi * u2;
    const double z = i % 2 == 0 ? r * std::cos(angle) : r * std::sin(angle);
    o[i] = static_cast<T>(map(mean + stddev * z));
  });
}

double Identity(double x) { return x; }
double Exp(double x) { return std::exp(x); }

// Poisson by inversion (sequential search of the CDF) for lambda <= 64; above,
// where exp(-lambda) loses precision, the normal approximation with
// continuity correction (not an exact Poisson: test equipment).
unsigned int Poisson(double lambda, uint64_t bits) {
  const double u = UniformDouble(bits);
  if (lambda > 64) {
    const double z = std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * UniformDouble(SplitMix64(bits)));
    const double k = std::floor(lambda + std::sqrt(lambda) * z + 0.5);
    return k < 0 ? 0u : static_cast<unsigned int>(k);
  }
  double p = std::exp(-lambda), cdf = p;
  unsigned int k = 0;
  while (u > cdf && k < 1000) {
    ++k;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

}  // namespace

FAKE_EXPORT curandStatus_t curandCreateGenerator(curandGenerator_t* generator, curandRngType_t rng_type) {
  if (generator == nullptr) return CURAND_STATUS_OUT_OF_RANGE;
  if (!DriverReached()) return CURAND_STATUS_INITIALIZATION_FAILED;
  // The quasi-random generators (Sobol) are not implemented by this double.
  if (!IsPseudo(rng_type)) return CURAND_STATUS_TYPE_ERROR;
  *generator = new curandGenerator_st;
  (*generator)->type = rng_type;
  return CURAND_STATUS_SUCCESS;
}

FAKE_EXPORT curandStatus_t curandDestroyGenerator(curandGenerator_t generator) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  delete generator;
  return CURAND_STATUS_SUCCESS;
}

// The generator's state is its seed and offset alone: nothing to set up,
// once the stream reached the call.
FAKE_EXPORT curandStatus_t curandGenerateSeeds(curandGenerator_t generator) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  return WaitForStream(generator);
}

FAKE_EXPORT curandStatus_t curandGetVersion(int* version) {
  if (version == nullptr) return CURAND_STATUS_OUT_OF_RANGE;
  kDouble.Log("curandGetVersion: answering the headers' %d (a test double's)", CURAND_VERSION);
  *version = CURAND_VERSION;
  return CURAND_STATUS_SUCCESS;
}

// The headers' version, as the real library answers its own; an unknown
// property is CURAND_STATUS_OUT_OF_RANGE (as the real library answers, measured).
FAKE_EXPORT curandStatus_t curandGetProperty(libraryPropertyType type, int* value) {
  kDouble.Log("curandGetProperty: answering the headers' version (a test double's)");
  return rcuda::fake_libs::VersionProperty(type, value, CURAND_VER_MAJOR, CURAND_VER_MINOR, CURAND_VER_PATCH,
                                           CURAND_STATUS_SUCCESS, CURAND_STATUS_OUT_OF_RANGE);
}

FAKE_EXPORT curandStatus_t curandSetStream(curandGenerator_t generator, cudaStream_t stream) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->stream = stream;
  return CURAND_STATUS_SUCCESS;
}

// A new seed or offset restarts the sequence at the offset, as cuRAND
// reinitializes its state before the next generation.
FAKE_EXPORT curandStatus_t curandSetPseudoRandomGeneratorSeed(curandGenerator_t generator, unsigned long long seed) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->seed = seed;
  generator->next = generator->offset;
  return CURAND_STATUS_SUCCESS;
}

FAKE_EXPORT curandStatus_t curandSetGeneratorOffset(curandGenerator_t generator, unsigned long long offset) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->offset = offset;
  generator->next = offset;
  return CURAND_STATUS_SUCCESS;
}

FAKE_EXPORT curandStatus_t curandSetGeneratorOrdering(curandGenerator_t generator, curandOrdering_t order) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  if (order < CURAND_ORDERING_PSEUDO_BEST || order > CURAND_ORDERING_PSEUDO_DYNAMIC) return CURAND_STATUS_OUT_OF_RANGE;
  generator->ordering = order;  // one sequence whatever the ordering
  return CURAND_STATUS_SUCCESS;
}

FAKE_EXPORT curandStatus_t curandSetQuasiRandomGeneratorDimensions(curandGenerator_t generator,
                                                                   unsigned int num_dimensions) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  if (num_dimensions < 1 || num_dimensions > 20000) return CURAND_STATUS_OUT_OF_RANGE;
  return CURAND_STATUS_TYPE_ERROR;  // every generator of this double is pseudo-random
}

FAKE_EXPORT curandStatus_t curandGenerate(curandGenerator_t generator, unsigned int* outputPtr, size_t num) {
  return Generate(generator, outputPtr, num, [&](unsigned int* o, size_t i, uint64_t position) {
    o[i] = static_cast<unsigned int>(Bits(generator, position) >> 32);
  });
}

FAKE_EXPORT curandStatus_t curandGenerateLongLong(curandGenerator_t generator, unsigned long long* outputPtr,
                                                  size_t num) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  (void)outputPtr, (void)num;
  return CURAND_STATUS_TYPE_ERROR;  // only for 64-bit quasi-random generators, which this double has not
}

FAKE_EXPORT curandStatus_t curandGenerateUniform(curandGenerator_t generator, float* outputPtr, size_t num) {
  return Generate(generator, outputPtr, num, [&](float* o, size_t i, uint64_t position) {
    o[i] = UniformFloat(Bits(generator, position));
  });
}

FAKE_EXPORT curandStatus_t curandGenerateUniformDouble(curandGenerator_t generator, double* outputPtr, size_t num) {
  return Generate(generator, outputPtr, num, [&](double* o, size_t i, uint64_t position) {
    o[i] = UniformDouble(Bits(generator, position));
  });
}

FAKE_EXPORT curandStatus_t curandGenerateNormal(curandGenerator_t generator, float* outputPtr, size_t n, float mean,
                                                float stddev) {
  return GenerateNormal(generator, outputPtr, n, mean, stddev, Identity);
}

FAKE_EXPORT curandStatus_t curandGenerateNormalDouble(curandGenerator_t generator, double* outputPtr, size_t n,
                                                      double mean, double stddev) {
  return GenerateNormal(generator, outputPtr, n, mean, stddev, Identity);
}

FAKE_EXPORT curandStatus_t curandGenerateLogNormal(curandGenerator_t generator, float* outputPtr, size_t n,
                                                   float mean, float stddev) {
  return GenerateNormal(generator, outputPtr, n, mean, stddev, Exp);
}

FAKE_EXPORT curandStatus_t curandGenerateLogNormalDouble(curandGenerator_t generator, double* outputPtr, size_t n,
                                                         double mean, double stddev) {
  return GenerateNormal(generator, outputPtr, n, mean, stddev, Exp);
}

FAKE_EXPORT curandStatus_t curandGeneratePoisson(curandGenerator_t generator, unsigned int* outputPtr, size_t n,
                                                 double lambda) {
  if (generator != nullptr && !(lambda > 0 && lambda <= 400000)) return CURAND_STATUS_OUT_OF_RANGE;
  return Generate(generator, outputPtr, n, [&](unsigned int* o, size_t i, uint64_t position) {
    o[i] = Poisson(lambda, Bits(generator, position));
  });
}
