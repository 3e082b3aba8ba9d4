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

}  // namespace
}  // namespace rcuda::library::cusparse
