// cusparse_spmv: an unmodified cuSPARSE program (linked with NVIDIA's
// libcusparse.so.12; through rcuda it binds to rcuda's, client/libs/). On a
// stream of the program's, in single and double precision, the generic
// API's CSR sparse matrix-vector product y = alpha op(A) x + beta y
// (cusparseCreateCsr, cusparseCreateDnVec, SpMV_bufferSize, SpMV) of a
// random 37 x 29 sparse matrix (about a fifth of its entries, fixed seed,
// two empty rows) with alpha = 1.5, beta = -0.75:
//   * op(A) = A and A^T, 32-bit zero-based indices, host pointer mode;
//   * A again with alpha and beta in device memory (device pointer mode);
//   * in double, the const descriptors with 64-bit one-based indices;
// and the matrix-matrix product C = alpha op(A) B + beta C (CreateDnMat,
// SpMM_bufferSize, SpMM) with column-major B and C of 3 columns and padded
// leading dimensions, op(A) = A and A^T; and A written out dense
// (SparseToDense_bufferSize, SparseToDense) into column- and row-major
// matrices whose padding must stay untouched; A stored as COO
// (cusparseCreateCoo, CreateConstCoo: 32- and 64-bit indices, zero- and
// one-based) and as CSC (cusparseCreateCsc) for SpMV and SparseToDense;
// each result checked element by element against a host reference in double
// precision (|error| <= tolerance * (|alpha| sum |a x| + |beta y|)). The
// products of A go in the checksum, so native and remote runs on one GPU
// compare (CUSPARSE_SPMV_CSR_ALG2: bitwise the same from run to run); those
// of A^T do not (cuSPARSE's transposed SpMV may differ from run to run).
// With --session-checks (the remote runs: rcuda's worker checks what the
// native library does not): arrays beyond their allocation at descriptor
// creation, an array freed after it, made-up descriptors and descriptors of
// the wrong class, vectors and dense matrices of the wrong shape, a dense
// matrix beyond its allocation or with a short leading dimension, an
// external buffer shorter
// than SpMV_bufferSize's answer, an unknown compute type, a device-mode
// alpha outside the session's memory and an unknown function id are refused
// with CUSPARSE_STATUS_INVALID_VALUE, and the session still serves.
#include <cusparse.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "library_session.h"
#include "device_vectors.h"
#include "test_util.h"

#define CUSPARSE_CHECK(call) RTEST_LIBRARY_CHECK("cuSPARSE", call)
#define CUSPARSE_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuSPARSE", call, expected)

namespace {

using rtest::FromDevice;
using rtest::ToDevice;

constexpr int64_t kRows = 37, kCols = 29;
constexpr uint64_t kSeed = 0x5ba75e0013;  // the matrix and vectors (RCUDA_TEST_SEED overrides it)
constexpr double kAlpha = 1.5, kBeta = -0.75;

template <class T>
struct Precision;
template <>
struct Precision<float> {
  static constexpr cudaDataType kType = CUDA_R_32F;
  static constexpr double kTolerance = 1e-5;  // float: eps 1.2e-7, rows of ~8 products
  static constexpr const char* kName = "float";
};
template <>
struct Precision<double> {
  static constexpr cudaDataType kType = CUDA_R_64F;
  static constexpr double kTolerance = 1e-13;
  static constexpr const char* kName = "double";
};

// A CSR matrix on the host: zero-based offsets and column indices.
struct Csr {
  std::vector<int64_t> offsets, columns;
  std::vector<double> values;
};

Csr RandomCsr(rtest::Rng& rng) {
  Csr a;
  a.offsets.push_back(0);
  for (int64_t r = 0; r < kRows; ++r) {
    const bool empty = r == 3 || r == kRows - 1;  // rows with no entry
    for (int64_t c = 0; c < kCols && !empty; ++c) {
      if (rng.Int(0, 4) != 0) continue;
      a.columns.push_back(c);
      a.values.push_back(rng.Double(-1.0, 1.0));
    }
    a.offsets.push_back(static_cast<int64_t>(a.columns.size()));
  }
  return a;
}

template <class T, class From>
std::vector<T> Cast(const std::vector<From>& v, From add = From(0)) {
  std::vector<T> out;
  for (const From& x : v) out.push_back(static_cast<T>(x + add));
  return out;
}

// Checks y = alpha op(A) x + beta y0 (the values rounded to T, as stored).
template <class T>
void CheckProduct(const Csr& a, bool transposed, const std::vector<T>& x, const std::vector<T>& y0,
                  const std::vector<T>& y, const char* what) {
  std::vector<double> exact(y0.size(), 0.0), scale(y0.size(), 0.0);
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t k = a.offsets[r]; k < a.offsets[r + 1]; ++k) {
      const double v = static_cast<double>(static_cast<T>(a.values[k]));
      const int64_t c = a.columns[k];
      const int64_t out = transposed ? c : r, in = transposed ? r : c;
      exact[out] += v * double(x[in]);
      scale[out] += std::fabs(v * double(x[in]));
    }
  }
  for (size_t i = 0; i < y0.size(); ++i) {
    const double want = kAlpha * exact[i] + kBeta * double(y0[i]);
    const double bound = Precision<T>::kTolerance * (std::fabs(kAlpha) * scale[i] + std::fabs(kBeta * double(y0[i])));
    CHECKF(std::fabs(double(y[i]) - want) <= bound + 1e-30, "%s %s: y[%zu] = %.17g, expected %.17g",
           Precision<T>::kName, what, i, double(y[i]), want);
  }
  std::printf("%-6s %-32s: %zu elements match the host reference\n", Precision<T>::kName, what, y0.size());
}

