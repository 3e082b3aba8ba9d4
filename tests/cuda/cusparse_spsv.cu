// cusparse_spsv: an unmodified cuSPARSE program's sparse triangular solves
// (linked with NVIDIA's libcusparse.so.12; through rcuda it binds to
// rcuda's, client/libs/), the step a preconditioned solver takes: on a
// stream of the program's, a random sparse triangular 40 x 40 CSR matrix
// with a dominant diagonal, its fill mode and diagonal type set with
// cusparseSpMatSetAttribute, an SpSV descriptor (SpSV_createDescr), its
// buffer (SpSV_bufferSize), SpSV_analysis and SpSV_solve of op(A) y = alpha x
// for
//   * lower, op(A) = A and A^T, in double and float;
//   * upper, op(A) = A;
//   * strictly lower entries only with a unit diagonal (none stored);
//   * a second right-hand side solved with the same analysis;
// each solution checked by its residual ||op(A) y - alpha x|| against a host
// product; and SpSM (SpSM_createDescr, bufferSize, analysis, solve) of
// op(A) C = alpha op(B) for three right-hand sides at once, op(A) and op(B)
// plain or transposed, each column checked the same way. The solutions go
// in the checksum.
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): a solve before any analysis, a solve after the
// analysis's buffer was freed, a matrix that is not square, an attribute of
// the wrong size and a buffer short of the query's answer are refused with
// CUSPARSE_STATUS_INVALID_VALUE (SpSM's too: a solve before its analysis, C
// of the wrong shape, a short buffer), and the session still serves.
#include <cusparse.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "device_vectors.h"
#include "library_session.h"
#include "test_util.h"

#define CUSPARSE_CHECK(call) RTEST_LIBRARY_CHECK("cuSPARSE", call)
#define CUSPARSE_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuSPARSE", call, expected)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

constexpr int kN = 40;

template <class T>
constexpr cudaDataType kType = sizeof(T) == 4 ? CUDA_R_32F : CUDA_R_64F;
template <class T>
constexpr double kTolerance = sizeof(T) == 4 ? 1e-4 : 1e-12;

// A triangular CSR matrix on the host (zero-based): the `lower` or upper
// triangle, about a quarter of its off-diagonal entries, the diagonal 4 to
// 5 (or not stored, `stored_diagonal` false).
struct Csr {
  std::vector<int> offsets, columns;
  std::vector<double> values;
  double At(int r, int c) const {
    for (int k = offsets[r]; k < offsets[r + 1]; ++k)
      if (columns[k] == c) return values[k];
    return 0;
  }
};

Csr Triangular(rtest::Rng& rng, bool lower, bool stored_diagonal) {
  Csr a;
  a.offsets.push_back(0);
  for (int r = 0; r < kN; ++r) {
    for (int c = 0; c < kN; ++c) {
      const bool inside = lower ? c < r : c > r;
      if (c == r && stored_diagonal) {
        a.columns.push_back(c);
        a.values.push_back(4 + rng.Double(0, 1));
      } else if (inside && rng.Int(0, 3) == 0) {
        a.columns.push_back(c);
        a.values.push_back(rng.Double(-1, 1));
      }
    }
    a.offsets.push_back(static_cast<int>(a.columns.size()));
  }
  return a;
}

struct Matrix {
  int *offsets = nullptr, *columns = nullptr;
  void* values = nullptr;
  cusparseSpMatDescr_t descr = nullptr;
};

template <class T>
Matrix Upload(const Csr& a, cusparseFillMode_t fill, cusparseDiagType_t diag) {
  Matrix m;
  m.offsets = ToDevice(a.offsets);
  m.columns = ToDevice(a.columns);
  std::vector<T> values(a.values.begin(), a.values.end());
  m.values = ToDevice(values);
  CUSPARSE_CHECK(cusparseCreateCsr(&m.descr, kN, kN, int64_t(a.columns.size()), m.offsets, m.columns, m.values,
                                   CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, kType<T>));
  CUSPARSE_CHECK(cusparseSpMatSetAttribute(m.descr, CUSPARSE_SPMAT_FILL_MODE, &fill, sizeof fill));
  CUSPARSE_CHECK(cusparseSpMatSetAttribute(m.descr, CUSPARSE_SPMAT_DIAG_TYPE, &diag, sizeof diag));
  return m;
}

