// TEST EQUIPMENT: what the host cuBLAS double's loops in double precision
// share (fake_cublas_complex.cc, _hermitian.cc, _packed.cc, _band.cc,
// _symmetric.cc): every element widened to std::complex<double>, real or
// complex, and narrowed back to the caller's type; the fill and diagonal
// checks; packed and triangle indexing. See fake_cublas.cc.
#pragma once

#include <complex>
#include <type_traits>
#include <vector>

#include "tests/fake_libs/cublas/fake_cublas.h"

namespace rcuda::fake_cublas {

using Wide = std::complex<double>;

template <class E>
Wide W(const E& v) {
  if constexpr (std::is_arithmetic_v<E>) {
    return Wide(v, 0);
  } else {
    return Wide(v.real(), v.imag());
  }
}
template <class E>
E Narrow(const Wide& v) {
  if constexpr (std::is_arithmetic_v<E>) {
    return static_cast<E>(v.real());
  } else {
    using R = typename E::value_type;
    return E(static_cast<R>(v.real()), static_cast<R>(v.imag()));
  }
}

inline bool ValidFill(cublasFillMode_t uplo) {
  return uplo == CUBLAS_FILL_MODE_LOWER || uplo == CUBLAS_FILL_MODE_UPPER;
}
inline bool ValidDiag(cublasDiagType_t diag) { return diag == CUBLAS_DIAG_UNIT || diag == CUBLAS_DIAG_NON_UNIT; }
inline bool ValidSide(cublasSideMode_t side) { return side == CUBLAS_SIDE_LEFT || side == CUBLAS_SIDE_RIGHT; }

// The index of element (i, j) of a packed n x n triangle (i >= j lower,
// i <= j upper), stored column by column.
inline long long PackedIndex(bool lower, int n, int i, int j) {
  return lower ? i + (2ll * n - j - 1) * j / 2 : i + static_cast<long long>(j) * (j + 1) / 2;
}

// Element (i, j) of a column-major matrix of leading dimension ld.
inline long long Index(int i, int j, int ld) { return i + static_cast<long long>(j) * ld; }

// Calls fn(i, j) for each element of the n x n `uplo` triangle.
template <class Fn>
void ForTriangle(cublasFillMode_t uplo, int n, const Fn& fn) {
  const bool lower = uplo == CUBLAS_FILL_MODE_LOWER;
  for (int j = 0; j < n; ++j)
    for (int i = lower ? j : 0; i < (lower ? n : j + 1); ++i) fn(i, j);
}

// y = alpha op(A) x + beta y, once the handle's stream reached the call: A
// rows x cols, its element (r, c) at(r, c) (a Wide); op from `trans`.
template <class E, class Element>
cublasStatus_t MatVec(cublasHandle_t h, cublasOperation_t trans, int rows, int cols, const E* alpha,
                      const Element& at, const E* x, int incx, const E* beta, E* y, int incy) {
  return OnStream(h, [&] {
    const bool t = Transposed(trans), conj = trans == CUBLAS_OP_C;
    const int out_n = t ? cols : rows, in_n = t ? rows : cols;
    std::vector<Wide> out(out_n);
    for (int i = 0; i < out_n; ++i) {
      Wide sum = 0;
      for (int j = 0; j < in_n; ++j) {
        const Wide e = t ? at(j, i) : at(i, j);
        sum += (conj ? std::conj(e) : e) * W(x[At(j, in_n, incx)]);
      }
      const Wide b = W(*beta);
      out[i] = b == Wide(0) ? W(*alpha) * sum : W(*alpha) * sum + b * W(y[At(i, out_n, incy)]);
    }
    for (int i = 0; i < out_n; ++i) y[At(i, out_n, incy)] = Narrow<E>(out[i]);
  });
}

}  // namespace rcuda::fake_cublas
