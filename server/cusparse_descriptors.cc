#include "server/cusparse_descriptors.h"

#include <cusparse.h>

#include "common/cuda_data_type_bytes.h"
#include "server/library_call.h"

namespace rcuda::library::cusparse {
namespace {

// The library handle class 0; the description's classes in order of first
// appearance: spmat 1, dnvec 2 (gen_forwarding.py's handle_classes).
constexpr int kSpMatClass = 1, kDnVecClass = 2, kDnMatClass = 3, kSpSVClass = 4, kSpSMClass = 5;

bool KnownIndexType(int64_t type) { return IndexBytes(type) != kUnknownTypeBytes; }
bool KnownValueType(int64_t type) { return ValueBytes(type) != kUnknownTypeBytes; }

// n elements of `bytes` each, as the description computed them (checked to
// fit the session's memory before the call, so below 2^64).
uint64_t ArrayBytes(__int128 n, __int128 bytes) {
  const __int128 total = n * bytes;
  return total <= 0 ? 0 : static_cast<uint64_t>(total);
}

// A sparse matrix the products take: CSR, COO or CSC.
bool Sparse(const Descriptor* d) {
  return d != nullptr && (d->kind == Descriptor::kCsr || d->kind == Descriptor::kCoo || d->kind == Descriptor::kCsc);
}

}  // namespace

__int128 IndexBytes(__int128 type) {
  switch (type) {
    case CUSPARSE_INDEX_16U: return 2;
    case CUSPARSE_INDEX_32I: return 4;
    case CUSPARSE_INDEX_64I: return 8;
    default: return kUnknownTypeBytes;
  }
}

__int128 ValueBytes(__int128 type) {
  if (type < INT32_MIN || type > INT32_MAX) return kUnknownTypeBytes;
  const size_t bytes = CudaDataTypeBytes(static_cast<int64_t>(type));
  return bytes == 0 ? kUnknownTypeBytes : static_cast<__int128>(bytes);
}

__int128 DnMatElements(__int128 rows, __int128 cols, __int128 ld, __int128 order) {
  if (order != CUSPARSE_ORDER_COL && order != CUSPARSE_ORDER_ROW) return kUnknownTypeBytes;
  if (rows <= 0 || cols <= 0) return 0;
  // Each below 2^63 (decoded int64s): the product stays below 2^127, and the
  // result is capped so that times a value's bytes it cannot overflow.
  const __int128 n = order == CUSPARSE_ORDER_COL ? ld * (cols - 1) + rows : ld * (rows - 1) + cols;
  return n < kUnknownTypeBytes ? n : kUnknownTypeBytes;
}

const Descriptor* DescriptorTable::Find(int64_t id) const {
  auto it = descriptors_.find(id);
  return it == descriptors_.end() ? nullptr : &it->second;
}

bool DescriptorTable::StillAllocated(const AllocationTable& memory,
                                     std::initializer_list<const Descriptor*> descriptors) const {
  for (const Descriptor* d : descriptors) {
    for (const auto& [ptr, bytes] : d->arrays) {
      if (bytes != 0 && !memory.Contains(ptr, bytes)) return false;
    }
  }
  return true;
}

bool DescriptorTable::SpMVAllowed(const AllocationTable* memory, int64_t op, int64_t a, int64_t x, int64_t y) const {
  const Descriptor* m = Find(a);
  const Descriptor* vx = Find(x);
  const Descriptor* vy = Find(y);
  if (!Sparse(m) || vx == nullptr || vy == nullptr ||
      vx->kind != Descriptor::kDnVec || vy->kind != Descriptor::kDnVec) {
    return false;
  }
  if (op != CUSPARSE_OPERATION_NON_TRANSPOSE && op != CUSPARSE_OPERATION_TRANSPOSE &&
      op != CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE) {
    return false;
  }
  const bool transposed = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  if (vx->size != (transposed ? m->rows : m->cols) || vy->size != (transposed ? m->cols : m->rows)) return false;
  return memory == nullptr || StillAllocated(*memory, {m, vx, vy});
}

bool DescriptorTable::SpMMAllowed(const AllocationTable* memory, int64_t op_a, int64_t op_b, int64_t a, int64_t b,
                                  int64_t c) const {
  const Descriptor* m = Find(a);
  const Descriptor* db = Find(b);
  const Descriptor* dc = Find(c);
  if (!Sparse(m) || db == nullptr || dc == nullptr ||
      db->kind != Descriptor::kDnMat || dc->kind != Descriptor::kDnMat) {
    return false;
  }
  for (int64_t op : {op_a, op_b}) {
    if (op != CUSPARSE_OPERATION_NON_TRANSPOSE && op != CUSPARSE_OPERATION_TRANSPOSE &&
        op != CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE) {
      return false;
    }
  }
  // op(A) is m x k, op(B) k x n, C m x n.
  const bool ta = op_a != CUSPARSE_OPERATION_NON_TRANSPOSE, tb = op_b != CUSPARSE_OPERATION_NON_TRANSPOSE;
  const int64_t rows = ta ? m->cols : m->rows, inner = ta ? m->rows : m->cols;
  const int64_t b_rows = tb ? db->cols : db->rows, b_cols = tb ? db->rows : db->cols;
  if (b_rows != inner || dc->rows != rows || dc->cols != b_cols) return false;
  return memory == nullptr || StillAllocated(*memory, {m, db, dc});
}

bool DescriptorTable::SpSVAllowed(const AllocationTable* memory, int64_t op, int64_t a, int64_t x, int64_t y) const {
  const Descriptor* m = Find(a);
  return Sparse(m) && m->rows == m->cols && SpMVAllowed(memory, op, a, x, y);
}

bool DescriptorTable::SpSMAllowed(const AllocationTable* memory, int64_t op_a, int64_t op_b, int64_t a, int64_t b,
                                  int64_t c) const {
  const Descriptor* m = Find(a);
  return Sparse(m) && m->rows == m->cols && SpMMAllowed(memory, op_a, op_b, a, b, c);
}

bool DescriptorTable::SpSVAnalysed(const AllocationTable& memory, int64_t spsv) const {
  const Descriptor* d = Find(spsv);
  return d != nullptr && d->kind == Descriptor::kSpSV && !d->arrays.empty() && StillAllocated(memory, {d});
}

bool DescriptorTable::SparseToDenseAllowed(const AllocationTable* memory, int64_t a, int64_t b) const {
  const Descriptor* m = Find(a);
  const Descriptor* d = Find(b);
  if (!Sparse(m) || !d || d->kind != Descriptor::kDnMat) return false;
  if (m->rows != d->rows || m->cols != d->cols) return false;
  return memory == nullptr || StillAllocated(*memory, {m, d});
}

// ---- Hooks -------------------------------------------------------------------

int CheckCsr(LibraryCallContext& c, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets_type,
             int64_t col_ind_type, int64_t value_type) {
  const bool ok = rows >= 0 && cols >= 0 && nnz >= 0 && KnownIndexType(row_offsets_type) &&
                  KnownIndexType(col_ind_type) && KnownValueType(value_type);
  return ok ? 0 : c.invalid_value();
}

namespace {

// A sparse matrix's record: its shape and its three arrays, the first of
// `first_count` indices of `first_type`, the second of nnz indices of
// `second_type`, the values nnz of `value_type` (CSR: row offsets, column
// indices; COO: row and column indices; CSC: column offsets, row indices).
int RecordSparse(LibraryCallContext& c, Descriptor::Kind kind, int64_t id, int64_t rows, int64_t cols, int64_t nnz,
                 int64_t first, __int128 first_count, int64_t first_type, int64_t second, int64_t second_type,
                 int64_t values, int64_t value_type) {
  Descriptor d;
  d.kind = kind;
  d.rows = rows;
  d.cols = cols;
  d.nnz = nnz;
  d.value_type = static_cast<int>(value_type);
  d.arrays = {{static_cast<uint64_t>(first), ArrayBytes(first_count, IndexBytes(first_type))},
              {static_cast<uint64_t>(second), ArrayBytes(nnz, IndexBytes(second_type))},
              {static_cast<uint64_t>(values), ArrayBytes(nnz, ValueBytes(value_type))}};
  c.state().Extension<DescriptorTable>().Record(id, std::move(d));
  return 0;
}

}  // namespace

int RecordCsr(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets,
              int64_t col_ind, int64_t values, int64_t row_offsets_type, int64_t col_ind_type, int64_t value_type) {
  return RecordSparse(c, Descriptor::kCsr, id, rows, cols, nnz, row_offsets, static_cast<__int128>(rows) + 1,
                      row_offsets_type, col_ind, col_ind_type, values, value_type);
}

int RecordCoo(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t row_ind,
              int64_t col_ind, int64_t values, int64_t index_type, int64_t value_type) {
  return RecordSparse(c, Descriptor::kCoo, id, rows, cols, nnz, row_ind, nnz, index_type, col_ind, index_type, values,
                      value_type);
}

int RecordCsc(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t col_offsets,
              int64_t row_ind, int64_t values, int64_t col_offsets_type, int64_t row_ind_type, int64_t value_type) {
  return RecordSparse(c, Descriptor::kCsc, id, rows, cols, nnz, col_offsets, static_cast<__int128>(cols) + 1,
                      col_offsets_type, row_ind, row_ind_type, values, value_type);
}

int CheckDnVec(LibraryCallContext& c, int64_t size, int64_t value_type) {
  return size >= 0 && KnownValueType(value_type) ? 0 : c.invalid_value();
}

int RecordDnVec(LibraryCallContext& c, int64_t id, int64_t size, int64_t values, int64_t value_type) {
  Descriptor d;
  d.kind = Descriptor::kDnVec;
  d.size = size;
  d.value_type = static_cast<int>(value_type);
  d.arrays = {{static_cast<uint64_t>(values), ArrayBytes(size, ValueBytes(value_type))}};
  c.state().Extension<DescriptorTable>().Record(id, std::move(d));
  return 0;
}

int CheckDnMat(LibraryCallContext& c, int64_t rows, int64_t cols, int64_t ld, int64_t value_type, int64_t order) {
  const bool col = order == CUSPARSE_ORDER_COL;
  const bool ok = rows >= 0 && cols >= 0 && (col || order == CUSPARSE_ORDER_ROW) && ld >= 1 &&
                  ld >= (col ? rows : cols) && KnownValueType(value_type);
  return ok ? 0 : c.invalid_value();
}

int RecordDnMat(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t ld, int64_t values,
                int64_t value_type, int64_t order) {
  Descriptor d;
  d.kind = Descriptor::kDnMat;
  d.rows = rows;
  d.cols = cols;
  d.value_type = static_cast<int>(value_type);
  const __int128 elements = DnMatElements(rows, cols, ld, order);
  d.arrays = {{static_cast<uint64_t>(values), ArrayBytes(elements, ValueBytes(value_type))}};
  c.state().Extension<DescriptorTable>().Record(id, std::move(d));
  return 0;
}

int ForgetDescriptor(LibraryCallContext& c, int64_t id) {
  c.state().Extension<DescriptorTable>().Forget(id);
  return 0;
}

int CheckSpMVShape(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y) {
  return c.state().Extension<DescriptorTable>().SpMVAllowed(nullptr, op, a, x, y) ? 0 : c.invalid_value();
}

// The real library's answer to `query` (SpMV_bufferSize or SpMM_bufferSize,
// called by `ask`) for this very call, and the buffer checked against it:
// SpMV and SpMM read and write as much of the buffer as it says.
template <class Ask>
int CheckBuffer(LibraryCallContext& c, const char* query, Ask ask, int64_t external_buffer) {
  void* fn = c.Resolve(query);
  if (fn == nullptr) return c.not_supported();
  size_t need = 0;
  const int status = ask(fn, &need);
  if (status != 0) return status;
  if (need != 0 && !c.memory().Contains(static_cast<uint64_t>(external_buffer), need)) return c.invalid_value();
  return 0;
}

int CheckSpMV(LibraryCallContext& c, int64_t handle, int64_t op, const void* alpha, int64_t a, int64_t x,
              const void* beta, int64_t y, int64_t compute_type, int64_t alg, int64_t external_buffer) {
  if (!c.state().Extension<DescriptorTable>().SpMVAllowed(&c.memory(), op, a, x, y)) return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rx = nullptr, *ry = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(x, kDnVecClass, &rx) ||
      !c.RealHandle(y, kDnVecClass, &ry)) {
    return c.invalid_value();
  }
  using Query = int (*)(void*, int, const void*, void*, void*, const void*, void*, int, int, size_t*);
  auto ask = [&](void* fn, size_t* need) {
    return reinterpret_cast<Query>(fn)(h, static_cast<int>(op), alpha, ra, rx, beta, ry, static_cast<int>(compute_type),
                                       static_cast<int>(alg), need);
  };
  return CheckBuffer(c, "cusparseSpMV_bufferSize", ask, external_buffer);
}

