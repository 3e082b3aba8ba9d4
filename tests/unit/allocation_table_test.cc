// The table of device memory a session owns (common/allocation_table.h),
// which decides whether a pointer may be used.
#include <catch2/catch.hpp>

#include "common/allocation_table.h"

namespace rcuda {

TEST_CASE("ranges contain exactly their bytes", "[allocation_table]") {
  AllocationTable t;
  t.Add(0x1000, 0x100, AllocationTable::Kind::kMalloc);
  t.Add(0x1100, 0x100, AllocationTable::Kind::kMalloc);  // adjacent
  t.Add(0x9000, 16, AllocationTable::Kind::kVariable);

  CHECK(t.Contains(0x1000, 0x100));
  CHECK(t.Contains(0x1000, 0));
  CHECK(t.Contains(0x10ff, 1));
  CHECK(t.Contains(0x1100, 0x100));
  CHECK_FALSE(t.Contains(0x0fff, 1));          // before the first range
  CHECK_FALSE(t.Contains(0x0fff, 2));          // straddles its start
  CHECK_FALSE(t.Contains(0x10f0, 0x20));       // spans two adjacent ranges
  CHECK_FALSE(t.Contains(0x1000, 0x101));      // one byte too many
  CHECK_FALSE(t.Contains(0x1200, 1));          // just after
  CHECK_FALSE(t.Contains(0x1000, UINT64_MAX));  // size that would wrap
  CHECK_FALSE(t.Contains(UINT64_MAX, 2));
  CHECK(t.Contains(0x9008, 8));
  CHECK_FALSE(t.Contains(0x9008, 9));
  CHECK(t.count() == 3);

  uint64_t base = 0, size = 0;
  REQUIRE(t.Find(0x1150, &base, &size));
  CHECK(base == 0x1100);
  CHECK(size == 0x100);
  CHECK_FALSE(t.Find(0x1200, &base, &size));
  CHECK_FALSE(t.Find(0x10, &base, &size));
}

TEST_CASE("a zero-byte allocation owns only its base", "[allocation_table]") {
  AllocationTable t;
  t.Add(0x5000, 0, AllocationTable::Kind::kMalloc);
  CHECK(t.Contains(0x5000, 0));
  CHECK_FALSE(t.Contains(0x5000, 1));
  CHECK_FALSE(t.Contains(0x5001, 0));
  uint64_t size = 99;
  CHECK(t.RemoveMalloc(0x5000, &size));
  CHECK(size == 0);
}

TEST_CASE("only a cudaMalloc base can be freed", "[allocation_table]") {
  AllocationTable t;
  t.Add(0x1000, 0x100, AllocationTable::Kind::kMalloc);
  t.Add(0x2000, 0x40, AllocationTable::Kind::kMalloc);
  t.Add(0x9000, 16, AllocationTable::Kind::kVariable);
  CHECK(t.malloc_bytes() == 0x140);  // variables are not counted

  CHECK_FALSE(t.RemoveMalloc(0x1004));  // inside, not the base
  CHECK_FALSE(t.RemoveMalloc(0x9000));  // a module variable
  CHECK_FALSE(t.RemoveMalloc(0x3000));  // unknown
  CHECK(t.malloc_bytes() == 0x140);

  uint64_t size = 0;
  CHECK(t.RemoveMalloc(0x1000, &size));
  CHECK(size == 0x100);
  CHECK(t.malloc_bytes() == 0x40);
  CHECK_FALSE(t.Contains(0x1000, 1));
  CHECK_FALSE(t.RemoveMalloc(0x1000));  // twice
  CHECK(t.Contains(0x2000, 0x40));
  CHECK(t.Contains(0x9000, 16));

  t.Clear();
  CHECK(t.count() == 0);
  CHECK(t.malloc_bytes() == 0);
  CHECK_FALSE(t.Contains(0x2000, 1));
}

}  // namespace rcuda
