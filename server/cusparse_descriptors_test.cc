// server/cusparse_descriptors.h: the sizes of cuSPARSE's index and value
// types (unknown ones sized beyond any allocation), and which SpMV calls
// the descriptor table lets through: shapes, classes, and arrays freed
// after their descriptor was made.
#include "server/cusparse_descriptors.h"

#include <cusparse.h>

#include <catch2/catch.hpp>

namespace rcuda::library::cusparse {
namespace {

Descriptor Csr(int64_t rows, int64_t cols, uint64_t base) {
  Descriptor d;
  d.kind = Descriptor::kCsr;
  d.rows = rows;
  d.cols = cols;
  d.nnz = 4;
  d.arrays = {{base, 4 * uint64_t(rows + 1)}, {base + 0x100, 16}, {base + 0x200, 16}};
  return d;
}

Descriptor Vector(int64_t size, uint64_t values) {
  Descriptor d;
  d.kind = Descriptor::kDnVec;
  d.size = size;
  d.arrays = {{values, 4 * uint64_t(size)}};
  return d;
}

TEST_CASE("cuSPARSE descriptors: type sizes", "[server_cusparse_descriptors]") {
  CHECK(IndexBytes(CUSPARSE_INDEX_16U) == 2);
  CHECK(IndexBytes(CUSPARSE_INDEX_32I) == 4);
  CHECK(IndexBytes(CUSPARSE_INDEX_64I) == 8);
  CHECK(IndexBytes(0) == kUnknownTypeBytes);
  CHECK(IndexBytes(static_cast<__int128>(1) << 70) == kUnknownTypeBytes);
  CHECK(ValueBytes(CUDA_R_32F) == 4);
  CHECK(ValueBytes(CUDA_C_64F) == 16);
  CHECK(ValueBytes(CUDA_R_4I) == kUnknownTypeBytes);  // half a byte: not sizable
  CHECK(ValueBytes(-1) == kUnknownTypeBytes);
  CHECK(ValueBytes(static_cast<__int128>(CUDA_R_32F) + (static_cast<__int128>(1) << 64)) == kUnknownTypeBytes);
  // Dense matrices: the span of a column- or row-major array.
  CHECK(DnMatElements(3, 4, 5, CUSPARSE_ORDER_COL) == 5 * 3 + 3);
  CHECK(DnMatElements(3, 4, 6, CUSPARSE_ORDER_ROW) == 6 * 2 + 4);
  CHECK(DnMatElements(0, 4, 6, CUSPARSE_ORDER_ROW) == 0);
  CHECK(DnMatElements(3, 4, 6, 7) == kUnknownTypeBytes);
  CHECK(DnMatElements(INT64_MAX, INT64_MAX, INT64_MAX, CUSPARSE_ORDER_COL) == kUnknownTypeBytes);
}

TEST_CASE("cuSPARSE descriptors: SpMV shapes and arrays", "[server_cusparse_descriptors]") {
  AllocationTable memory;
  memory.Add(0x10000, 0x1000, AllocationTable::Kind::kMalloc);  // A's arrays
  memory.Add(0x20000, 12, AllocationTable::Kind::kMalloc);      // 3 floats
  memory.Add(0x30000, 8, AllocationTable::Kind::kMalloc);       // 2 floats
  DescriptorTable table;
  table.Record(1, Csr(2, 3, 0x10000));  // 2 x 3
  table.Record(2, Vector(3, 0x20000));
  table.Record(3, Vector(2, 0x30000));
  const int64_t n = CUSPARSE_OPERATION_NON_TRANSPOSE, t = CUSPARSE_OPERATION_TRANSPOSE;
  CHECK(table.SpMVAllowed(&memory, n, 1, 2, 3));   // A (2x3) x3 -> y2
  CHECK(table.SpMVAllowed(&memory, t, 1, 3, 2));   // A^T x2 -> y3
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 1, 3, 2));  // sizes of A^T's
  CHECK_FALSE(table.SpMVAllowed(&memory, t, 1, 2, 3));
  CHECK_FALSE(table.SpMVAllowed(&memory, 7, 1, 2, 3));  // no such operation
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 2, 2, 3));  // a vector as the matrix
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 1, 1, 3));  // the matrix as a vector
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 1, 2, 9));  // no such descriptor
  // Shapes alone (SpMV_bufferSize): the memory is not looked at.
  AllocationTable empty;
  CHECK(table.SpMVAllowed(nullptr, n, 1, 2, 3));
  CHECK_FALSE(table.SpMVAllowed(&empty, n, 1, 2, 3));
  // x freed after its descriptor was made.
  REQUIRE(memory.RemoveMalloc(0x20000));
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 1, 2, 3));
  table.Forget(2);
  CHECK(table.Find(2) == nullptr);
  CHECK(table.Find(1) != nullptr);
}

