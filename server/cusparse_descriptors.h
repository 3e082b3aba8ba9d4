// What the worker knows of a session's cuSPARSE descriptors
// (client/libs/cusparse.def's hooks). A descriptor captures device pointers
// when it is created and a later SpMV reads and writes through them, so the
// worker records, by the descriptor's session id, its shape, types and the
// byte ranges of its arrays (each checked against the session's memory at
// creation by the description's dptr[SIZE]s). SpMV and SpMM are checked
// against that record: every array still allocated, the dense operands of
// the shapes op(A) needs, and an external buffer that holds what the real
// cusparseSpMV_bufferSize (SpMM_bufferSize) answers for the same call.
// Anything else is refused with the library's invalid-value status.
//
// The index arrays' contents (column indices, row offsets) are not read:
// cuSPARSE trusts them, and a session's worker is its own process with its
// own CUDA context, so a hostile index reaches only that context's memory.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/allocation_table.h"

namespace rcuda::library {
class LibraryCallContext;
}

namespace rcuda::library::cusparse {

// Larger than any allocation: a range this many bytes long is refused, the
// size of an array whose index or value type is unknown.
inline constexpr __int128 kUnknownTypeBytes = static_cast<__int128>(1) << 100;

// The bytes of one index of a cusparseIndexType_t (16U, 32I, 64I) and of
// one value of a cudaDataType, in the description's size expressions;
// kUnknownTypeBytes for any other.
__int128 IndexBytes(__int128 type);
__int128 ValueBytes(__int128 type);
// The elements a dense matrix's array spans: ld*(cols-1)+rows column-major
// (CUSPARSE_ORDER_COL), ld*(rows-1)+cols row-major, at most
// kUnknownTypeBytes (so a size above 64 bits, refused); 0 when it has no
// element; kUnknownTypeBytes for another order. Its arguments are int64s.
__int128 DnMatElements(__int128 rows, __int128 cols, __int128 ld, __int128 order);

struct Descriptor {
  // kSpSV: an SpSV or SpSM descriptor (their handle classes keep them
  // apart), whose one array is the buffer its analysis was given (the solve
  // works in it).
  enum Kind { kCsr, kCoo, kCsc, kDnVec, kDnMat, kSpSV } kind = kCsr;
  int64_t rows = 0, cols = 0, nnz = 0;  // kCsr, kCoo, kCsc, kDnMat (rows, cols)
  int64_t size = 0;                     // kDnVec
  int value_type = 0;
  // The device arrays it captured: (pointer, bytes).
  std::vector<std::pair<uint64_t, uint64_t>> arrays;
};

// The session's descriptors, by their session id.
class DescriptorTable {
 public:
  void Record(int64_t id, Descriptor d) { descriptors_[id] = std::move(d); }
  void Forget(int64_t id) { descriptors_.erase(id); }
  const Descriptor* Find(int64_t id) const;

  // A product op(A) x -> y may run: A a recorded sparse (CSR, COO or CSC) matrix, x and y
  // recorded vectors of the sizes op(A) needs (op: 0 non-transpose, 1
  // transpose, 2 conjugate transpose), every array of the three still in
  // `memory`, or, with `memory` null, without looking at the memory.
  bool SpMVAllowed(const AllocationTable* memory, int64_t op, int64_t a, int64_t x, int64_t y) const;
  // The same for op(A) op(B) -> C: A a CSR matrix, B and C dense matrices
  // with op(B) k x n and C m x n, op(A) being m x k.
  bool SpMMAllowed(const AllocationTable* memory, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t c) const;
  // A triangular solve op(A) y = alpha x may be analysed: as SpMV, and A
  // square.
  bool SpSVAllowed(const AllocationTable* memory, int64_t op, int64_t a, int64_t x, int64_t y) const;
  // The same for op(A) C = alpha op(B) (SpSM): as SpMM, and A square.
  bool SpSMAllowed(const AllocationTable* memory, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t c) const;
  // The SpSV or SpSM descriptor `solve` was analysed with `bytes` of buffer
  // at `buffer`, and that buffer is still in `memory`.
  bool SpSVAnalysed(const AllocationTable& memory, int64_t solve) const;

  // A (a CSR matrix) may be written out dense into B: B a dense matrix of
  // A's shape, the arrays of both still in `memory` (unless it is null).
  bool SparseToDenseAllowed(const AllocationTable* memory, int64_t a, int64_t b) const;

 private:
  bool StillAllocated(const AllocationTable& memory, std::initializer_list<const Descriptor*> descriptors) const;