void Free(Matrix& m) {
  CUSPARSE_CHECK(cusparseDestroySpMat(m.descr));
  for (void* p : {static_cast<void*>(m.offsets), static_cast<void*>(m.columns), m.values}) CUDA_CHECK(cudaFree(p));
}

// Solves op(A) y = alpha x for `rhs` right-hand sides with one analysis,
// each checked by its residual.
template <class T>
void Solve(cusparseHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum, bool lower,
           cusparseOperation_t op, bool unit, int rhs, const char* what) {
  const Csr a = Triangular(rng, lower, !unit);
  Matrix m = Upload<T>(a, lower ? CUSPARSE_FILL_MODE_LOWER : CUSPARSE_FILL_MODE_UPPER,
                       unit ? CUSPARSE_DIAG_TYPE_UNIT : CUSPARSE_DIAG_TYPE_NON_UNIT);
  std::vector<T> x(kN);
  for (T& v : x) v = static_cast<T>(rng.Double(-1, 1));
  T* dx = ToDevice(x);
  T* dy = ToDevice(std::vector<T>(kN, T(0)));
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr;
  CUSPARSE_CHECK(cusparseCreateDnVec(&vx, kN, dx, kType<T>));
  CUSPARSE_CHECK(cusparseCreateDnVec(&vy, kN, dy, kType<T>));
  cusparseSpSVDescr_t spsv = nullptr;
  CUSPARSE_CHECK(cusparseSpSV_createDescr(&spsv));
  const T alpha = static_cast<T>(1.5);
  size_t bytes = 0;
  CUSPARSE_CHECK(cusparseSpSV_bufferSize(h, op, &alpha, m.descr, vx, vy, kType<T>, CUSPARSE_SPSV_ALG_DEFAULT, spsv,
                                         &bytes));
  void* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes ? bytes : 1));
  CUSPARSE_CHECK(cusparseSpSV_analysis(h, op, &alpha, m.descr, vx, vy, kType<T>, CUSPARSE_SPSV_ALG_DEFAULT, spsv,
                                       buffer));
  const bool transposed = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  for (int r = 0; r < rhs; ++r) {
    if (r > 0) {  // a new right-hand side, the same analysis
      for (T& v : x) v = static_cast<T>(rng.Double(-1, 1));
      CUDA_CHECK(cudaMemcpy(dx, x.data(), kN * sizeof(T), cudaMemcpyHostToDevice));
    }
    CUSPARSE_CHECK(cusparseSpSV_solve(h, op, &alpha, m.descr, vx, vy, kType<T>, CUSPARSE_SPSV_ALG_DEFAULT, spsv));
    const std::vector<T> y = FromDevice(dy, kN, stream);
    double worst = 0, scale = 0;
    for (int i = 0; i < kN; ++i) {
      double acc = 0;
      for (int j = 0; j < kN; ++j) {
        const int row = transposed ? j : i, col = transposed ? i : j;
        const bool inside = row == col || (lower ? col < row : col > row);
        const double aij = row == col && unit ? 1.0 : inside ? a.At(row, col) : 0.0;
        acc += aij * double(y[j]);
      }
      worst = std::max(worst, std::fabs(acc - double(alpha) * double(x[i])));
      scale = std::max(scale, std::fabs(double(alpha) * double(x[i])));
    }
    CHECKF(worst <= kTolerance<T> * (1 + scale), "SpSV %s (%zu-byte), right-hand side %d: residual %g", what, sizeof(T),
           r, worst);
    sum.AddVector(y);
  }
  CUSPARSE_CHECK(cusparseSpSV_destroyDescr(spsv));
  CUSPARSE_CHECK(cusparseDestroyDnVec(vx));
  CUSPARSE_CHECK(cusparseDestroyDnVec(vy));
  Free(m);
  for (void* p : {static_cast<void*>(dx), static_cast<void*>(dy), buffer}) CUDA_CHECK(cudaFree(p));
}

// SpSM: op(A) C = alpha op(B) for kRhs right-hand sides at once (B kN x
// kRhs, or kRhs x kN when op(B) transposes it; leading dimensions with a
// row of padding), each column checked by its residual.
constexpr int kRhs = 3;

