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

// PlanMany's advanced layout: `side` = {embed..., stride, dist}.
PlanShape Advanced(PlanShape s, std::initializer_list<int64_t> in, std::initializer_list<int64_t> out) {
  s.advanced = true;
  auto fill = [&](std::initializer_list<int64_t> side, int64_t* embed, int64_t* stride, int64_t* dist) {
    auto it = side.begin();
    for (int d = 0; d < s.rank; ++d) embed[d] = *it++;
    *stride = *it++;
    *dist = *it;
  };
  fill(in, s.in_embed, &s.in_stride, &s.in_dist);
  fill(out, s.out_embed, &s.out_stride, &s.out_dist);
  return s;
}

TEST_CASE("cuFFT plans: Exec bytes of advanced layouts", "[server_cufft_plans]") {
  uint64_t in = 0, out = 0;
  // Columns of an 8 x 5 matrix: the last column's last element is 7*5 + 4.
  REQUIRE(ExecBytes(Advanced(Shape(CUFFT_C2C, 1, 8, 1, 1, 5), {8, 5, 1}, {8, 1, 8}), &in, &out));
  CHECK(in == 40 * 8);
  CHECK(out == 40 * 8);
  // Every other element: 64 points span 127 elements.
  REQUIRE(ExecBytes(Advanced(Shape(CUFFT_C2C, 1, 64, 1, 1, 1), {128, 2, 128}, {128, 1, 64}), &in, &out));
  CHECK(in == 127 * 8);
  CHECK(out == 64 * 8);
  // Padded real batches (16 every 20), half spectra (9 every 9).
  REQUIRE(ExecBytes(Advanced(Shape(CUFFT_R2C, 1, 16, 1, 1, 3), {20, 1, 20}, {9, 1, 9}), &in, &out));
  CHECK(in == (2 * 20 + 16) * 4);
  CHECK(out == 27 * 8);
  // 2D rows padded to 8: batch 1 ends at 32 + 3*8 + 5.
  REQUIRE(ExecBytes(Advanced(Shape(CUFFT_Z2Z, 2, 4, 6, 1, 2), {4, 8, 1, 32}, {4, 6, 1, 24}), &in, &out));
  CHECK(in == (32 + 3 * 8 + 5 + 1) * 16);
  CHECK(out == 48 * 16);
  // A zero stride, a negative distance, a zero embed: refused.
  CHECK_FALSE(ExecBytes(Advanced(Shape(CUFFT_C2C, 1, 8, 1, 1, 2), {8, 0, 8}, {8, 1, 8}), &in, &out));
  CHECK_FALSE(ExecBytes(Advanced(Shape(CUFFT_C2C, 1, 8, 1, 1, 2), {8, 1, -8}, {8, 1, 8}), &in, &out));
  CHECK_FALSE(ExecBytes(Advanced(Shape(CUFFT_C2C, 2, 8, 8, 1, 1), {8, 0, 1, 64}, {8, 8, 1, 64}), &in, &out));
  // Hostile 32-bit values everywhere: refused above 64 bits, not wrapped.
  const int64_t big = 0x7fffffff;
  CHECK_FALSE(ExecBytes(Advanced(Shape(CUFFT_Z2Z, 3, big, big, big, big), {big, big, big, big, big},
                                 {big, big, big, big, big}),
                        &in, &out));
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
