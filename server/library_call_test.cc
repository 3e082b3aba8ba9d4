// server/library_call.h: the decoders of a forwarded library call refuse
// what a hostile client may send (tests/cuda/*'s --session-checks cover
// the same end to end): host int arrays (cuFFT's n, inembed), element
// types, scalars of no size, arrays of device pointers outside the
// session's memory.
#include "server/library_call.h"

#include <library_types.h>

#include <vector>

#include <catch2/catch.hpp>

namespace rcuda::library {
namespace {

struct Fixture {
  LibraryDescription description{"test", "libtest.so", "RCUDA_WORKER_LIBTEST", 99, nullptr, 0, "", 7, 8, 9};
  LibrarySessionState state;
  HandleTable handles{16};
  AllocationTable memory;
  LibrarySession session{&state, &handles, &memory, /*executor=*/nullptr};

  LibraryCallContext Call(const std::vector<int64_t>& values) {
    values_ = values;
    return LibraryCallContext(description, session, values_, {});
  }

 private:
  std::vector<int64_t> values_;
};

TEST_CASE("library calls: host int arrays", "[server_library_call]") {
  Fixture f;
  int* p = reinterpret_cast<int*>(1);
  {
    auto c = f.Call({0});  // null
    REQUIRE(c.Ints(3, &p));
    CHECK(p == nullptr);
    CHECK(c.Finished());
  }
  {
    auto c = f.Call({1, 4, -5, 6});
    REQUIRE(c.Ints(3, &p));
    REQUIRE(p != nullptr);
    CHECK(p[0] == 4);
    CHECK(p[1] == -5);
    CHECK(p[2] == 6);
    CHECK(c.Finished());
  }
  {
    auto c = f.Call({1});  // an empty array is not null
    REQUIRE(c.Ints(0, &p));
    CHECK(p != nullptr);
  }
  CHECK_FALSE(f.Call({1, 4, 5}).Ints(3, &p));                          // too few values
  CHECK_FALSE(f.Call({2, 4, 5, 6}).Ints(3, &p));                       // neither null nor present
  CHECK_FALSE(f.Call({1, 4, int64_t{1} << 40, 6}).Ints(3, &p));        // not an int
  CHECK_FALSE(f.Call({1}).Ints(-1, &p));                               // a negative count
  CHECK_FALSE(f.Call(std::vector<int64_t>(18, 1)).Ints(17, &p));       // over the cap
  CHECK_FALSE(f.Call({1}).Ints(static_cast<__int128>(1) << 70, &p));  // a hostile count expression
}

TEST_CASE("library calls: host long long arrays", "[server_library_call]") {
  Fixture f;
  long long* p = reinterpret_cast<long long*>(1);
  {
    auto c = f.Call({0});  // null
    REQUIRE(c.Int64s(2, &p));
    CHECK(p == nullptr);
    CHECK(c.Finished());
  }
  {
    auto c = f.Call({1, int64_t{1} << 40, -7});  // values beyond an int are theirs to hold
    REQUIRE(c.Int64s(2, &p));
    REQUIRE(p != nullptr);
    CHECK(p[0] == (1ll << 40));
    CHECK(p[1] == -7);
    CHECK(c.Finished());
  }
  CHECK_FALSE(f.Call({1, 4}).Int64s(2, &p));                            // too few values
  CHECK_FALSE(f.Call({3, 4, 5}).Int64s(2, &p));                         // neither null nor present
  CHECK_FALSE(f.Call({1}).Int64s(-1, &p));                              // a negative count
  CHECK_FALSE(f.Call(std::vector<int64_t>(18, 1)).Int64s(17, &p));      // over the cap
  CHECK_FALSE(f.Call({1}).Int64s(static_cast<__int128>(1) << 70, &p));  // a hostile count expression
}

TEST_CASE("library calls: host workspaces", "[server_library_call]") {
  Fixture f;
  void* p = reinterpret_cast<void*>(1);
  {
    auto c = f.Call({0});  // null: the library gets null
    REQUIRE(c.HostScratch(64, &p));
    CHECK(p == nullptr);
    CHECK(c.Finished());
    c.SettleHostScratch();  // nothing to wait for (and no executor here)
  }
  {
    auto c = f.Call({1});  // the worker's own buffer, zeroed, writable whole
    REQUIRE(c.HostScratch(4096, &p));
    REQUIRE(p != nullptr);
    auto* bytes = static_cast<unsigned char*>(p);
    CHECK(bytes[0] == 0);
    CHECK(bytes[4095] == 0);
    bytes[4095] = 1;
    CHECK(c.Finished());
  }
  {
    auto c = f.Call({1});  // present with no size: still a pointer
    REQUIRE(c.HostScratch(0, &p));
    CHECK(p != nullptr);
  }
  CHECK_FALSE(f.Call({2}).HostScratch(8, &p));                                   // neither null nor present
  CHECK_FALSE(f.Call({}).HostScratch(8, &p));                                    // no value at all
  CHECK_FALSE(f.Call({1}).HostScratch(-1, &p));                                  // a negative size
  CHECK_FALSE(f.Call({1}).HostScratch(LibraryCallContext::kMaxHostScratch + 1, &p));  // over the cap
  CHECK_FALSE(f.Call({1}).HostScratch(static_cast<__int128>(1) << 70, &p));     // a hostile size expression
}

TEST_CASE("library calls: element types", "[server_library_call]") {
  Fixture f;
  int64_t v = 0;
  CHECK(f.Call({CUDA_R_32F}).DataType(&v));
  CHECK(v == CUDA_R_32F);
  CHECK(f.Call({CUDA_C_64F}).DataType(&v));
  CHECK_FALSE(f.Call({999}).DataType(&v));
  CHECK_FALSE(f.Call({int64_t{CUDA_R_32F} + (int64_t{1} << 40)}).DataType(&v));
  CHECK_FALSE(f.Call({}).DataType(&v));
}

TEST_CASE("library calls: scalars and pointer arrays", "[server_library_call]") {
  Fixture f;
  f.state.handles()[1] = LibraryHandle{reinterpret_cast<void*>(0x10), 0, &f.description};
  f.handles.Add(HandleKind::kLibrary, 1, /*counted=*/true);
  f.memory.Add(0x100000, 4096, AllocationTable::Kind::kMalloc);
  const void* scalar = nullptr;
  // A scalar of no size (an unknown compute type) is refused, whatever follows.
  CHECK_FALSE(f.Call({0}).Scalar(1, 0, &scalar));
  // A scalar of a handle the session does not hold.
  CHECK_FALSE(f.Call({0}).Scalar(2, 4, &scalar));
  // Pointer arrays: none, too many, the array itself outside the memory.
  auto c = f.Call({});
  CHECK(c.DevicePointerArray(0x100000, 0, 64));
  CHECK_FALSE(c.DevicePointerArray(0x100000, LibraryCallContext::kMaxPointerArray + 1, 64));
  CHECK_FALSE(c.DevicePointerArray(0x100000, 513, 64));  // 513 pointers: 8 bytes past the allocation
  CHECK_FALSE(c.DevicePointerArray(0x200000, 1, 64));
}

}  // namespace
}  // namespace rcuda::library