  std::unordered_map<int64_t, Descriptor> descriptors_;
};

// ---- The hooks client/libs/cusparse.def names (0 or the library's status) ----

// Before cusparseCreate[Const]Csr: non-negative dimensions and known types.
int CheckCsr(LibraryCallContext& c, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets_type,
             int64_t col_ind_type, int64_t value_type);
// After it succeeded: the shape and the three arrays' ranges.
int RecordCsr(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t row_offsets,
              int64_t col_ind, int64_t values, int64_t row_offsets_type, int64_t col_ind_type, int64_t value_type);
// After cusparseCreate[Const]Coo: row and column indices nnz each.
int RecordCoo(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t row_ind,
              int64_t col_ind, int64_t values, int64_t index_type, int64_t value_type);
// After cusparseCreate[Const]Csc: column offsets cols+1, row indices nnz.
int RecordCsc(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t nnz, int64_t col_offsets,
              int64_t row_ind, int64_t values, int64_t col_offsets_type, int64_t row_ind_type, int64_t value_type);
int CheckDnVec(LibraryCallContext& c, int64_t size, int64_t value_type);
int RecordDnVec(LibraryCallContext& c, int64_t id, int64_t size, int64_t values, int64_t value_type);
int CheckDnMat(LibraryCallContext& c, int64_t rows, int64_t cols, int64_t ld, int64_t value_type, int64_t order);
int RecordDnMat(LibraryCallContext& c, int64_t id, int64_t rows, int64_t cols, int64_t ld, int64_t values,
                int64_t value_type, int64_t order);
// After cusparseDestroySpMat / DestroyDnVec / DestroyDnMat.
int ForgetDescriptor(LibraryCallContext& c, int64_t id);
// Before SpMV_bufferSize: the shapes agree (the memory is not touched).
int CheckSpMVShape(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y);
// Before SpMV: the shapes agree, the arrays are still allocated, and the
// external buffer holds what the real SpMV_bufferSize answers for this call.
int CheckSpMV(LibraryCallContext& c, int64_t handle, int64_t op, const void* alpha, int64_t a, int64_t x,
              const void* beta, int64_t y, int64_t compute_type, int64_t alg, int64_t external_buffer);
// The same for SpMM_bufferSize and SpMM.
int CheckSpMMShape(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c);
int CheckSpMM(LibraryCallContext& c, int64_t handle, int64_t op_a, int64_t op_b, const void* alpha, int64_t a,
              int64_t b, const void* beta, int64_t mat_c, int64_t compute_type, int64_t alg, int64_t external_buffer);
// Before SparseToDense_bufferSize and SparseToDense (the latter with its
// external buffer checked against the real query, as SpMM's).
int CheckSparseToDenseShape(LibraryCallContext& c, int64_t a, int64_t b);
int CheckSparseToDense(LibraryCallContext& c, int64_t handle, int64_t a, int64_t b, int64_t alg,
                       int64_t external_buffer);
// Before cusparseSpMatSetAttribute: a fill mode or diagonal type, given as
// the 4-byte enum the function reads.
int CheckSpMatAttribute(LibraryCallContext& c, int64_t attribute, uint64_t data_size);
// Before SpSV_bufferSize: the shapes agree (op(A) square, x and y of its size).
int CheckSpSVShape(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y);
// Before SpSV_analysis: as SpMV (the arrays still allocated, the buffer what
// the real SpSV_bufferSize answers); records the buffer in the descriptor.
int CheckSpSVAnalysis(LibraryCallContext& c, int64_t handle, int64_t op, const void* alpha, int64_t a, int64_t x,
                      int64_t y, int64_t compute_type, int64_t alg, int64_t spsv, int64_t external_buffer);
// Before SpSV_solve: the shapes, the arrays still allocated, and the
// descriptor analysed with a buffer still allocated.
int CheckSpSVSolve(LibraryCallContext& c, int64_t op, int64_t a, int64_t x, int64_t y, int64_t spsv);
// SpSM's three, as SpSV's with dense matrices B and C (SpMM's shapes).
int CheckSpSMShape(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c);
int CheckSpSMAnalysis(LibraryCallContext& c, int64_t handle, int64_t op_a, int64_t op_b, const void* alpha, int64_t a,
                      int64_t b, int64_t mat_c, int64_t compute_type, int64_t alg, int64_t spsm,
                      int64_t external_buffer);
int CheckSpSMSolve(LibraryCallContext& c, int64_t op_a, int64_t op_b, int64_t a, int64_t b, int64_t mat_c,
                   int64_t spsm);

}  // namespace rcuda::library::cusparse