// One SpMV of `mat` (kRows x kCols, values of T) with fresh x and y,
// checked; alpha and beta on the host or, with `device_scalars`, on the device.
template <class T>
void Multiply(cusparseHandle_t h, cudaStream_t stream, cusparseConstSpMatDescr_t mat, const Csr& a,
              cusparseOperation_t op, bool device_scalars, bool const_x, rtest::Rng& rng, rtest::Checksum& sum,
              const char* what) {
  const cudaDataType type = Precision<T>::kType;
  const bool transposed = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  std::vector<T> x(transposed ? kRows : kCols), y0(transposed ? kCols : kRows);
  for (T& v : x) v = T(rng.Double(-1.0, 1.0));
  for (T& v : y0) v = T(rng.Double(-1.0, 1.0));
  T* d_x = ToDevice(x);
  T* d_y = ToDevice(y0);
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr;
  cusparseConstDnVecDescr_t cx = nullptr;
  if (const_x) {
    CUSPARSE_CHECK(cusparseCreateConstDnVec(&cx, int64_t(x.size()), d_x, type));
  } else {
    CUSPARSE_CHECK(cusparseCreateDnVec(&vx, int64_t(x.size()), d_x, type));
    cx = vx;
  }
  CUSPARSE_CHECK(cusparseCreateDnVec(&vy, int64_t(y0.size()), d_y, type));
  const T alpha = T(kAlpha), beta = T(kBeta);
  const T *p_alpha = &alpha, *p_beta = &beta;
  T* d_scalars = nullptr;
  if (device_scalars) {
    d_scalars = ToDevice(std::vector<T>{alpha, beta});
    p_alpha = d_scalars;
    p_beta = d_scalars + 1;
    CUSPARSE_CHECK(cusparseSetPointerMode(h, CUSPARSE_POINTER_MODE_DEVICE));
  }
  const cusparseSpMVAlg_t alg = transposed ? CUSPARSE_SPMV_ALG_DEFAULT : CUSPARSE_SPMV_CSR_ALG2;
  size_t bytes = 0;
  CUSPARSE_CHECK(cusparseSpMV_bufferSize(h, op, p_alpha, mat, cx, p_beta, vy, type, alg, &bytes));
  void* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes > 0 ? bytes : 1));
  CUSPARSE_CHECK(cusparseSpMV(h, op, p_alpha, mat, cx, p_beta, vy, type, alg, buffer));
  std::vector<T> y = FromDevice(d_y, y0.size(), stream);
  if (device_scalars) {
    cusparsePointerMode_t mode = CUSPARSE_POINTER_MODE_HOST;
    CUSPARSE_CHECK(cusparseGetPointerMode(h, &mode));
    CHECKF(mode == CUSPARSE_POINTER_MODE_DEVICE, "cusparseGetPointerMode: %d", int(mode));
    CUSPARSE_CHECK(cusparseSetPointerMode(h, CUSPARSE_POINTER_MODE_HOST));
    CUDA_CHECK(cudaFree(d_scalars));
  }
  CheckProduct(a, transposed, x, y0, y, what);
  if (!transposed) sum.AddVector(y);
  CUSPARSE_CHECK(cusparseDestroyDnVec(cx));
  CUSPARSE_CHECK(cusparseDestroyDnVec(vy));
  for (void* p : {static_cast<void*>(d_x), static_cast<void*>(d_y), buffer}) CUDA_CHECK(cudaFree(p));
}

template <class T>
void SpMV(cusparseHandle_t h, cudaStream_t stream, const Csr& a, rtest::Rng& rng, rtest::Checksum& sum) {
  const cudaDataType type = Precision<T>::kType;
  const int64_t nnz = int64_t(a.columns.size());
  int* d_offsets = ToDevice(Cast<int>(a.offsets));
  int* d_columns = ToDevice(Cast<int>(a.columns));
  T* d_values = ToDevice(Cast<T>(a.values));
  cusparseSpMatDescr_t mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateCsr(&mat, kRows, kCols, nnz, d_offsets, d_columns, d_values, CUSPARSE_INDEX_32I,
                                   CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, type));
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, false, rng, sum, "A x");
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_TRANSPOSE, false, false, rng, sum, "A^T x");
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, true, false, rng, sum, "A x, device scalars");
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  for (void* p : {static_cast<void*>(d_offsets), static_cast<void*>(d_columns), static_cast<void*>(d_values)})
    CUDA_CHECK(cudaFree(p));
}