int CheckSpMMShape(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c) {
  const bool ok = c.state().Extension<DescriptorTable>().SpMMAllowed(nullptr, op_a, op_b, a, b, mat_c);
  return ok ? 0 : c.invalid_value();
}

int CheckSpMM(LibraryCallContext& c, int64_t handle, int64_t op_a, int64_t op_b, const void* alpha, int64_t a,
              int64_t b, const void* beta, int64_t mat_c, int64_t compute_type, int64_t alg, int64_t external_buffer) {
  if (!c.state().Extension<DescriptorTable>().SpMMAllowed(&c.memory(), op_a, op_b, a, b, mat_c))
    return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rb = nullptr, *rc = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(b, kDnMatClass, &rb) ||
      !c.RealHandle(mat_c, kDnMatClass, &rc)) {
    return c.invalid_value();
  }
  using Query = int (*)(void*, int, int, const void*, void*, void*, const void*, void*, int, int, size_t*);
  auto ask = [&](void* fn, size_t* need) {
    return reinterpret_cast<Query>(fn)(h, static_cast<int>(op_a), static_cast<int>(op_b), alpha, ra, rb, beta, rc,
                                       static_cast<int>(compute_type), static_cast<int>(alg), need);
  };
  return CheckBuffer(c, "cusparseSpMM_bufferSize", ask, external_buffer);
}