template <class T>
void SolveMany(cusparseHandle_t h, cudaStream_t stream, rtest::Rng& rng, rtest::Checksum& sum, bool lower,
               cusparseOperation_t op_a, cusparseOperation_t op_b, const char* what) {
  const Csr a = Triangular(rng, lower, true);
  Matrix m = Upload<T>(a, lower ? CUSPARSE_FILL_MODE_LOWER : CUSPARSE_FILL_MODE_UPPER, CUSPARSE_DIAG_TYPE_NON_UNIT);
  const bool tb = op_b != CUSPARSE_OPERATION_NON_TRANSPOSE, ta = op_a != CUSPARSE_OPERATION_NON_TRANSPOSE;
  const int b_rows = tb ? kRhs : kN, b_cols = tb ? kN : kRhs, ldb = b_rows + 1, ldc = kN + 1;
  std::vector<T> b(size_t(ldb) * b_cols);
  for (T& v : b) v = static_cast<T>(rng.Double(-1, 1));
  T* db = ToDevice(b);
  T* dc = ToDevice(std::vector<T>(size_t(ldc) * kRhs, T(0)));
  cusparseDnMatDescr_t mb = nullptr, mc = nullptr;
  CUSPARSE_CHECK(cusparseCreateDnMat(&mb, b_rows, b_cols, ldb, db, kType<T>, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&mc, kN, kRhs, ldc, dc, kType<T>, CUSPARSE_ORDER_COL));
  cusparseSpSMDescr_t spsm = nullptr;
  CUSPARSE_CHECK(cusparseSpSM_createDescr(&spsm));
  const T alpha = static_cast<T>(-0.75);
  const auto alg = CUSPARSE_SPSM_ALG_DEFAULT;
  size_t bytes = 0;
  CUSPARSE_CHECK(cusparseSpSM_bufferSize(h, op_a, op_b, &alpha, m.descr, mb, mc, kType<T>, alg, spsm, &bytes));
  void* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes ? bytes : 1));
  CUSPARSE_CHECK(cusparseSpSM_analysis(h, op_a, op_b, &alpha, m.descr, mb, mc, kType<T>, alg, spsm, buffer));
  CUSPARSE_CHECK(cusparseSpSM_solve(h, op_a, op_b, &alpha, m.descr, mb, mc, kType<T>, alg, spsm));
  const std::vector<T> c = FromDevice(dc, size_t(ldc) * kRhs, stream);
  for (int col = 0; col < kRhs; ++col) {
    double worst = 0, scale = 0;
    for (int i = 0; i < kN; ++i) {
      double acc = 0;
      for (int j = 0; j < kN; ++j) {
        const int row = ta ? j : i, column = ta ? i : j;
        const bool inside = row == column || (lower ? column < row : column > row);
        acc += (inside ? a.At(row, column) : 0.0) * double(c[j + size_t(col) * ldc]);
      }
      const double rhs = double(alpha) * double(tb ? b[col + size_t(i) * ldb] : b[i + size_t(col) * ldb]);
      worst = std::max(worst, std::fabs(acc - rhs));
      scale = std::max(scale, std::fabs(rhs));
    }
    CHECKF(worst <= kTolerance<T> * (1 + scale), "SpSM %s (%zu-byte), column %d: residual %g", what, sizeof(T), col,
           worst);
  }
  sum.AddVector(c);
  CUSPARSE_CHECK(cusparseSpSM_destroyDescr(spsm));
  CUSPARSE_CHECK(cusparseDestroyDnMat(mb));
  CUSPARSE_CHECK(cusparseDestroyDnMat(mc));
  Free(m);
  for (void* p : {static_cast<void*>(db), static_cast<void*>(dc), buffer}) CUDA_CHECK(cudaFree(p));
}