// A written out dense (SparseToDense) into a column-major and a row-major
// matrix with padded leading dimensions, whose padding holds a marker the
// conversion must leave alone; every element checked against A.
std::vector<int64_t> RowIndices(const Csr& a);

// A in compressed sparse columns: column offsets, row indices, values.
struct Csc {
  std::vector<int64_t> offsets, rows;
  std::vector<double> values;
};

Csc ToCsc(const Csr& a) {
  Csc c;
  c.offsets.assign(kCols + 1, 0);
  for (int64_t col : a.columns) ++c.offsets[col + 1];
  for (int64_t j = 0; j < kCols; ++j) c.offsets[j + 1] += c.offsets[j];
  c.rows.resize(a.columns.size());
  c.values.resize(a.columns.size());
  std::vector<int64_t> next(c.offsets.begin(), c.offsets.end() - 1);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t k = a.offsets[r]; k < a.offsets[r + 1]; ++k) {
      const int64_t at = next[a.columns[k]]++;
      c.rows[at] = r;
      c.values[at] = a.values[k];
    }
  return c;
}

enum class Format { kCsr, kCoo, kCsc };

// A's descriptor in `format` (32-bit zero-based indices), its arrays in `arrays`.
template <class T>
cusparseSpMatDescr_t Describe(const Csr& a, Format format, std::vector<void*>* arrays) {
  const int64_t nnz = int64_t(a.columns.size());
  const cudaDataType type = Precision<T>::kType;
  cusparseSpMatDescr_t mat = nullptr;
  if (format == Format::kCsc) {
    const Csc c = ToCsc(a);
    int* offsets = ToDevice(Cast<int>(c.offsets));
    int* rows = ToDevice(Cast<int>(c.rows));
    T* values = ToDevice(Cast<T>(c.values));
    *arrays = {offsets, rows, values};
    CUSPARSE_CHECK(cusparseCreateCsc(&mat, kRows, kCols, nnz, offsets, rows, values, CUSPARSE_INDEX_32I,
                                     CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, type));
    return mat;
  }
  int* first = ToDevice(Cast<int>(format == Format::kCoo ? RowIndices(a) : a.offsets));
  int* columns = ToDevice(Cast<int>(a.columns));
  T* values = ToDevice(Cast<T>(a.values));
  *arrays = {first, columns, values};
  if (format == Format::kCoo) {
    CUSPARSE_CHECK(cusparseCreateCoo(&mat, kRows, kCols, nnz, first, columns, values, CUSPARSE_INDEX_32I,
                                     CUSPARSE_INDEX_BASE_ZERO, type));
  } else {
    CUSPARSE_CHECK(cusparseCreateCsr(&mat, kRows, kCols, nnz, first, columns, values, CUSPARSE_INDEX_32I,
                                     CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, type));
  }
  return mat;
}

const char* Name(Format f) { return f == Format::kCsr ? "CSR" : f == Format::kCoo ? "COO" : "CSC"; }

template <class T>
void ToDense(cusparseHandle_t h, cudaStream_t stream, const Csr& a, Format format, rtest::Checksum& sum) {
  const cudaDataType type = Precision<T>::kType;
  std::vector<void*> arrays;
  cusparseSpMatDescr_t mat = Describe<T>(a, format, &arrays);
  std::vector<double> dense(kRows * kCols, 0.0);  // row-major reference
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t k = a.offsets[r]; k < a.offsets[r + 1]; ++k) dense[r * kCols + a.columns[k]] = a.values[k];
  const T marker = static_cast<T>(-42.5);
  for (cusparseOrder_t order : {CUSPARSE_ORDER_COL, CUSPARSE_ORDER_ROW}) {
    const bool col = order == CUSPARSE_ORDER_COL;
    const int64_t ld = (col ? kRows : kCols) + 3, lines = col ? kCols : kRows;
    T* d_b = ToDevice(std::vector<T>(size_t(ld * lines), marker));
    cusparseDnMatDescr_t b = nullptr;
    CUSPARSE_CHECK(cusparseCreateDnMat(&b, kRows, kCols, ld, d_b, type, order));
    size_t bytes = 0;
    CUSPARSE_CHECK(cusparseSparseToDense_bufferSize(h, mat, b, CUSPARSE_SPARSETODENSE_ALG_DEFAULT, &bytes));
    void* buffer = nullptr;
    CUDA_CHECK(cudaMalloc(&buffer, bytes ? bytes : 1));
    CUSPARSE_CHECK(cusparseSparseToDense(h, mat, b, CUSPARSE_SPARSETODENSE_ALG_DEFAULT, buffer));
    const std::vector<T> got = FromDevice(d_b, size_t(ld * lines), stream);
    for (int64_t line = 0; line < lines; ++line)
      for (int64_t e = 0; e < ld; ++e) {
        const int64_t r = col ? e : line, c = col ? line : e;
        const bool inside = col ? e < kRows : e < kCols;
        const double want = inside ? double(static_cast<T>(dense[r * kCols + c])) : double(marker);
        CHECKF(double(got[line * ld + e]) == want, "SparseToDense (%s, %s, %s-major): (%lld, %lld) is %g, expected %g",
               Name(format), Precision<T>::kName, col ? "column" : "row", static_cast<long long>(r),
               static_cast<long long>(c),
               double(got[line * ld + e]), want);
      }
    sum.AddVector(got);
    CUSPARSE_CHECK(cusparseDestroyDnMat(b));
    CUDA_CHECK(cudaFree(buffer));
    CUDA_CHECK(cudaFree(d_b));
  }
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  for (void* p : arrays) CUDA_CHECK(cudaFree(p));
}