int CheckSparseToDenseShape(LibraryCallContext& c, int64_t a, int64_t b) {
  return c.state().Extension<DescriptorTable>().SparseToDenseAllowed(nullptr, a, b) ? 0 : c.invalid_value();
}

int CheckSparseToDense(LibraryCallContext& c, int64_t handle, int64_t a, int64_t b, int64_t alg,
                       int64_t external_buffer) {
  if (!c.state().Extension<DescriptorTable>().SparseToDenseAllowed(&c.memory(), a, b)) return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rb = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(b, kDnMatClass, &rb)) {
    return c.invalid_value();
  }
  using Query = int (*)(void*, void*, void*, int, size_t*);
  auto ask = [&](void* fn, size_t* need) { return reinterpret_cast<Query>(fn)(h, ra, rb, static_cast<int>(alg), need); };
  return CheckBuffer(c, "cusparseSparseToDense_bufferSize", ask, external_buffer);
}

int CheckSpMatAttribute(LibraryCallContext& c, int64_t attribute, uint64_t data_size) {
  const bool known = attribute == CUSPARSE_SPMAT_FILL_MODE || attribute == CUSPARSE_SPMAT_DIAG_TYPE;
  return known && data_size == sizeof(int) ? 0 : c.invalid_value();
}

int CheckSpSVShape(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y) {
  return c.state().Extension<DescriptorTable>().SpSVAllowed(nullptr, op, a, x, y) ? 0 : c.invalid_value();
}

