// TEST EQUIPMENT: a host libcusparse.so.12 for rcuda-server's test backend
// (README.md). It implements exactly the functions rcuda forwards
// (client/libs/cusparse.def): the handle, and the generic API's CSR
// matrix-vector and matrix-matrix products (SpMV, SpMM) in single and
// double precision, computed by
// host loops on the fake driver's "device" memory, which is host memory of
// the worker process (tests/fake_driver). Nothing it computes or times says
// anything about a GPU or about NVIDIA's cuSPARSE.
//
// Stream order (tests/fake_libs/driver_streams.h): SpMV and SpMM queue an empty host
// function on the handle's stream and waits for it, then computes on the
// calling thread. Not asynchronous, unlike cuSPARSE.
#include <cuda.h>
#include <cusparse.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "tests/fake_libs/fake_library.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

struct cusparseContext {
  cudaStream_t stream = nullptr;
  cusparsePointerMode_t mode = CUSPARSE_POINTER_MODE_HOST;
};
struct cusparseSpMatDescr {
  int64_t rows = 0, cols = 0, nnz = 0;
  // CSR: row_offsets rows + 1; COO (`coo`): row_offsets holds the nnz row
  // indices; CSC (`csc`): row_offsets holds the cols + 1 column offsets and
  // col_ind the row indices.
  void *row_offsets = nullptr, *col_ind = nullptr, *values = nullptr;
  cusparseIndexType_t row_type = CUSPARSE_INDEX_32I, col_type = CUSPARSE_INDEX_32I;
  cusparseIndexBase_t base = CUSPARSE_INDEX_BASE_ZERO;
  cudaDataType value_type = CUDA_R_32F;
  // SpSV's attributes (cusparseSpMatSetAttribute).
  cusparseFillMode_t fill = CUSPARSE_FILL_MODE_LOWER;
  cusparseDiagType_t diag = CUSPARSE_DIAG_TYPE_NON_UNIT;
  bool coo = false, csc = false;
};
struct cusparseSpSVDescr {
  void* buffer = nullptr;  // the analysis's, where the solve works
};
struct cusparseDnVecDescr {
  int64_t size = 0;
  void* values = nullptr;
  cudaDataType value_type = CUDA_R_32F;
};
struct cusparseDnMatDescr {
  int64_t rows = 0, cols = 0, ld = 0;
  void* values = nullptr;
  cudaDataType value_type = CUDA_R_32F;
  cusparseOrder_t order = CUSPARSE_ORDER_COL;
  // Element (i, j)'s index in values.
  int64_t At(int64_t i, int64_t j) const { return order == CUSPARSE_ORDER_COL ? i + j * ld : i * ld + j; }
};