// A x and A^T x with A stored as CSC.
template <class T>
void SpMVCsc(cusparseHandle_t h, cudaStream_t stream, const Csr& a, rtest::Rng& rng, rtest::Checksum& sum) {
  std::vector<void*> arrays;
  cusparseSpMatDescr_t mat = Describe<T>(a, Format::kCsc, &arrays);
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, false, rng, sum, "A x, CSC");
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_TRANSPOSE, false, false, rng, sum, "A^T x, CSC");
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  // The const descriptor over the same arrays.
  cusparseConstSpMatDescr_t const_mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateConstCsc(&const_mat, kRows, kCols, int64_t(a.columns.size()), arrays[0], arrays[1],
                                        arrays[2], CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO,
                                        Precision<T>::kType));
  Multiply<T>(h, stream, const_mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, true, rng, sum, "A x, const CSC");
  CUSPARSE_CHECK(cusparseDestroySpMat(const_mat));
  for (void* p : arrays) CUDA_CHECK(cudaFree(p));
}

// C = alpha op(A) B + beta C with column-major B (k x 3, ld k + 2) and C
// (m x 3, ld m + 1), checked column by column as SpMV products.
template <class T>
void SpMM(cusparseHandle_t h, cudaStream_t stream, const Csr& a, cusparseOperation_t op, rtest::Rng& rng,
          rtest::Checksum& sum) {
  constexpr int64_t kN = 3;
  const cudaDataType type = Precision<T>::kType;
  const bool transposed = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  const int64_t m = transposed ? kCols : kRows, k = transposed ? kRows : kCols, ldb = k + 2, ldc = m + 1;
  std::vector<T> b(size_t(ldb * kN)), c0(size_t(ldc * kN));
  for (T& v : b) v = T(rng.Double(-1.0, 1.0));
  for (T& v : c0) v = T(rng.Double(-1.0, 1.0));
  int* d_offsets = ToDevice(Cast<int>(a.offsets));
  int* d_columns = ToDevice(Cast<int>(a.columns));
  T* d_values = ToDevice(Cast<T>(a.values));
  T* d_b = ToDevice(b);
  T* d_c = ToDevice(c0);
  cusparseSpMatDescr_t mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateCsr(&mat, kRows, kCols, int64_t(a.columns.size()), d_offsets, d_columns, d_values,
                                   CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, type));
  cusparseConstDnMatDescr_t mb = nullptr;
  cusparseDnMatDescr_t mc = nullptr;
  CUSPARSE_CHECK(cusparseCreateConstDnMat(&mb, k, kN, ldb, d_b, type, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&mc, m, kN, ldc, d_c, type, CUSPARSE_ORDER_COL));
  const T alpha = T(kAlpha), beta = T(kBeta);
  const auto op_b = CUSPARSE_OPERATION_NON_TRANSPOSE;
  const cusparseSpMMAlg_t alg = transposed ? CUSPARSE_SPMM_ALG_DEFAULT : CUSPARSE_SPMM_CSR_ALG1;
  size_t bytes = 0;
  CUSPARSE_CHECK(cusparseSpMM_bufferSize(h, op, op_b, &alpha, mat, mb, &beta, mc, type, alg, &bytes));
  void* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes > 0 ? bytes : 1));
  CUSPARSE_CHECK(cusparseSpMM(h, op, op_b, &alpha, mat, mb, &beta, mc, type, alg, buffer));
  std::vector<T> c = FromDevice(d_c, c0.size(), stream);
  for (int64_t j = 0; j < kN; ++j) {
    auto column = [&](const std::vector<T>& v, int64_t ld, int64_t n) {
      return std::vector<T>(v.begin() + j * ld, v.begin() + j * ld + n);
    };
    CheckProduct(a, transposed, column(b, ldb, k), column(c0, ldc, m), column(c, ldc, m),
                 transposed ? "SpMM A^T B, a column of C" : "SpMM A B, a column of C");
  }
  for (int64_t j = 0; j < kN; ++j) {  // the padding row of each column is C's own
    CHECKF(c[j * ldc + m] == c0[j * ldc + m], "SpMM wrote C's padding row in column %lld", (long long)j);
  }
  if (!transposed) sum.AddVector(c);
  CUSPARSE_CHECK(cusparseDestroyDnMat(mb));
  CUSPARSE_CHECK(cusparseDestroyDnMat(mc));
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  for (void* p : {static_cast<void*>(d_offsets), static_cast<void*>(d_columns), static_cast<void*>(d_values),
                  static_cast<void*>(d_b), static_cast<void*>(d_c), buffer}) {
    CUDA_CHECK(cudaFree(p));
  }
}