int CheckSpSVAnalysis(LibraryCallContext& c, int64_t handle, int64_t op, const void* alpha, int64_t a, int64_t x,
                      int64_t y, int64_t compute_type, int64_t alg, int64_t spsv, int64_t external_buffer) {
  DescriptorTable& table = c.state().Extension<DescriptorTable>();
  if (!table.SpSVAllowed(&c.memory(), op, a, x, y)) return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rx = nullptr, *ry = nullptr, *rs = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(x, kDnVecClass, &rx) ||
      !c.RealHandle(y, kDnVecClass, &ry) || !c.RealHandle(spsv, kSpSVClass, &rs)) {
    return c.invalid_value();
  }
  using Query = int (*)(void*, int, const void*, void*, void*, void*, int, int, void*, size_t*);
  size_t need = 0;
  auto ask = [&](void* fn, size_t* bytes) {
    const int status = reinterpret_cast<Query>(fn)(h, static_cast<int>(op), alpha, ra, rx, ry,
                                                   static_cast<int>(compute_type), static_cast<int>(alg), rs, bytes);
    need = *bytes;
    return status;
  };
  const int refused = CheckBuffer(c, "cusparseSpSV_bufferSize", ask, external_buffer);
  if (refused != 0) return refused;
  // The solve works in this buffer: it must still be there then.
  Descriptor d;
  d.kind = Descriptor::kSpSV;
  d.arrays = {{static_cast<uint64_t>(external_buffer), need}};
  table.Record(spsv, std::move(d));
  return 0;
}

