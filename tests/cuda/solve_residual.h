// The relative residual of a dense solve, shared by the cuSOLVER test
// programs (cusolver_solve, cusolver_x): ||op(A) X - B|| / (||A|| ||X||) in
// Frobenius norms, A n x n column-major with leading dimension lda, X and B
// n x nrhs with leading dimension ldb, op(A) = A or A^T.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace rtest {

template <class T>
double SolveResidual(int64_t n, int64_t nrhs, const std::vector<T>& a, int64_t lda, bool transposed,
                     const std::vector<T>& x, const std::vector<T>& b, int64_t ldb) {
  double r = 0, na = 0, nx = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i) na += double(a[i + j * lda]) * double(a[i + j * lda]);
  for (int64_t c = 0; c < nrhs; ++c)
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k)
        s += double(transposed ? a[k + i * lda] : a[i + k * lda]) * double(x[k + c * ldb]);
      r += (s - double(b[i + c * ldb])) * (s - double(b[i + c * ldb]));
      nx += double(x[i + c * ldb]) * double(x[i + c * ldb]);
    }
  return std::sqrt(r) / (std::sqrt(na) * std::sqrt(nx));
}

}  // namespace rtest