// SpSM's refusals: a solve before any analysis, C of the wrong shape, a
// buffer short of the query's answer.
void SpSMSessionChecks(cusparseHandle_t h, rtest::Rng& rng) {
  const auto kInvalid = CUSPARSE_STATUS_INVALID_VALUE;
  const auto n = CUSPARSE_OPERATION_NON_TRANSPOSE;
  const auto alg = CUSPARSE_SPSM_ALG_DEFAULT;
  Matrix m = Upload<double>(Triangular(rng, true, true), CUSPARSE_FILL_MODE_LOWER, CUSPARSE_DIAG_TYPE_NON_UNIT);
  double* db = ToDevice(std::vector<double>(size_t(kN) * kRhs, 1.0));
  double* dc = ToDevice(std::vector<double>(size_t(kN) * kRhs, 0.0));
  cusparseDnMatDescr_t mb = nullptr, mc = nullptr, short_c = nullptr;
  CUSPARSE_CHECK(cusparseCreateDnMat(&mb, kN, kRhs, kN, db, CUDA_R_64F, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&mc, kN, kRhs, kN, dc, CUDA_R_64F, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&short_c, kN - 1, kRhs, kN, dc, CUDA_R_64F, CUSPARSE_ORDER_COL));
  cusparseSpSMDescr_t spsm = nullptr;
  CUSPARSE_CHECK(cusparseSpSM_createDescr(&spsm));
  const double alpha = 1.0;
  CUSPARSE_EXPECT(cusparseSpSM_solve(h, n, n, &alpha, m.descr, mb, mc, CUDA_R_64F, alg, spsm), kInvalid);
  size_t bytes = 0;
  CUSPARSE_EXPECT(cusparseSpSM_bufferSize(h, n, n, &alpha, m.descr, mb, short_c, CUDA_R_64F, alg, spsm, &bytes),
                  kInvalid);
  CUSPARSE_CHECK(cusparseSpSM_bufferSize(h, n, n, &alpha, m.descr, mb, mc, CUDA_R_64F, alg, spsm, &bytes));
  char* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes ? bytes : 1));
  if (bytes > 0)
    CUSPARSE_EXPECT(cusparseSpSM_analysis(h, n, n, &alpha, m.descr, mb, mc, CUDA_R_64F, alg, spsm, buffer + 1),
                    kInvalid);
  CUSPARSE_CHECK(cusparseSpSM_analysis(h, n, n, &alpha, m.descr, mb, mc, CUDA_R_64F, alg, spsm, buffer));
  CUSPARSE_CHECK(cusparseSpSM_solve(h, n, n, &alpha, m.descr, mb, mc, CUDA_R_64F, alg, spsm));
  CUSPARSE_CHECK(cusparseSpSM_destroyDescr(spsm));
  for (cusparseDnMatDescr_t d : {mb, mc, short_c}) CUSPARSE_CHECK(cusparseDestroyDnMat(d));
  Free(m);
  for (void* p : {static_cast<void*>(db), static_cast<void*>(dc), static_cast<void*>(buffer)}) CUDA_CHECK(cudaFree(p));
}

