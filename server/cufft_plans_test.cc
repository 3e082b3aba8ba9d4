// server/cufft_plans.h: an Exec's byte counts from a plan's shape (hostile
// shapes refused above 64 bits), and which Execs and work areas the plan
// table lets through against a session's memory.
#include "server/cufft_plans.h"

#include <cufft.h>

#include <catch2/catch.hpp>

namespace rcuda::library::cufft {
namespace {

PlanShape Shape(int type, int rank, int64_t nx, int64_t ny, int64_t nz, int64_t batch) {
  PlanShape s;
  s.type = type;
  s.rank = rank;
  s.n[0] = nx;
  s.n[1] = ny;
  s.n[2] = nz;
  s.batch = batch;
  return s;
}

TEST_CASE("cuFFT plans: Exec bytes of each transform type", "[server_cufft_plans]") {
  uint64_t in = 0, out = 0;
  REQUIRE(ExecBytes(Shape(CUFFT_C2C, 1, 64, 1, 1, 3), &in, &out));
  CHECK(in == 64 * 3 * 8);
  CHECK(out == 64 * 3 * 8);
  REQUIRE(ExecBytes(Shape(CUFFT_Z2Z, 3, 4, 6, 5, 1), &in, &out));
  CHECK(in == 120 * 16);
  CHECK(out == 120 * 16);
  // Real to complex: the last dimension halved on the complex side.
  REQUIRE(ExecBytes(Shape(CUFFT_R2C, 2, 8, 12, 1, 1), &in, &out));
  CHECK(in == 96 * 4);
  CHECK(out == 8 * 7 * 8);
  REQUIRE(ExecBytes(Shape(CUFFT_C2R, 2, 8, 12, 1, 2), &in, &out));
  CHECK(in == 2 * 8 * 7 * 8);
  CHECK(out == 2 * 96 * 4);
  REQUIRE(ExecBytes(Shape(CUFFT_D2Z, 3, 4, 6, 5, 1), &in, &out));
  CHECK(in == 120 * 8);
  CHECK(out == 4 * 6 * 3 * 16);
  REQUIRE(ExecBytes(Shape(CUFFT_Z2D, 1, 9, 1, 1, 1), &in, &out));
  CHECK(in == 5 * 16);
  CHECK(out == 9 * 8);
}

TEST_CASE("cuFFT plans: hostile shapes are refused, not wrapped", "[server_cufft_plans]") {
  uint64_t in = 0, out = 0;
  CHECK_FALSE(ExecBytes(Shape(CUFFT_Z2Z, 3, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX), &in, &out));
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 1, int64_t{1} << 62, 1, 1, 1), &in, &out));  // 2^65 bytes
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 1, 0, 1, 1, 1), &in, &out));
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 1, 8, 1, 1, -1), &in, &out));
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 2, 8, -8, 1, 1), &in, &out));
  CHECK_FALSE(ExecBytes(Shape(0x77, 1, 8, 1, 1, 1), &in, &out));  // no such type
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 4, 8, 1, 1, 1), &in, &out));
  CHECK_FALSE(ExecBytes(Shape(CUFFT_C2C, 0, 8, 1, 1, 1), &in, &out));
}

TEST_CASE("cuFFT plans: Execs checked against the plan and the memory", "[server_cufft_plans]") {
  AllocationTable memory;
  memory.Add(0x10000, 512, AllocationTable::Kind::kMalloc);
  memory.Add(0x20000, 1024, AllocationTable::Kind::kMalloc);
  PlanTable plans;
  plans.Record(7, Shape(CUFFT_C2C, 1, 64, 1, 1, 1));  // 512 bytes each side
  CHECK(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x10000, 0x10000));
  CHECK(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x10000, 0x20000 + 512));
  CHECK_FALSE(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x10008, 0x10000));      // one element beyond
  CHECK_FALSE(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x10000, 0x20000 + 513));
  CHECK_FALSE(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x1000, 0x10000));       // no allocation
  CHECK_FALSE(plans.ExecAllowed(memory, 7, CUFFT_Z2Z, 0x20000, 0x20000));      // another type
  CHECK_FALSE(plans.ExecAllowed(memory, 8, CUFFT_C2C, 0x10000, 0x10000));      // unplanned
  plans.Forget(7);
  CHECK_FALSE(plans.ExecAllowed(memory, 7, CUFFT_C2C, 0x10000, 0x10000));      // forgotten (destroyed)
}

TEST_CASE("cuFFT plans: the work area holds the plan's work size while it is used", "[server_cufft_plans]") {
  AllocationTable memory;
  memory.Add(0x10000, 512, AllocationTable::Kind::kMalloc);
  memory.Add(0x20000, 256, AllocationTable::Kind::kMalloc);
  PlanTable plans;
  PlanShape s = Shape(CUFFT_C2C, 1, 16, 1, 1, 1);
  s.work_size = 256;
  plans.Record(3, s);
  CHECK_FALSE(plans.WorkAreaAllowed(memory, 4, 0x20000));          // unplanned
  CHECK_FALSE(plans.WorkAreaAllowed(memory, 3, 0x20000 + 1));      // one byte beyond
  CHECK(plans.WorkAreaAllowed(memory, 3, 0x20000));
  CHECK(plans.ExecAllowed(memory, 3, CUFFT_C2C, 0x10000, 0x10000));
  uint64_t size = 0;
  REQUIRE(memory.RemoveMalloc(0x20000, &size));  // freed while the plan holds it
  CHECK_FALSE(plans.ExecAllowed(memory, 3, CUFFT_C2C, 0x10000, 0x10000));
}

}  // namespace
}  // namespace rcuda::library::cufft