// The const descriptors, with 64-bit one-based indices.
template <class T>
void SpMVConst64(cusparseHandle_t h, cudaStream_t stream, const Csr& a, rtest::Rng& rng, rtest::Checksum& sum) {
  int64_t* d_offsets = ToDevice(Cast<int64_t>(a.offsets, int64_t{1}));
  int64_t* d_columns = ToDevice(Cast<int64_t>(a.columns, int64_t{1}));
  T* d_values = ToDevice(Cast<T>(a.values));
  cusparseConstSpMatDescr_t mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateConstCsr(&mat, kRows, kCols, int64_t(a.columns.size()), d_offsets, d_columns, d_values,
                                        CUSPARSE_INDEX_64I, CUSPARSE_INDEX_64I, CUSPARSE_INDEX_BASE_ONE,
                                        Precision<T>::kType));
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, true, rng, sum, "A x, const, 64-bit, base 1");
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  for (void* p : {static_cast<void*>(d_offsets), static_cast<void*>(d_columns), static_cast<void*>(d_values)})
    CUDA_CHECK(cudaFree(p));
}

// A's row index of each entry (COO's row array), from its CSR offsets.
std::vector<int64_t> RowIndices(const Csr& a) {
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t k = a.offsets[r]; k < a.offsets[r + 1]; ++k) rows.push_back(r);
  return rows;
}

// The same products of A stored as COO: 32-bit zero-based (A x, A^T x),
// and const, 64-bit one-based (A x).
template <class T>
void SpMVCoo(cusparseHandle_t h, cudaStream_t stream, const Csr& a, rtest::Rng& rng, rtest::Checksum& sum) {
  const int64_t nnz = int64_t(a.columns.size());
  int* d_rows = ToDevice(Cast<int>(RowIndices(a)));
  int* d_columns = ToDevice(Cast<int>(a.columns));
  T* d_values = ToDevice(Cast<T>(a.values));
  cusparseSpMatDescr_t mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateCoo(&mat, kRows, kCols, nnz, d_rows, d_columns, d_values, CUSPARSE_INDEX_32I,
                                   CUSPARSE_INDEX_BASE_ZERO, Precision<T>::kType));
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, false, rng, sum, "A x, COO");
  Multiply<T>(h, stream, mat, a, CUSPARSE_OPERATION_TRANSPOSE, false, false, rng, sum, "A^T x, COO");
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  int64_t* d_rows64 = ToDevice(Cast<int64_t>(RowIndices(a), int64_t{1}));
  int64_t* d_columns64 = ToDevice(Cast<int64_t>(a.columns, int64_t{1}));
  cusparseConstSpMatDescr_t const_mat = nullptr;
  CUSPARSE_CHECK(cusparseCreateConstCoo(&const_mat, kRows, kCols, nnz, d_rows64, d_columns64, d_values,
                                        CUSPARSE_INDEX_64I, CUSPARSE_INDEX_BASE_ONE, Precision<T>::kType));
  Multiply<T>(h, stream, const_mat, a, CUSPARSE_OPERATION_NON_TRANSPOSE, false, true, rng, sum,
              "A x, const COO, 64-bit, base 1");
  CUSPARSE_CHECK(cusparseDestroySpMat(const_mat));
  for (void* p : {static_cast<void*>(d_rows), static_cast<void*>(d_columns), static_cast<void*>(d_values),
                  static_cast<void*>(d_rows64), static_cast<void*>(d_columns64)})
    CUDA_CHECK(cudaFree(p));
}