namespace {

const rcuda::fake_libs::FakeLibrary kDouble(
    "libcusparse.so.12", "host SpMV, SpMM, SparseToDense (CSR, COO, CSC), SpSV and SpSM (CSR);"
                       " float, double; 32- and 64-bit indices"
                       " on the fake driver's host memory, not a GPU and not NVIDIA's cuSPARSE");

cusparseStatus_t WaitForStream(cusparseHandle_t h) {
  switch (kDouble.WaitFor(h->stream)) {
    case rcuda::fake_libs::FakeLibrary::Wait::kReached: return CUSPARSE_STATUS_SUCCESS;
    case rcuda::fake_libs::FakeLibrary::Wait::kNoDriver: return CUSPARSE_STATUS_NOT_INITIALIZED;
    case rcuda::fake_libs::FakeLibrary::Wait::kFailed: break;
  }
  return CUSPARSE_STATUS_EXECUTION_FAILED;
}

bool KnownIndex(cusparseIndexType_t t) { return t == CUSPARSE_INDEX_32I || t == CUSPARSE_INDEX_64I; }
bool KnownValue(cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_64F; }

int64_t IndexAt(const void* array, cusparseIndexType_t type, int64_t i) {
  return type == CUSPARSE_INDEX_64I ? static_cast<const int64_t*>(array)[i] : static_cast<const int32_t*>(array)[i];
}

double ValueAt(const void* array, cudaDataType type, int64_t i) {
  return type == CUDA_R_64F ? static_cast<const double*>(array)[i] : static_cast<const float*>(array)[i];
}

void Store(void* array, cudaDataType type, int64_t i, double v) {
  if (type == CUDA_R_64F) {
    static_cast<double*>(array)[i] = v;
  } else {
    static_cast<float*>(array)[i] = static_cast<float>(v);
  }
}

// Calls entry(row, col, value) for each stored entry of A, CSR, COO or CSC.
template <class Entry>
void ForEachEntry(cusparseConstSpMatDescr_t a, const Entry& entry) {
  const int64_t base = a->base == CUSPARSE_INDEX_BASE_ONE ? 1 : 0;
  if (a->csc) {
    for (int64_t c = 0; c < a->cols; ++c) {
      const int64_t begin = IndexAt(a->row_offsets, a->row_type, c) - base;
      const int64_t end = IndexAt(a->row_offsets, a->row_type, c + 1) - base;
      for (int64_t k = begin; k < end; ++k)
        entry(IndexAt(a->col_ind, a->col_type, k) - base, c, ValueAt(a->values, a->value_type, k));
    }
    return;
  }
  if (a->coo) {
    for (int64_t k = 0; k < a->nnz; ++k)
      entry(IndexAt(a->row_offsets, a->row_type, k) - base, IndexAt(a->col_ind, a->col_type, k) - base,
            ValueAt(a->values, a->value_type, k));
    return;
  }
  for (int64_t r = 0; r < a->rows; ++r) {
    const int64_t begin = IndexAt(a->row_offsets, a->row_type, r) - base;
    const int64_t end = IndexAt(a->row_offsets, a->row_type, r + 1) - base;
    for (int64_t k = begin; k < end; ++k)
      entry(r, IndexAt(a->col_ind, a->col_type, k) - base, ValueAt(a->values, a->value_type, k));
  }
}

// What op(A) x -> y needs of its arguments: one value type throughout (the
// compute type's), and vectors of op(A)'s sizes.
cusparseStatus_t CheckSpMV(cusparseHandle_t h, cusparseOperation_t op, const void* alpha, cusparseConstSpMatDescr_t a,
                           cusparseConstDnVecDescr_t x, const void* beta, cusparseDnVecDescr_t y,
                           cudaDataType compute) {
  if (h == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (a == nullptr || x == nullptr || y == nullptr || alpha == nullptr || beta == nullptr)
    return CUSPARSE_STATUS_INVALID_VALUE;
  if (op != CUSPARSE_OPERATION_NON_TRANSPOSE && op != CUSPARSE_OPERATION_TRANSPOSE &&
      op != CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE)
    return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->value_type != compute || x->value_type != compute || y->value_type != compute)
    return CUSPARSE_STATUS_NOT_SUPPORTED;
  const bool t = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  if (x->size != (t ? a->rows : a->cols) || y->size != (t ? a->cols : a->rows)) return CUSPARSE_STATUS_INVALID_VALUE;
  return CUSPARSE_STATUS_SUCCESS;
}

// The buffer this double asks for: one double per output element, where it
// accumulates y (so a short buffer would be written past its end).
size_t BufferBytes(cusparseConstDnVecDescr_t y) {
  return sizeof(double) * static_cast<size_t>(y->size > 0 ? y->size : 1);
}

cusparseStatus_t CreateCsr(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz, const void* row_offsets,
                           const void* col_ind, const void* values, cusparseIndexType_t row_type,
                           cusparseIndexType_t col_type, cusparseIndexBase_t base, cudaDataType value_type) {
  if (d == nullptr || rows < 0 || cols < 0 || nnz < 0 || row_offsets == nullptr || !KnownIndex(row_type) ||
      !KnownIndex(col_type) || !KnownValue(value_type) ||
      (base != CUSPARSE_INDEX_BASE_ZERO && base != CUSPARSE_INDEX_BASE_ONE) ||
      (nnz > 0 && (col_ind == nullptr || values == nullptr))) {
    return CUSPARSE_STATUS_INVALID_VALUE;
  }
  *d = new cusparseSpMatDescr{rows, cols, nnz, const_cast<void*>(row_offsets), const_cast<void*>(col_ind),
                              const_cast<void*>(values), row_type, col_type, base, value_type,
                              CUSPARSE_FILL_MODE_LOWER, CUSPARSE_DIAG_TYPE_NON_UNIT};
  return CUSPARSE_STATUS_SUCCESS;
}

cusparseStatus_t CreateDnVec(cusparseDnVecDescr_t* d, int64_t size, const void* values, cudaDataType value_type) {
  if (d == nullptr || size < 0 || !KnownValue(value_type) || (size > 0 && values == nullptr))
    return CUSPARSE_STATUS_INVALID_VALUE;
  *d = new cusparseDnVecDescr{size, const_cast<void*>(values), value_type};
  return CUSPARSE_STATUS_SUCCESS;
}

cusparseStatus_t CreateDnMat(cusparseDnMatDescr_t* d, int64_t rows, int64_t cols, int64_t ld, const void* values,
                             cudaDataType value_type, cusparseOrder_t order) {
  const bool col = order == CUSPARSE_ORDER_COL;
  if (d == nullptr || rows < 0 || cols < 0 || !KnownValue(value_type) || (!col && order != CUSPARSE_ORDER_ROW) ||
      ld < 1 || ld < (col ? rows : cols) || (rows > 0 && cols > 0 && values == nullptr)) {
    return CUSPARSE_STATUS_INVALID_VALUE;
  }
  *d = new cusparseDnMatDescr{rows, cols, ld, const_cast<void*>(values), value_type, order};
  return CUSPARSE_STATUS_SUCCESS;
}

bool KnownOp(cusparseOperation_t op) {
  return op == CUSPARSE_OPERATION_NON_TRANSPOSE || op == CUSPARSE_OPERATION_TRANSPOSE ||
         op == CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE;
}

// What op(A) op(B) -> C needs: one value type, op(A) m x k, op(B) k x n, C m x n.
cusparseStatus_t CheckSpMM(cusparseHandle_t h, cusparseOperation_t op_a, cusparseOperation_t op_b, const void* alpha,
                           cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b, const void* beta,
                           cusparseDnMatDescr_t c, cudaDataType compute) {
  if (h == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (a == nullptr || b == nullptr || c == nullptr || alpha == nullptr || beta == nullptr || !KnownOp(op_a) ||
      !KnownOp(op_b))
    return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->value_type != compute || b->value_type != compute || c->value_type != compute)
    return CUSPARSE_STATUS_NOT_SUPPORTED;
  const bool ta = op_a != CUSPARSE_OPERATION_NON_TRANSPOSE, tb = op_b != CUSPARSE_OPERATION_NON_TRANSPOSE;
  const int64_t m = ta ? a->cols : a->rows, k = ta ? a->rows : a->cols;
  if ((tb ? b->cols : b->rows) != k || c->rows != m || c->cols != (tb ? b->rows : b->cols))
    return CUSPARSE_STATUS_INVALID_VALUE;
  return CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

FAKE_EXPORT cusparseStatus_t cusparseCreate(cusparseHandle_t* handle) {
  if (handle == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *handle = new cusparseContext;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseDestroy(cusparseHandle_t handle) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseGetVersion(cusparseHandle_t handle, int* version) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (version == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *version = CUSPARSE_VERSION;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseGetProperty(libraryPropertyType type, int* value) {
  return rcuda::fake_libs::VersionProperty(type, value, CUSPARSE_VER_MAJOR, CUSPARSE_VER_MINOR, CUSPARSE_VER_PATCH,
                                           CUSPARSE_STATUS_SUCCESS, CUSPARSE_STATUS_INVALID_VALUE);
}

FAKE_EXPORT cusparseStatus_t cusparseSetStream(cusparseHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseGetStream(cusparseHandle_t handle, cudaStream_t* stream) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (stream == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSetPointerMode(cusparseHandle_t handle, cusparsePointerMode_t mode) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (mode != CUSPARSE_POINTER_MODE_HOST && mode != CUSPARSE_POINTER_MODE_DEVICE) return CUSPARSE_STATUS_INVALID_VALUE;
  handle->mode = mode;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseGetPointerMode(cusparseHandle_t handle, cusparsePointerMode_t* mode) {
  if (handle == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *mode = handle->mode;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseCreateCsr(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz,
                                               void* row_offsets, void* col_ind, void* values,
                                               cusparseIndexType_t row_type, cusparseIndexType_t col_type,
                                               cusparseIndexBase_t base, cudaDataType value_type) {
  return CreateCsr(d, rows, cols, nnz, row_offsets, col_ind, values, row_type, col_type, base, value_type);
}

FAKE_EXPORT cusparseStatus_t cusparseCreateConstCsr(cusparseConstSpMatDescr_t* d, int64_t rows, int64_t cols,
                                                    int64_t nnz, const void* row_offsets, const void* col_ind,
                                                    const void* values, cusparseIndexType_t row_type,
                                                    cusparseIndexType_t col_type, cusparseIndexBase_t base,
                                                    cudaDataType value_type) {
  cusparseSpMatDescr_t made = nullptr;
  cusparseStatus_t s = CreateCsr(&made, rows, cols, nnz, row_offsets, col_ind, values, row_type, col_type, base,
                                 value_type);
  if (s == CUSPARSE_STATUS_SUCCESS) *d = made;
  return s;
}

FAKE_EXPORT cusparseStatus_t cusparseDestroySpMat(cusparseConstSpMatDescr_t d) {
  delete d;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseCreateDnVec(cusparseDnVecDescr_t* d, int64_t size, void* values,
                                                 cudaDataType value_type) {
  return CreateDnVec(d, size, values, value_type);
}

FAKE_EXPORT cusparseStatus_t cusparseCreateConstDnVec(cusparseConstDnVecDescr_t* d, int64_t size, const void* values,
                                                      cudaDataType value_type) {
  cusparseDnVecDescr_t made = nullptr;
  cusparseStatus_t s = CreateDnVec(&made, size, values, value_type);
  if (s == CUSPARSE_STATUS_SUCCESS) *d = made;
  return s;
}

FAKE_EXPORT cusparseStatus_t cusparseDestroyDnVec(cusparseConstDnVecDescr_t d) {
  delete d;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpMV_bufferSize(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                                                     cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x,
                                                     const void* beta, cusparseDnVecDescr_t y, cudaDataType compute,
                                                     cusparseSpMVAlg_t, size_t* bytes) {
  cusparseStatus_t s = CheckSpMV(h, op, alpha, a, x, beta, y, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (bytes == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *bytes = BufferBytes(y);
  return CUSPARSE_STATUS_SUCCESS;
}

// y = alpha op(A) x + beta y, accumulated in double in the buffer; the
// indices are trusted as cuSPARSE trusts them (only the tests' own
// matrices reach this double).
FAKE_EXPORT cusparseStatus_t cusparseSpMV(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                                          cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x, const void* beta,
                                          cusparseDnVecDescr_t y, cudaDataType compute, cusparseSpMVAlg_t,
                                          void* buffer) {
  cusparseStatus_t s = CheckSpMV(h, op, alpha, a, x, beta, y, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  // Host or device pointer mode: both are host addresses here.
  const double al = ValueAt(alpha, compute, 0), be = ValueAt(beta, compute, 0);
  auto* acc = static_cast<double*>(buffer);
  for (int64_t i = 0; i < y->size; ++i) acc[i] = 0;
  const bool t = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  ForEachEntry(a, [&](int64_t r, int64_t col, double v) {
    if (t) {
      acc[col] += v * ValueAt(x->values, x->value_type, r);
    } else {
      acc[r] += v * ValueAt(x->values, x->value_type, col);
    }
  });
  for (int64_t i = 0; i < y->size; ++i) {
    // beta == 0: y is not read (it may hold anything, NaN included), as cuSPARSE.
    const double old = be == 0 ? 0 : ValueAt(y->values, y->value_type, i);
    Store(y->values, y->value_type, i, al * acc[i] + be * old);
  }
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseCreateDnMat(cusparseDnMatDescr_t* d, int64_t rows, int64_t cols, int64_t ld,
                                                 void* values, cudaDataType value_type, cusparseOrder_t order) {
  return CreateDnMat(d, rows, cols, ld, values, value_type, order);
}

FAKE_EXPORT cusparseStatus_t cusparseCreateConstDnMat(cusparseConstDnMatDescr_t* d, int64_t rows, int64_t cols,
                                                      int64_t ld, const void* values, cudaDataType value_type,
                                                      cusparseOrder_t order) {
  cusparseDnMatDescr_t made = nullptr;
  cusparseStatus_t s = CreateDnMat(&made, rows, cols, ld, values, value_type, order);
  if (s == CUSPARSE_STATUS_SUCCESS) *d = made;
  return s;
}

FAKE_EXPORT cusparseStatus_t cusparseDestroyDnMat(cusparseConstDnMatDescr_t d) {
  delete d;
  return CUSPARSE_STATUS_SUCCESS;
}

// One double per element of C, where it accumulates op(A) op(B).
FAKE_EXPORT cusparseStatus_t cusparseSpMM_bufferSize(cusparseHandle_t h, cusparseOperation_t op_a,
                                                     cusparseOperation_t op_b, const void* alpha,
                                                     cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                                     const void* beta, cusparseDnMatDescr_t c, cudaDataType compute,
                                                     cusparseSpMMAlg_t, size_t* bytes) {
  cusparseStatus_t s = CheckSpMM(h, op_a, op_b, alpha, a, b, beta, c, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (bytes == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *bytes = sizeof(double) * static_cast<size_t>(c->rows * c->cols > 0 ? c->rows * c->cols : 1);
  return CUSPARSE_STATUS_SUCCESS;
}

// C = alpha op(A) op(B) + beta C, accumulated in double in the buffer
// (column by column of C, rows of op(A) as in SpMV).
FAKE_EXPORT cusparseStatus_t cusparseSpMM(cusparseHandle_t h, cusparseOperation_t op_a, cusparseOperation_t op_b,
                                          const void* alpha, cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                          const void* beta, cusparseDnMatDescr_t c, cudaDataType compute,
                                          cusparseSpMMAlg_t, void* buffer) {
  cusparseStatus_t s = CheckSpMM(h, op_a, op_b, alpha, a, b, beta, c, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  const double al = ValueAt(alpha, compute, 0), be = ValueAt(beta, compute, 0);
  auto* acc = static_cast<double*>(buffer);  // acc[i + j * c->rows]
  for (int64_t i = 0; i < c->rows * c->cols; ++i) acc[i] = 0;
  const bool ta = op_a != CUSPARSE_OPERATION_NON_TRANSPOSE, tb = op_b != CUSPARSE_OPERATION_NON_TRANSPOSE;
  // op(B)'s element (k, j).
  auto b_at = [&](int64_t k, int64_t j) { return ValueAt(b->values, b->value_type, tb ? b->At(j, k) : b->At(k, j)); };
  ForEachEntry(a, [&](int64_t r, int64_t col, double v) {
    const int64_t i = ta ? col : r, k = ta ? r : col;  // A(r, col) is op(A)(i, k)
    for (int64_t j = 0; j < c->cols; ++j) acc[i + j * c->rows] += v * b_at(k, j);
  });
  for (int64_t j = 0; j < c->cols; ++j) {
    for (int64_t i = 0; i < c->rows; ++i) {
      const double old = be == 0 ? 0 : ValueAt(c->values, c->value_type, c->At(i, j));
      Store(c->values, c->value_type, c->At(i, j), al * acc[i + j * c->rows] + be * old);
    }
  }
  return CUSPARSE_STATUS_SUCCESS;
}

namespace {

cusparseStatus_t CheckSparseToDense(cusparseHandle_t h, cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                    cusparseSparseToDenseAlg_t alg) {
  if (h == nullptr) return CUSPARSE_STATUS_NOT_INITIALIZED;
  if (a == nullptr || b == nullptr || alg != CUSPARSE_SPARSETODENSE_ALG_DEFAULT) return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->rows != b->rows || a->cols != b->cols) return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->value_type != b->value_type) return CUSPARSE_STATUS_NOT_SUPPORTED;
  return CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

// One int64 per row, where this double counts the row's entries (so a short
// buffer would be written past its end).
FAKE_EXPORT cusparseStatus_t cusparseSparseToDense_bufferSize(cusparseHandle_t h, cusparseConstSpMatDescr_t a,
                                                              cusparseDnMatDescr_t b, cusparseSparseToDenseAlg_t alg,
                                                              size_t* bytes) {
  cusparseStatus_t s = CheckSparseToDense(h, a, b, alg);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (bytes == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *bytes = sizeof(int64_t) * static_cast<size_t>(a->rows > 0 ? a->rows : 1);
  return CUSPARSE_STATUS_SUCCESS;
}

// B = A: every element of B written, zero where A has no entry.
FAKE_EXPORT cusparseStatus_t cusparseSparseToDense(cusparseHandle_t h, cusparseConstSpMatDescr_t a,
                                                   cusparseDnMatDescr_t b, cusparseSparseToDenseAlg_t alg,
                                                   void* buffer) {
  cusparseStatus_t s = CheckSparseToDense(h, a, b, alg);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  for (int64_t j = 0; j < b->cols; ++j)
    for (int64_t i = 0; i < b->rows; ++i) Store(b->values, b->value_type, b->At(i, j), 0.0);
  auto* entries = static_cast<int64_t*>(buffer);
  for (int64_t r = 0; r < a->rows; ++r) entries[r] = 0;
  ForEachEntry(a, [&](int64_t r, int64_t col, double v) {
    ++entries[r];
    Store(b->values, b->value_type, b->At(r, col), v);
  });
  return CUSPARSE_STATUS_SUCCESS;
}

// ---- Triangular solves (SpSV) -------------------------------------------------

FAKE_EXPORT cusparseStatus_t cusparseSpMatSetAttribute(cusparseSpMatDescr_t d, cusparseSpMatAttribute_t attribute,
                                                       void* data, size_t size) {
  if (d == nullptr || data == nullptr || size != sizeof(int)) return CUSPARSE_STATUS_INVALID_VALUE;
  const int value = *static_cast<const int*>(data);
  if (attribute == CUSPARSE_SPMAT_FILL_MODE && (value == CUSPARSE_FILL_MODE_LOWER || value == CUSPARSE_FILL_MODE_UPPER)) {
    d->fill = static_cast<cusparseFillMode_t>(value);
  } else if (attribute == CUSPARSE_SPMAT_DIAG_TYPE &&
             (value == CUSPARSE_DIAG_TYPE_NON_UNIT || value == CUSPARSE_DIAG_TYPE_UNIT)) {
    d->diag = static_cast<cusparseDiagType_t>(value);
  } else {
    return CUSPARSE_STATUS_INVALID_VALUE;
  }
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpSV_createDescr(cusparseSpSVDescr_t* d) {
  if (d == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *d = new cusparseSpSVDescr;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpSV_destroyDescr(cusparseSpSVDescr_t d) {
  delete d;
  return CUSPARSE_STATUS_SUCCESS;
}

namespace {

// What op(A) y = alpha x needs: SpMV's checks, A square, op not conjugate.
cusparseStatus_t CheckSpSV(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                           cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x, cusparseDnVecDescr_t y,
                           cudaDataType compute, cusparseSpSVDescr_t spsv) {
  static const double kZero = 0;
  cusparseStatus_t s = CheckSpMV(h, op, alpha, a, x, &kZero, y, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (spsv == nullptr || a->rows != a->cols) return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->coo || a->csc) {
    kDouble.Log("SpSV of a COO or CSC matrix: not modelled by this double");
    return CUSPARSE_STATUS_NOT_SUPPORTED;
  }
  return op == CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE ? CUSPARSE_STATUS_NOT_SUPPORTED : CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

// Two doubles per row: the right-hand side and the solution, in double.
FAKE_EXPORT cusparseStatus_t cusparseSpSV_bufferSize(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                                                     cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x,
                                                     cusparseDnVecDescr_t y, cudaDataType compute, cusparseSpSVAlg_t,
                                                     cusparseSpSVDescr_t spsv, size_t* bytes) {
  cusparseStatus_t s = CheckSpSV(h, op, alpha, a, x, y, compute, spsv);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (bytes == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *bytes = 2 * sizeof(double) * static_cast<size_t>(a->rows > 0 ? a->rows : 1);
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpSV_analysis(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                                                   cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x,
                                                   cusparseDnVecDescr_t y, cudaDataType compute, cusparseSpSVAlg_t,
                                                   cusparseSpSVDescr_t spsv, void* buffer) {
  cusparseStatus_t s = CheckSpSV(h, op, alpha, a, x, y, compute, spsv);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  spsv->buffer = buffer;
  return CUSPARSE_STATUS_SUCCESS;
}

namespace {

// op(A) out = rhs by substitution over A's rows, the `fill` triangle only
// (the other one's entries ignored), its diagonal taken as ones when `diag`
// is unit; with op = transpose, A's rows are op(A)'s columns. rhs is
// consumed (the transposed solve pushes known values into it).
void SolveTriangular(cusparseConstSpMatDescr_t a, bool transposed, double* rhs, double* out) {
  const int64_t n = a->rows, base = a->base == CUSPARSE_INDEX_BASE_ONE ? 1 : 0;
  const bool lower = a->fill == CUSPARSE_FILL_MODE_LOWER, unit = a->diag == CUSPARSE_DIAG_TYPE_UNIT;
  // Rows in the order the solution's elements become known.
  const bool ascending = lower != transposed;
  for (int64_t step = 0; step < n; ++step) {
    const int64_t i = ascending ? step : n - 1 - step;
    const int64_t begin = IndexAt(a->row_offsets, a->row_type, i) - base;
    const int64_t end = IndexAt(a->row_offsets, a->row_type, i + 1) - base;
    double d = 1, acc = rhs[i];
    for (int64_t k = begin; k < end; ++k) {
      const int64_t j = IndexAt(a->col_ind, a->col_type, k) - base;
      const double v = ValueAt(a->values, a->value_type, k);
      if (j == i) {
        if (!unit) d = v;
      } else if (!transposed && (lower ? j < i : j > i)) {
        acc -= v * out[j];  // already known
      }
    }
    out[i] = acc / d;
    if (transposed) {  // row i of A is column i of op(A): push out[i] into the rows still unknown
      for (int64_t k = begin; k < end; ++k) {
        const int64_t j = IndexAt(a->col_ind, a->col_type, k) - base;
        if (j != i && (lower ? j < i : j > i)) rhs[j] -= ValueAt(a->values, a->value_type, k) * out[i];
      }
    }
  }
}

}  // namespace

// op(A) y = alpha x (SolveTriangular), in the analysis's buffer.
FAKE_EXPORT cusparseStatus_t cusparseSpSV_solve(cusparseHandle_t h, cusparseOperation_t op, const void* alpha,
                                                cusparseConstSpMatDescr_t a, cusparseConstDnVecDescr_t x,
                                                cusparseDnVecDescr_t y, cudaDataType compute, cusparseSpSVAlg_t,
                                                cusparseSpSVDescr_t spsv) {
  cusparseStatus_t s = CheckSpSV(h, op, alpha, a, x, y, compute, spsv);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (spsv->buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;  // not analysed
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  const int64_t n = a->rows;
  double* rhs = static_cast<double*>(spsv->buffer);
  double* out = rhs + n;
  const double al = ValueAt(alpha, compute, 0);
  for (int64_t i = 0; i < n; ++i) rhs[i] = al * ValueAt(x->values, x->value_type, i);
  SolveTriangular(a, op != CUSPARSE_OPERATION_NON_TRANSPOSE, rhs, out);
  for (int64_t i = 0; i < n; ++i) Store(y->values, y->value_type, i, out[i]);
  return CUSPARSE_STATUS_SUCCESS;
}

// ---- Triangular solves with several right-hand sides (SpSM) -------------------

struct cusparseSpSMDescr {
  void* buffer = nullptr;  // the analysis's, where the solve works
};

FAKE_EXPORT cusparseStatus_t cusparseSpSM_createDescr(cusparseSpSMDescr_t* d) {
  if (d == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *d = new cusparseSpSMDescr;
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpSM_destroyDescr(cusparseSpSMDescr_t d) {
  delete d;
  return CUSPARSE_STATUS_SUCCESS;
}

namespace {

// What op(A) C = alpha op(B) needs: SpMM's checks, A square and CSR, op(A)
// not conjugate.
cusparseStatus_t CheckSpSM(cusparseHandle_t h, cusparseOperation_t op_a, cusparseOperation_t op_b,
                           const void* alpha, cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                           cusparseDnMatDescr_t c, cudaDataType compute, cusparseSpSMDescr_t spsm) {
  static const double kZero = 0;
  cusparseStatus_t s = CheckSpMM(h, op_a, op_b, alpha, a, b, &kZero, c, compute);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (spsm == nullptr || a->rows != a->cols) return CUSPARSE_STATUS_INVALID_VALUE;
  if (a->coo || a->csc) {
    kDouble.Log("SpSM of a COO or CSC matrix: not modelled by this double");
    return CUSPARSE_STATUS_NOT_SUPPORTED;
  }
  return op_a == CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE ? CUSPARSE_STATUS_NOT_SUPPORTED : CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

// Two doubles per row, as SpSV: one column's right-hand side and solution.
FAKE_EXPORT cusparseStatus_t cusparseSpSM_bufferSize(cusparseHandle_t h, cusparseOperation_t op_a,
                                                     cusparseOperation_t op_b, const void* alpha,
                                                     cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                                     cusparseDnMatDescr_t c, cudaDataType compute, cusparseSpSMAlg_t,
                                                     cusparseSpSMDescr_t spsm, size_t* bytes) {
  cusparseStatus_t s = CheckSpSM(h, op_a, op_b, alpha, a, b, c, compute, spsm);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (bytes == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  *bytes = 2 * sizeof(double) * static_cast<size_t>(a->rows > 0 ? a->rows : 1);
  return CUSPARSE_STATUS_SUCCESS;
}

FAKE_EXPORT cusparseStatus_t cusparseSpSM_analysis(cusparseHandle_t h, cusparseOperation_t op_a,
                                                   cusparseOperation_t op_b, const void* alpha,
                                                   cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                                   cusparseDnMatDescr_t c, cudaDataType compute, cusparseSpSMAlg_t,
                                                   cusparseSpSMDescr_t spsm, void* buffer) {
  cusparseStatus_t s = CheckSpSM(h, op_a, op_b, alpha, a, b, c, compute, spsm);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  spsm->buffer = buffer;
  return CUSPARSE_STATUS_SUCCESS;
}

// op(A) C = alpha op(B), column by column of C.
FAKE_EXPORT cusparseStatus_t cusparseSpSM_solve(cusparseHandle_t h, cusparseOperation_t op_a,
                                                cusparseOperation_t op_b, const void* alpha,
                                                cusparseConstSpMatDescr_t a, cusparseConstDnMatDescr_t b,
                                                cusparseDnMatDescr_t c, cudaDataType compute, cusparseSpSMAlg_t,
                                                cusparseSpSMDescr_t spsm) {
  cusparseStatus_t s = CheckSpSM(h, op_a, op_b, alpha, a, b, c, compute, spsm);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  if (spsm->buffer == nullptr) return CUSPARSE_STATUS_INVALID_VALUE;  // not analysed
  s = WaitForStream(h);
  if (s != CUSPARSE_STATUS_SUCCESS) return s;
  const int64_t n = a->rows;
  double* rhs = static_cast<double*>(spsm->buffer);
  double* out = rhs + n;
  const double al = ValueAt(alpha, compute, 0);
  const bool tb = op_b != CUSPARSE_OPERATION_NON_TRANSPOSE;
  for (int64_t col = 0; col < c->cols; ++col) {
    for (int64_t i = 0; i < n; ++i) rhs[i] = al * ValueAt(b->values, b->value_type, tb ? b->At(col, i) : b->At(i, col));
    SolveTriangular(a, op_a != CUSPARSE_OPERATION_NON_TRANSPOSE, rhs, out);
    for (int64_t i = 0; i < n; ++i) Store(c->values, c->value_type, c->At(i, col), out[i]);
  }
  return CUSPARSE_STATUS_SUCCESS;
}

// ---- COO matrices ----------------------------------------------------------------

namespace {

cusparseStatus_t CreateCoo(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz, const void* row_ind,
                           const void* col_ind, const void* values, cusparseIndexType_t index_type,
                           cusparseIndexBase_t base, cudaDataType value_type) {
  if (d == nullptr || rows < 0 || cols < 0 || nnz < 0 || !KnownIndex(index_type) || !KnownValue(value_type) ||
      (base != CUSPARSE_INDEX_BASE_ZERO && base != CUSPARSE_INDEX_BASE_ONE) ||
      (nnz > 0 && (row_ind == nullptr || col_ind == nullptr || values == nullptr))) {
    return CUSPARSE_STATUS_INVALID_VALUE;
  }
  *d = new cusparseSpMatDescr{rows, cols, nnz, const_cast<void*>(row_ind), const_cast<void*>(col_ind),
                              const_cast<void*>(values), index_type, index_type, base, value_type,
                              CUSPARSE_FILL_MODE_LOWER, CUSPARSE_DIAG_TYPE_NON_UNIT, /*coo=*/true};
  return CUSPARSE_STATUS_SUCCESS;
}

}  // namespace

FAKE_EXPORT cusparseStatus_t cusparseCreateCoo(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz,
                                               void* row_ind, void* col_ind, void* values,
                                               cusparseIndexType_t index_type, cusparseIndexBase_t base,
                                               cudaDataType value_type) {
  return CreateCoo(d, rows, cols, nnz, row_ind, col_ind, values, index_type, base, value_type);
}

FAKE_EXPORT cusparseStatus_t cusparseCreateConstCoo(cusparseConstSpMatDescr_t* d, int64_t rows, int64_t cols,
                                                    int64_t nnz, const void* row_ind, const void* col_ind,
                                                    const void* values, cusparseIndexType_t index_type,
                                                    cusparseIndexBase_t base, cudaDataType value_type) {
  cusparseSpMatDescr_t made = nullptr;
  cusparseStatus_t s = CreateCoo(&made, rows, cols, nnz, row_ind, col_ind, values, index_type, base, value_type);
  if (s == CUSPARSE_STATUS_SUCCESS) *d = made;
  return s;
}

// ---- CSC matrices ----------------------------------------------------------------

FAKE_EXPORT cusparseStatus_t cusparseCreateCsc(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz,
                                               void* col_offsets, void* row_ind, void* values,
                                               cusparseIndexType_t col_type, cusparseIndexType_t row_type,
                                               cusparseIndexBase_t base, cudaDataType value_type) {
  // A CSC matrix is the CSR matrix of its transpose: made as one, then marked.
  cusparseStatus_t s = CreateCsr(d, cols, rows, nnz, col_offsets, row_ind, values, col_type, row_type, base, value_type);
  if (s == CUSPARSE_STATUS_SUCCESS) {
    std::swap((*d)->rows, (*d)->cols);
    (*d)->csc = true;
  }
  return s;
}

FAKE_EXPORT cusparseStatus_t cusparseCreateConstCsc(cusparseConstSpMatDescr_t* d, int64_t rows, int64_t cols,
                                                    int64_t nnz, const void* col_offsets, const void* row_ind,
                                                    const void* values, cusparseIndexType_t col_type,
                                                    cusparseIndexType_t row_type, cusparseIndexBase_t base,
                                                    cudaDataType value_type) {
  cusparseSpMatDescr_t made = nullptr;
  cusparseStatus_t s = cusparseCreateCsc(&made, rows, cols, nnz, const_cast<void*>(col_offsets),
                                         const_cast<void*>(row_ind), const_cast<void*>(values), col_type, row_type,
                                         base, value_type);
  if (s == CUSPARSE_STATUS_SUCCESS) *d = made;
  return s;
}