// The worker's refusals, and the session still serving after them.
void SessionChecks(cusparseHandle_t h, cudaStream_t stream, rtest::Rng& rng) {
  CHECKF(rtest::PrivateLibraryCall() != nullptr, "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  const auto kInvalid = CUSPARSE_STATUS_INVALID_VALUE;
  const auto op = CUSPARSE_OPERATION_NON_TRANSPOSE;
  const auto alg = CUSPARSE_SPSV_ALG_DEFAULT;
  Matrix m = Upload<double>(Triangular(rng, true, true), CUSPARSE_FILL_MODE_LOWER, CUSPARSE_DIAG_TYPE_NON_UNIT);
  // An attribute of the wrong size (8 bytes for a 4-byte enum).
  const int64_t wide = CUSPARSE_FILL_MODE_UPPER;
  CUSPARSE_EXPECT(cusparseSpMatSetAttribute(m.descr, CUSPARSE_SPMAT_FILL_MODE, const_cast<int64_t*>(&wide), sizeof wide),
                  kInvalid);
  double* dx = ToDevice(std::vector<double>(kN, 1.0));
  double* dy = ToDevice(std::vector<double>(kN, 0.0));
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr;
  CUSPARSE_CHECK(cusparseCreateDnVec(&vx, kN, dx, CUDA_R_64F));
  CUSPARSE_CHECK(cusparseCreateDnVec(&vy, kN, dy, CUDA_R_64F));
  cusparseSpSVDescr_t spsv = nullptr;
  CUSPARSE_CHECK(cusparseSpSV_createDescr(&spsv));
  const double alpha = 1.0;
  // A solve before any analysis.
  CUSPARSE_EXPECT(cusparseSpSV_solve(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv), kInvalid);
  // A matrix that is not square (kN x kN - 1, the same arrays).
  cusparseSpMatDescr_t wide_matrix = nullptr;
  CUSPARSE_CHECK(cusparseCreateCsr(&wide_matrix, kN, kN - 1, 0, m.offsets, nullptr, nullptr, CUSPARSE_INDEX_32I,
                                   CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_64F));
  size_t bytes = 0;
  CUSPARSE_EXPECT(cusparseSpSV_bufferSize(h, op, &alpha, wide_matrix, vx, vy, CUDA_R_64F, alg, spsv, &bytes),
                  kInvalid);
  CUSPARSE_CHECK(cusparseDestroySpMat(wide_matrix));
  CUSPARSE_CHECK(cusparseSpSV_bufferSize(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv, &bytes));
  char* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes ? bytes : 1));
  // A buffer short of the query's answer (when it asks for any).
  if (bytes > 0) {
    CUSPARSE_EXPECT(cusparseSpSV_analysis(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv, buffer + 1),
                    kInvalid);
  }
  CUSPARSE_CHECK(cusparseSpSV_analysis(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv, buffer));
  CUSPARSE_CHECK(cusparseSpSV_solve(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv));
  // The analysis's buffer freed: the solve would work in freed memory.
  if (bytes > 0) {
    CUDA_CHECK(cudaFree(buffer));
    buffer = nullptr;
    CUSPARSE_EXPECT(cusparseSpSV_solve(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv), kInvalid);
  }
  CUSPARSE_CHECK(cusparseSpSV_destroyDescr(spsv));
  // A destroyed descriptor is gone.
  CUSPARSE_EXPECT(cusparseSpSV_solve(h, op, &alpha, m.descr, vx, vy, CUDA_R_64F, alg, spsv), kInvalid);
  CUSPARSE_CHECK(cusparseDestroyDnVec(vx));
  CUSPARSE_CHECK(cusparseDestroyDnVec(vy));
  Free(m);
  for (void* p : {static_cast<void*>(dx), static_cast<void*>(dy), static_cast<void*>(buffer)})
    if (p) CUDA_CHECK(cudaFree(p));
  SpSMSessionChecks(h, rng);
  // Still serving.
  rtest::Checksum ignored;
  Solve<double>(h, stream, rng, ignored, true, op, false, 1, "after the refusals");
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Rng rng = rtest::Init("cusparse_spsv");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cusparseHandle_t h = nullptr;
  CUSPARSE_CHECK(cusparseCreate(&h));
  CUSPARSE_CHECK(cusparseSetStream(h, stream));
  const auto n = CUSPARSE_OPERATION_NON_TRANSPOSE, t = CUSPARSE_OPERATION_TRANSPOSE;
  Solve<double>(h, stream, rng, sum, /*lower=*/true, n, /*unit=*/false, 2, "lower");
  Solve<double>(h, stream, rng, sum, /*lower=*/true, t, /*unit=*/false, 1, "lower, transposed");
  Solve<double>(h, stream, rng, sum, /*lower=*/false, n, /*unit=*/false, 1, "upper");
  Solve<double>(h, stream, rng, sum, /*lower=*/true, n, /*unit=*/true, 1, "unit lower");
  Solve<float>(h, stream, rng, sum, /*lower=*/true, n, /*unit=*/false, 1, "lower");
  Solve<float>(h, stream, rng, sum, /*lower=*/false, t, /*unit=*/false, 1, "upper, transposed");
  SolveMany<double>(h, stream, rng, sum, /*lower=*/true, n, n, "lower");
  SolveMany<double>(h, stream, rng, sum, /*lower=*/false, t, t, "upper, op(A) and op(B) transposed");
  SolveMany<float>(h, stream, rng, sum, /*lower=*/true, t, n, "lower, op(A) transposed");
  if (session_checks) SessionChecks(h, stream, rng);
  CUSPARSE_CHECK(cusparseDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
