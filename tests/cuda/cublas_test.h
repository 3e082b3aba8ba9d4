// What the cuBLAS test programs share (one copy for cublas_complex,
// cublas_hermitian, cublas_packed, cublas_level23, cublas_band, cublas_symmetric, cublas_batched): a handle
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

template <class T>
constexpr bool kIsComplex = !std::is_arithmetic_v<T>;

template <class T>
T FromWide(const Wide& v) {
  if constexpr (kIsComplex<T>) {
    return T(v.real(), v.imag());
  } else {
    return static_cast<T>(v.real());
  }
}

// `n` values, real or complex, each part uniform in [-1, 1).
template <class T>
std::vector<T> Random(Rng& rng, size_t n) {
  std::vector<T> v(n);
  for (T& x : v) {
    const double re = rng.Double(-1.0, 1.0);
    x = FromWide<T>(Wide(re, kIsComplex<T> ? rng.Double(-1.0, 1.0) : 0.0));
  }
  return v;
}

// What cuBLAS takes for a T*: T* itself when real, cuComplex* or
// cuDoubleComplex* when complex.
template <class T>
auto Arg(T* p) {
  if constexpr (kIsComplex<T>) {
    return Cu(p);
  } else {
    return p;
  }
}

// Element i of a strided vector of n, BLAS style (a negative increment
// walks it from the end).
inline size_t StridedIndex(int i, int n, int inc) { return inc > 0 ? size_t(i) * inc : size_t(n - 1 - i) * -inc; }

// A dense column-major matrix in double precision, the host references'
// form: band and packed storage are built from it.
struct Dense {
  int rows, cols;
  std::vector<Wide> v;
  Dense(int r, int c) : rows(r), cols(c), v(size_t(r) * c, 0) {}
  Wide& operator()(int r, int c) { return v[r + size_t(c) * rows]; }
  Wide operator()(int r, int c) const { return v[r + size_t(c) * rows]; }
};

// op(a)(r, c) for op N, T or C.
inline Wide Apply(cublasOperation_t op, const Dense& a, int r, int c) {
  if (op == CUBLAS_OP_N) return a(r, c);
  return op == CUBLAS_OP_C ? std::conj(a(c, r)) : a(c, r);
}

// alpha op_l(L) op_r(R).
inline Dense Product(Wide alpha, cublasOperation_t op_l, const Dense& l, cublasOperation_t op_r, const Dense& r) {
  const int m = op_l == CUBLAS_OP_N ? l.rows : l.cols, k = op_l == CUBLAS_OP_N ? l.cols : l.rows,
            n = op_r == CUBLAS_OP_N ? r.cols : r.rows;
  Dense c(m, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      Wide acc = 0;
      for (int p = 0; p < k; ++p) acc += Apply(op_l, l, i, p) * Apply(op_r, r, p, j);
      c(i, j) = alpha * acc;
    }
  return c;
}

// The `lower` or upper triangle of square `a`, packed column by column.
template <class T>
std::vector<T> PackedStorage(const Dense& a, bool lower) {
  std::vector<T> s;
  for (int j = 0; j < a.cols; ++j)
    for (int i = lower ? j : 0; i < (lower ? a.rows : j + 1); ++i) s.push_back(FromWide<T>(a(i, j)));
  return s;
}

// `a` in full column-major storage of leading dimension ld >= rows, the
// rows below a.rows holding `fill`.
template <class T>
std::vector<T> FullStorage(const Dense& a, int ld, Wide fill = 0) {
  std::vector<T> s(size_t(ld) * a.cols, FromWide<T>(fill));
  for (int j = 0; j < a.cols; ++j)
    for (int i = 0; i < a.rows; ++i) s[i + size_t(j) * ld] = FromWide<T>(a(i, j));
  return s;
}

// `s`, full column-major storage of leading dimension ld, as a Dense rows x cols.
template <class T>
Dense FromStorage(const std::vector<T>& s, int rows, int cols, int ld) {
  Dense a(rows, cols);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) a(i, j) = ToWide(s[i + size_t(j) * ld]);
  return a;
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

// A random rows x cols matrix of T's values (each part in [-1, 1)), with
// `diagonal` added to its diagonal.
template <class T>
Dense RandomDense(Rng& rng, int rows, int cols, double diagonal = 0) {
  Dense d = FromStorage(Random<T>(rng, size_t(rows) * cols), rows, cols, rows);
  for (int i = 0; i < rows && i < cols; ++i) d(i, i) += diagonal;
  return d;
}

// `got` (read back as T) within T's tolerance of `want`, element by element.
template <class T>
void ExpectMatrix(const Dense& got, const Dense& want, const char* what) {
  std::vector<T> narrow;
  for (const Wide& v : got.v) narrow.push_back(FromWide<T>(v));
  ExpectNear(narrow, want.v, what);
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