// The worker's refusals, and the session still serving after them.
void SessionChecks(cusparseHandle_t h, cudaStream_t stream) {
  rtest::RawLibraryCallFn call = rtest::PrivateLibraryCall();
  CHECKF(call != nullptr, "rcudaPrivateLibraryCall is not exported: not running through rcuda?");
  const auto kInvalid = CUSPARSE_STATUS_INVALID_VALUE;
  constexpr int64_t n = 8;  // an n x n identity, n entries
  std::vector<int> offsets(n + 1), columns(n);
  for (int i = 0; i < n; ++i) {
    offsets[i] = i;
    columns[i] = i;
  }
  offsets[n] = n;
  int* d_offsets = ToDevice(offsets);
  int* d_columns = ToDevice(columns);
  float* d_values = ToDevice(std::vector<float>(n, 1.0f));
  float* d_x = ToDevice(std::vector<float>(n, 2.0f));
  float* d_y = ToDevice(std::vector<float>(n, 0.0f));
  auto csr = [&](cusparseSpMatDescr_t* m, int64_t rows, int64_t nnz, void* off, void* col, void* val,
                 cudaDataType type = CUDA_R_32F) {
    return cusparseCreateCsr(m, rows, n, nnz, off, col, val, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                             CUSPARSE_INDEX_BASE_ZERO, type);
  };
  cusparseSpMatDescr_t mat = nullptr, bad = nullptr;
  // At creation: row offsets one short (n + 1 rows need n + 2), column
  // indices and values one past their allocation, values shifted by one, a
  // pointer that is no allocation, nnz whose size overflows 64 bits, a
  // negative dimension, a value type of no whole bytes.
  CUSPARSE_EXPECT(csr(&bad, n + 1, n, d_offsets, d_columns, d_values), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, n, n + 1, d_offsets, d_columns, d_values), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, n, n, d_offsets, d_columns, d_values + 1), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, n, n, d_offsets, reinterpret_cast<int*>(uintptr_t{0x1000}), d_values), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, n, INT64_MAX, d_offsets, d_columns, d_values), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, -2, 0, d_offsets, nullptr, nullptr), kInvalid);
  CUSPARSE_EXPECT(csr(&bad, n, n, d_offsets, d_columns, d_values, CUDA_R_4I), kInvalid);
  CUSPARSE_CHECK(csr(&mat, n, n, d_offsets, d_columns, d_values));
  // COO: indices and values of nnz each, one past their allocation.
  CUSPARSE_EXPECT(cusparseCreateCoo(&bad, n, n, n + 1, d_columns, d_columns, d_values, CUSPARSE_INDEX_32I,
                                    CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F),
                  kInvalid);
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr, v = nullptr;
  CUSPARSE_EXPECT(cusparseCreateDnVec(&v, n + 1, d_x, CUDA_R_32F), kInvalid);
  CUSPARSE_EXPECT(cusparseCreateDnVec(&v, n, d_x, CUDA_R_64F), kInvalid);  // n doubles: twice the allocation
  CUSPARSE_CHECK(cusparseCreateDnVec(&vx, n, d_x, CUDA_R_32F));
  CUSPARSE_CHECK(cusparseCreateDnVec(&vy, n, d_y, CUDA_R_32F));
  const float alpha = 1.0f, beta = 0.0f;
  const auto op = CUSPARSE_OPERATION_NON_TRANSPOSE;
  const auto alg = CUSPARSE_SPMV_ALG_DEFAULT;
  size_t bytes = 0;
  CUSPARSE_CHECK(cusparseSpMV_bufferSize(h, op, &alpha, mat, vx, &beta, vy, CUDA_R_32F, alg, &bytes));
  char* buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&buffer, bytes > 0 ? bytes : 1));
  // Made-up descriptors, and descriptors of the other class.
  auto made_up_mat = reinterpret_cast<cusparseSpMatDescr_t>(uintptr_t{0xdead});
  auto made_up_vec = reinterpret_cast<cusparseDnVecDescr_t>(uintptr_t{0xbeef});
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, made_up_mat, vx, &beta, vy, CUDA_R_32F, alg, buffer), kInvalid);
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, made_up_vec, &beta, vy, CUDA_R_32F, alg, buffer), kInvalid);
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, reinterpret_cast<cusparseSpMatDescr_t>(vx), vx, &beta, vy, CUDA_R_32F,
                               alg, buffer),
                  kInvalid);
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, reinterpret_cast<cusparseDnVecDescr_t>(mat), &beta, vy,
                               CUDA_R_32F, alg, buffer),
                  kInvalid);
  CUSPARSE_EXPECT(cusparseDestroySpMat(made_up_mat), kInvalid);
  CUSPARSE_EXPECT(cusparseDestroyDnVec(reinterpret_cast<cusparseDnVecDescr_t>(mat)), kInvalid);
  // A vector of the wrong size (n - 1 of an allocation of n).
  CUSPARSE_CHECK(cusparseCreateDnVec(&v, n - 1, d_x, CUDA_R_32F));
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, v, &beta, vy, CUDA_R_32F, alg, buffer), kInvalid);
  CUSPARSE_CHECK(cusparseDestroyDnVec(v));
  // An external buffer shorter than the query's answer (when it asks for any).
  if (bytes > 0) {
    CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, vx, &beta, vy, CUDA_R_32F, alg, buffer + 1), kInvalid);
  }
  // An unknown compute type (its scalars have no size).
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, vx, &beta, vy, static_cast<cudaDataType>(999), alg, buffer),
                  kInvalid);
  // Device pointer mode: an alpha that is no allocation.
  CUSPARSE_CHECK(cusparseSetPointerMode(h, CUSPARSE_POINTER_MODE_DEVICE));
  CUSPARSE_EXPECT(cusparseSpMV(h, op, reinterpret_cast<const float*>(uintptr_t{0x1000}), mat, vx, d_values, vy,
                               CUDA_R_32F, alg, buffer),
                  kInvalid);
  CUSPARSE_CHECK(cusparseSetPointerMode(h, CUSPARSE_POINTER_MODE_HOST));
  // An array freed after its descriptor was made.
  float* d_gone = ToDevice(std::vector<float>(n, 1.0f));
  CUSPARSE_CHECK(cusparseCreateDnVec(&v, n, d_gone, CUDA_R_32F));
  CUDA_CHECK(cudaFree(d_gone));
  CUSPARSE_EXPECT(cusparseSpMV(h, op, &alpha, mat, v, &beta, vy, CUDA_R_32F, alg, buffer), kInvalid);
  CUSPARSE_CHECK(cusparseDestroyDnVec(v));
  // SpMM: B n x n (ld n + 1, in an allocation of just that size), C n x n.
  float* d_b = ToDevice(std::vector<float>((n + 1) * n, 0.0f));
  float* d_c = ToDevice(std::vector<float>(n * n, 0.0f));
  cusparseDnMatDescr_t mb = nullptr, mc = nullptr, narrow = nullptr, dm = nullptr;
  // Beyond its allocation (a larger leading dimension), a leading dimension
  // below the rows, an unknown order.
  CUSPARSE_EXPECT(cusparseCreateDnMat(&dm, n, n, n + 2, d_b, CUDA_R_32F, CUSPARSE_ORDER_COL), kInvalid);
  CUSPARSE_EXPECT(cusparseCreateDnMat(&dm, n, 2, n - 1, d_c, CUDA_R_32F, CUSPARSE_ORDER_COL), kInvalid);
  CUSPARSE_EXPECT(cusparseCreateDnMat(&dm, n, 2, n, d_c, CUDA_R_32F, static_cast<cusparseOrder_t>(9)), kInvalid);
  CUSPARSE_CHECK(cusparseCreateDnMat(&mb, n, n, n + 1, d_b, CUDA_R_32F, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&mc, n, n, n, d_c, CUDA_R_32F, CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&narrow, n, 2, n, d_c, CUDA_R_32F, CUSPARSE_ORDER_COL));
  const auto alg_mm = CUSPARSE_SPMM_ALG_DEFAULT;
  size_t mm_bytes = 0;
  CUSPARSE_CHECK(cusparseSpMM_bufferSize(h, op, op, &alpha, mat, mb, &beta, mc, CUDA_R_32F, alg_mm, &mm_bytes));
  char* mm_buffer = nullptr;
  CUDA_CHECK(cudaMalloc(&mm_buffer, mm_bytes > 0 ? mm_bytes : 1));
  // C of the wrong shape (B has n columns, C 2), a vector descriptor as B,
  // a buffer short of the query's answer.
  CUSPARSE_EXPECT(cusparseSpMM(h, op, op, &alpha, mat, mb, &beta, narrow, CUDA_R_32F, alg_mm, mm_buffer), kInvalid);
  CUSPARSE_EXPECT(cusparseSpMM(h, op, op, &alpha, mat, reinterpret_cast<cusparseDnMatDescr_t>(vx), &beta, mc,
                               CUDA_R_32F, alg_mm, mm_buffer),
                  kInvalid);
  if (mm_bytes > 0) {
    CUSPARSE_EXPECT(cusparseSpMM(h, op, op, &alpha, mat, mb, &beta, mc, CUDA_R_32F, alg_mm, mm_buffer + 1), kInvalid);
  }
  CUSPARSE_CHECK(cusparseSpMM(h, op, op, &alpha, mat, mb, &beta, mc, CUDA_R_32F, alg_mm, mm_buffer));
  // SparseToDense: B of another shape than A (n x 2), a buffer short of the
  // query's answer.
  const auto alg_sd = CUSPARSE_SPARSETODENSE_ALG_DEFAULT;
  size_t sd_bytes = 0;
  CUSPARSE_EXPECT(cusparseSparseToDense_bufferSize(h, mat, narrow, alg_sd, &sd_bytes), kInvalid);
  CUSPARSE_CHECK(cusparseSparseToDense_bufferSize(h, mat, mc, alg_sd, &sd_bytes));
  CUSPARSE_EXPECT(cusparseSparseToDense(h, mat, narrow, alg_sd, mm_buffer), kInvalid);
  if (sd_bytes > 0 && sd_bytes <= mm_bytes) {
    CUSPARSE_EXPECT(cusparseSparseToDense(h, mat, mc, alg_sd, mm_buffer + mm_bytes - sd_bytes + 1), kInvalid);
  }
  CUSPARSE_CHECK(cusparseDestroyDnMat(mb));
  CUSPARSE_CHECK(cusparseDestroyDnMat(mc));
  CUSPARSE_CHECK(cusparseDestroyDnMat(narrow));
  for (void* p : {static_cast<void*>(d_b), static_cast<void*>(d_c), static_cast<void*>(mm_buffer)}) {
    CUDA_CHECK(cudaFree(p));
  }
  // An unknown function id (wire id 5 is cuSPARSE).
  rtest::RawLibraryReply reply{};
  const int64_t values[1] = {static_cast<int64_t>(reinterpret_cast<uintptr_t>(h))};
  rtest::RawLibraryCall unknown{5, 100000, values, 1, nullptr, 0};
  CHECKF(call(&unknown, &reply) == 0 && reply.status == kInvalid, "unknown function: status %d", reply.status);
  // Still serving: I x = x.
  CUSPARSE_CHECK(cusparseSpMV(h, op, &alpha, mat, vx, &beta, vy, CUDA_R_32F, alg, buffer));
  std::vector<float> y = FromDevice(d_y, n, stream);
  for (int64_t i = 0; i < n; ++i) CHECKF(y[i] == 2.0f, "after the refusals: y[%lld] = %g", (long long)i, y[i]);
  CUSPARSE_CHECK(cusparseDestroyDnVec(vx));
  CUSPARSE_CHECK(cusparseDestroyDnVec(vy));
  CUSPARSE_CHECK(cusparseDestroySpMat(mat));
  for (void* p : {static_cast<void*>(d_offsets), static_cast<void*>(d_columns), static_cast<void*>(d_values),
                  static_cast<void*>(d_x), static_cast<void*>(d_y), static_cast<void*>(buffer)}) {
    CUDA_CHECK(cudaFree(p));
  }
  std::printf("session checks: every refusal answered CUSPARSE_STATUS_INVALID_VALUE; the session still serves\n");
}

}  // namespace