TEST_CASE("cuSPARSE descriptors: SpMM shapes", "[server_cusparse_descriptors]") {
  auto dense = [](int64_t rows, int64_t cols, uint64_t values) {
    Descriptor d;
    d.kind = Descriptor::kDnMat;
    d.rows = rows;
    d.cols = cols;
    d.arrays = {{values, 4 * uint64_t(rows * cols)}};
    return d;
  };
  AllocationTable memory;
  memory.Add(0x10000, 0x1000, AllocationTable::Kind::kMalloc);
  DescriptorTable table;
  table.Record(1, Csr(2, 3, 0x10000));         // A: 2 x 3
  table.Record(2, dense(3, 4, 0x10400));       // B: 3 x 4
  table.Record(3, dense(2, 4, 0x10800));       // C: 2 x 4
  table.Record(4, dense(4, 3, 0x10c00));       // B^T's storage: 4 x 3
  table.Record(5, Vector(3, 0x10f00));
  const int64_t n = CUSPARSE_OPERATION_NON_TRANSPOSE, t = CUSPARSE_OPERATION_TRANSPOSE;
  CHECK(table.SpMMAllowed(&memory, n, n, 1, 2, 3));   // (2x3)(3x4) -> 2x4
  CHECK(table.SpMMAllowed(&memory, n, t, 1, 4, 3));   // (2x3)(4x3)^T -> 2x4
  CHECK_FALSE(table.SpMMAllowed(&memory, t, n, 1, 2, 3));  // A^T is 3 x 2
  CHECK_FALSE(table.SpMMAllowed(&memory, n, n, 1, 4, 3));
  CHECK_FALSE(table.SpMMAllowed(&memory, n, n, 1, 5, 3));  // a vector as B
  CHECK_FALSE(table.SpMMAllowed(&memory, n, n, 2, 2, 3));  // a dense matrix as A
  AllocationTable elsewhere;
  CHECK_FALSE(table.SpMMAllowed(&elsewhere, n, n, 1, 2, 3));
  CHECK(table.SpMMAllowed(nullptr, n, n, 1, 2, 3));

  // SparseToDense: B of A's shape (2 x 3), a CSR A, a dense B.
  table.Record(6, dense(2, 3, 0x10d00));
  CHECK(table.SparseToDenseAllowed(&memory, 1, 6));
  CHECK_FALSE(table.SparseToDenseAllowed(&memory, 1, 2));  // 3 x 4
  CHECK_FALSE(table.SparseToDenseAllowed(&memory, 1, 5));  // a vector
  CHECK_FALSE(table.SparseToDenseAllowed(&memory, 6, 6));  // a dense matrix as A
  CHECK_FALSE(table.SparseToDenseAllowed(&memory, 1, 7));  // no such descriptor
  CHECK_FALSE(table.SparseToDenseAllowed(&elsewhere, 1, 6));
  CHECK(table.SparseToDenseAllowed(nullptr, 1, 6));
}

TEST_CASE("cuSPARSE descriptors: a COO matrix is a sparse operand as CSR is", "[server_cusparse_descriptors]") {
  AllocationTable memory;
  memory.Add(0x10000, 0x1000, AllocationTable::Kind::kMalloc);
  DescriptorTable table;
  Descriptor coo = Csr(2, 3, 0x10000);
  coo.kind = Descriptor::kCoo;
  table.Record(1, coo);
  table.Record(2, Vector(3, 0x10400));
  table.Record(3, Vector(2, 0x10500));
  const int64_t n = CUSPARSE_OPERATION_NON_TRANSPOSE;
  CHECK(table.SpMVAllowed(&memory, n, 1, 2, 3));
  CHECK_FALSE(table.SpMVAllowed(&memory, n, 2, 2, 3));  // a vector as A
  AllocationTable elsewhere;
  CHECK_FALSE(table.SpMVAllowed(&elsewhere, n, 1, 2, 3));
}

TEST_CASE("cuSPARSE descriptors: SpSV shapes and the analysis buffer", "[server_cusparse_descriptors]") {
  AllocationTable memory;
  memory.Add(0x10000, 0x1000, AllocationTable::Kind::kMalloc);
  DescriptorTable table;
  table.Record(1, Csr(3, 3, 0x10000));  // square
  table.Record(2, Csr(3, 4, 0x10100));  // not square
  table.Record(3, Vector(3, 0x10400));
  table.Record(4, Vector(3, 0x10500));
  table.Record(5, Vector(4, 0x10600));
  const int64_t n = CUSPARSE_OPERATION_NON_TRANSPOSE;
  CHECK(table.SpSVAllowed(&memory, n, 1, 3, 4));
  CHECK_FALSE(table.SpSVAllowed(&memory, n, 2, 5, 3));  // 3 x 4: SpMV would take it, SpSV not
  CHECK_FALSE(table.SpSVAllowed(&memory, n, 1, 5, 4));  // x of 4
  CHECK_FALSE(table.SpSVAllowed(&memory, n, 3, 3, 4));  // a vector as A
  // Not analysed, analysed, its buffer freed, another descriptor's kind.
  CHECK_FALSE(table.SpSVAnalysed(memory, 6));
  Descriptor spsv;
  spsv.kind = Descriptor::kSpSV;
  spsv.arrays = {{0x10800, 0x100}};
  table.Record(6, spsv);
  CHECK(table.SpSVAnalysed(memory, 6));
  AllocationTable freed;
  CHECK_FALSE(table.SpSVAnalysed(freed, 6));
  CHECK_FALSE(table.SpSVAnalysed(memory, 3));
  table.Forget(6);
  CHECK_FALSE(table.SpSVAnalysed(memory, 6));
}

}  // namespace
}  // namespace rcuda::library::cusparse
