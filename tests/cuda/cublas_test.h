// What the cuBLAS test programs share (one copy for cublas_complex,
// cublas_hermitian, cublas_packed, cublas_level23, cublas_band): a handle
// bound to a blocking stream, and the helpers of complex precision, whose
// host reference is std::complex<double>.
#pragma once

#include <cublas_v2.h>

#include <complex>
#include <type_traits>
#include <vector>

#include "library_session.h"
#include "test_util.h"

#define CUBLAS_CHECK(call) RTEST_LIBRARY_CHECK("cuBLAS", call)

namespace rtest {

using Wide = std::complex<double>;

// cuBLAS's type for the std::complex<float or double> it is laid out as.
template <class C>
struct CuComplexOf;
template <>
struct CuComplexOf<std::complex<float>> {
  using type = cuComplex;
};
template <>
struct CuComplexOf<std::complex<double>> {
  using type = cuDoubleComplex;
};

// The relative tolerance of T's precision (real or complex) against a
// reference computed in double.
template <class T>
constexpr double Tolerance() {
  return std::is_same_v<decltype(std::real(T{})), float> ? 2e-4 : 1e-10;
}

template <class T>
Wide ToWide(const T& v) {
  if constexpr (std::is_arithmetic_v<T>) {
    return Wide(v, 0);
  } else {
    return Wide(v.real(), v.imag());
  }
}

template <class C>
typename CuComplexOf<C>::type* Cu(C* p) {
  return reinterpret_cast<typename CuComplexOf<C>::type*>(p);
}
template <class C>
const typename CuComplexOf<C>::type* Cu(const C* p) {
  return reinterpret_cast<const typename CuComplexOf<C>::type*>(p);
}

// `n` complex values with both parts uniform in [-1, 1).
template <class C>
std::vector<C> RandomComplex(Rng& rng, size_t n) {
  std::vector<C> v(n);
  for (C& x : v) x = C(rng.Double(-1.0, 1.0), rng.Double(-1.0, 1.0));
  return v;
}

template <class C>
std::vector<Wide> Widen(const std::vector<C>& v) {
  return std::vector<Wide>(v.begin(), v.end());
}

// Every element of `got` (real or complex) within its precision's tolerance
// of `want`.
template <class T>
void ExpectNear(const std::vector<T>& got, const std::vector<Wide>& want, const char* what) {
  CHECKF(got.size() == want.size(), "%s: %zu elements, expected %zu", what, got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Wide g = ToWide(got[i]);
    CHECKF(std::abs(g - want[i]) <= Tolerance<T>() * (1 + std::abs(want[i])),
           "%s (%zu-byte): element %zu is (%.9g, %.9g), expected (%.9g, %.9g)", what, sizeof(T), i, g.real(),
           g.imag(), want[i].real(), want[i].imag());
  }
}

// A cuBLAS handle whose work runs on a blocking stream of its own, so that
// the uploads (cudaMemcpy on the legacy stream) are ordered before it.
class CublasOnStream {
 public:
  CublasOnStream() {
    CUBLAS_CHECK(cublasCreate(&handle_));
    CUDA_CHECK(cudaStreamCreate(&stream_));
    CUBLAS_CHECK(cublasSetStream(handle_, stream_));
  }
  ~CublasOnStream() {
    CUBLAS_CHECK(cublasDestroy(handle_));
    CUDA_CHECK(cudaStreamDestroy(stream_));
  }
  CublasOnStream(const CublasOnStream&) = delete;
  CublasOnStream& operator=(const CublasOnStream&) = delete;

  cublasHandle_t handle() const { return handle_; }
  cudaStream_t stream() const { return stream_; }

 private:
  cublasHandle_t handle_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace rtest
