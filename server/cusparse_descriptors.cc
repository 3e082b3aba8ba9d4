#include "server/cusparse_descriptors.h"

#include <cusparse.h>

#include "common/cuda_data_type_bytes.h"
#include "server/library_call.h"

namespace rcuda::library::cusparse {
namespace {

// The library handle class 0; the description's classes in order of first
// appearance: spmat 1, dnvec 2 (gen_forwarding.py's handle_classes).
constexpr int kSpMatClass = 1, kDnVecClass = 2;

bool KnownIndexType(int64_t type) { return IndexBytes(type) != kUnknownTypeBytes; }
bool KnownValueType(int64_t type) { return ValueBytes(type) != kUnknownTypeBytes; }

// n elements of `bytes` each, as the description computed them (checked to
// fit the session's memory before the call, so below 2^64).
uint64_t ArrayBytes(__int128 n, __int128 bytes) {
  const __int128 total = n * bytes;
  return total <= 0 ? 0 : static_cast<uint64_t>(total);
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

const Descriptor* DescriptorTable::Find(int64_t id) const {
  auto it = descriptors_.find(id);
  return it == descriptors_.end() ? nullptr : &it->second;
}

bool DescriptorTable::SpMVAllowed(const AllocationTable* memory, int64_t op, int64_t a, int64_t x, int64_t y) const {
  const Descriptor* m = Find(a);
  const Descriptor* vx = Find(x);
  const Descriptor* vy = Find(y);
  if (m == nullptr || vx == nullptr || vy == nullptr || m->kind != Descriptor::kCsr ||
      vx->kind != Descriptor::kDnVec || vy->kind != Descriptor::kDnVec) {
    return false;
  }
  if (op != CUSPARSE_OPERATION_NON_TRANSPOSE && op != CUSPARSE_OPERATION_TRANSPOSE &&
      op != CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE) {
    return false;
  }
  const bool transposed = op != CUSPARSE_OPERATION_NON_TRANSPOSE;
  if (vx->size != (transposed ? m->rows : m->cols) || vy->size != (transposed ? m->cols : m->rows)) return false;
  if (memory == nullptr) return true;
  for (const Descriptor* d : {m, vx, vy}) {
    for (const auto& [ptr, bytes] : d->arrays) {
      if (bytes != 0 && !memory->Contains(ptr, bytes)) return false;
    }
  }
  return true;
}

// ---- Hooks -------------------------------------------------------------------

int CheckCsr(LibraryCallContext& c, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets_type,
             int64_t col_ind_type, int64_t value_type) {
  const bool ok = rows >= 0 && cols >= 0 && nnz >= 0 && KnownIndexType(row_offsets_type) &&
                  KnownIndexType(col_ind_type) && KnownValueType(value_type);
  return ok ? 0 : c.invalid_value();
}

int RecordCsr(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets,
              int64_t col_ind, int64_t values, int64_t row_offsets_type, int64_t col_ind_type, int64_t value_type) {
  Descriptor d;
  d.kind = Descriptor::kCsr;
  d.rows = rows;
  d.cols = cols;
  d.nnz = nnz;
  d.value_type = static_cast<int>(value_type);
  const __int128 offsets = static_cast<__int128>(rows) + 1;
  d.arrays = {{static_cast<uint64_t>(row_offsets), ArrayBytes(offsets, IndexBytes(row_offsets_type))},
              {static_cast<uint64_t>(col_ind), ArrayBytes(nnz, IndexBytes(col_ind_type))},
              {static_cast<uint64_t>(values), ArrayBytes(nnz, ValueBytes(value_type))}};
  c.state().Extension<DescriptorTable>().Record(id, std::move(d));
  return 0;
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

int ForgetDescriptor(LibraryCallContext& c, int64_t id) {
  c.state().Extension<DescriptorTable>().Forget(id);
  return 0;
}

int CheckSpMVShape(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y) {
  return c.state().Extension<DescriptorTable>().SpMVAllowed(nullptr, op, a, x, y) ? 0 : c.invalid_value();
}

int CheckSpMV(LibraryCallContext& c, int64_t handle, int64_t op, const void* alpha, int64_t a, int64_t x,
              const void* beta, int64_t y, int64_t compute_type, int64_t alg, int64_t external_buffer) {
  if (!c.state().Extension<DescriptorTable>().SpMVAllowed(&c.memory(), op, a, x, y)) return c.invalid_value();
  void *h = nullptr, *ra = nullptr, *rx = nullptr, *ry = nullptr;
  if (!c.RealHandle(handle, 0, &h) || !c.RealHandle(a, kSpMatClass, &ra) || !c.RealHandle(x, kDnVecClass, &rx) ||
      !c.RealHandle(y, kDnVecClass, &ry)) {
    return c.invalid_value();
  }
  // The buffer SpMV reads and writes is as large as SpMV_bufferSize says
  // for this very call; its answer is the library's, not the client's.
  using Query = int (*)(void*, int, const void*, void*, void*, const void*, void*, int, int, size_t*);
  auto query = reinterpret_cast<Query>(c.Resolve("cusparseSpMV_bufferSize"));
  if (query == nullptr) return c.not_supported();
  size_t need = 0;
  const int status = query(h, static_cast<int>(op), alpha, ra, rx, beta, ry, static_cast<int>(compute_type),
                           static_cast<int>(alg), &need);
  if (status != 0) return status;
  if (need != 0 && !c.memory().Contains(static_cast<uint64_t>(external_buffer), need)) return c.invalid_value();
  return 0;
}

}  // namespace rcuda::library::cusparse