int main(int argc, char** argv) {
  // A fixed seed unless one is asked for: the same matrix in every run
  // (and a failure's "rerun with RCUDA_TEST_SEED" still reproduces it).
  setenv("RCUDA_TEST_SEED", std::to_string(kSeed).c_str(), /*overwrite=*/0);
  rtest::Rng rng = rtest::Init("cusparse_spmv");
  rtest::Checksum sum;
  const bool session_checks = argc > 1 && std::strcmp(argv[1], "--session-checks") == 0;

  int major = 0;
  CUSPARSE_CHECK(cusparseGetProperty(MAJOR_VERSION, &major));
  CHECKF(major == CUSPARSE_VER_MAJOR, "cusparseGetProperty(MAJOR_VERSION): %d", major);
  cudaStream_t stream = nullptr, got = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  cusparseHandle_t h = nullptr;
  CUSPARSE_CHECK(cusparseCreate(&h));
  int version = 0;
  CUSPARSE_CHECK(cusparseGetVersion(h, &version));
  CHECKF(version / 1000 == CUSPARSE_VER_MAJOR, "cusparseGetVersion: %d", version);
  std::printf("cuSPARSE version %d\n", version);
  // Answered on the client, with the real library's texts.
  CHECKF(std::strcmp(cusparseGetErrorName(CUSPARSE_STATUS_INVALID_VALUE), "CUSPARSE_STATUS_INVALID_VALUE") == 0,
         "cusparseGetErrorName: %s", cusparseGetErrorName(CUSPARSE_STATUS_INVALID_VALUE));
  CHECKF(std::strcmp(cusparseGetErrorString(CUSPARSE_STATUS_NOT_SUPPORTED), "operation not supported") == 0,
         "cusparseGetErrorString: %s", cusparseGetErrorString(CUSPARSE_STATUS_NOT_SUPPORTED));
  CUSPARSE_CHECK(cusparseSetStream(h, stream));
  CUSPARSE_CHECK(cusparseGetStream(h, &got));
  CHECKF(got == stream, "cusparseGetStream: %p, set %p", static_cast<void*>(got), static_cast<void*>(stream));
  cusparsePointerMode_t mode = CUSPARSE_POINTER_MODE_DEVICE;
  CUSPARSE_CHECK(cusparseGetPointerMode(h, &mode));
  CHECKF(mode == CUSPARSE_POINTER_MODE_HOST, "a new handle's pointer mode: %d", int(mode));

  const Csr a = RandomCsr(rng);
  std::printf("A: %lld x %lld, %zu entries\n", static_cast<long long>(kRows), static_cast<long long>(kCols),
              a.columns.size());
  SpMV<float>(h, stream, a, rng, sum);
  SpMV<double>(h, stream, a, rng, sum);
  SpMVConst64<double>(h, stream, a, rng, sum);
  for (cusparseOperation_t op : {CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_TRANSPOSE}) {
    SpMM<float>(h, stream, a, op, rng, sum);
    SpMM<double>(h, stream, a, op, rng, sum);
  }

  ToDense<float>(h, stream, a, Format::kCsr, sum);
  ToDense<double>(h, stream, a, Format::kCsr, sum);
  SpMVCoo<double>(h, stream, a, rng, sum);
  SpMVCoo<float>(h, stream, a, rng, sum);
  ToDense<double>(h, stream, a, Format::kCoo, sum);
  SpMVCsc<double>(h, stream, a, rng, sum);
  ToDense<float>(h, stream, a, Format::kCsc, sum);

  if (session_checks) SessionChecks(h, stream);

  CUSPARSE_CHECK(cusparseDestroy(h));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