int CheckSpSVSolve(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y, int64_t spsv) {
  const DescriptorTable& table = c.state().Extension<DescriptorTable>();
  const bool ok = table.SpSVAllowed(&c.memory(), op, a, x, y) && table.SpSVAnalysed(c.memory(), spsv);
  return ok ? 0 : c.invalid_value();
}

int CheckSpSMShape(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c) {
  return c.state().Extension<DescriptorTable>().SpSMAllowed(nullptr, op_a, op_b, a, b, mat_c) ? 0 : c.invalid_value();
}

int CheckSpSMAnalysis(LibraryCallContext& c, int64_t handle, int64_t op_a, int64_t op_b, const void* alpha, int64_t a,
                      int64_t b, int64_t mat_c, int64_t compute_type, int64_t alg, int64_t spsm,
                      int64_t external_buffer) {
  DescriptorTable& table = c.state().Extension<DescriptorTable>();
  if (!table.SpSMAllowed(&c.memory(), op_a, op_b, a, b, mat_c)) return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rb = nullptr, *rc = nullptr, *rs = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(b, kDnMatClass, &rb) ||
      !c.RealHandle(mat_c, kDnMatClass, &rc) || !c.RealHandle(spsm, kSpSMClass, &rs)) {
    return c.invalid_value();
  }
  using Query = int (*)(void*, int, int, const void*, void*, void*, void*, int, int, void*, size_t*);
  size_t need = 0;
  auto ask = [&](void* fn, size_t* bytes) {
    const int status = reinterpret_cast<Query>(fn)(h, static_cast<int>(op_a), static_cast<int>(op_b), alpha, ra, rb,
                                                   rc, static_cast<int>(compute_type), static_cast<int>(alg), rs,
                                                   bytes);
    need = *bytes;
    return status;
  };
  const int refused = CheckBuffer(c, "cusparseSpSM_bufferSize", ask, external_buffer);
  if (refused != 0) return refused;
  // The solve works in this buffer: it must still be there then.
  Descriptor d;
  d.kind = Descriptor::kSpSV;
  d.arrays = {{static_cast<uint64_t>(external_buffer), need}};
  table.Record(spsm, std::move(d));
  return 0;
}

int CheckSpSMSolve(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c,
                   int64_t spsm) {
  const DescriptorTable& table = c.state().Extension<DescriptorTable>();
  const bool ok = table.SpSMAllowed(&c.memory(), op_a, op_b, a, b, mat_c) && table.SpSVAnalysed(c.memory(), spsm);
  return ok ? 0 : c.invalid_value();
}

}  // namespace rcuda::library::cusparse
