// The memory account a lease's sessions share (server/lease_memory.h,
// server/memory_budget.h).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/lease_memory.h"
#include "server/memory_budget.h"

namespace rcuda {

TEST_CASE("sessions of one lease share its grant", "[server_lease_memory]") {
  int fd = -1;
  REQUIRE(LeaseMemory::Create(&fd).ok());
  std::unique_ptr<LeaseMemory> a, b;
  REQUIRE(LeaseMemory::Map(fd, &a).ok());
  REQUIRE(LeaseMemory::Map(fd, &b).ok());
  const uint64_t grant = 1000;
  CHECK(a->Charge(0, 600, grant));
  // The second session sees the first's charge: only 400 are left.
  CHECK_FALSE(b->Charge(1, 600, grant));
  CHECK(b->Charge(1, 400, grant));
  CHECK(a->Total() == 1000);
  CHECK_FALSE(a->Charge(0, 1, grant));
  b->Release(1, 100);
  CHECK(a->Charge(0, 100, grant));
  // A session's end returns its slot's charge at once.
  a->ClearSlot(0);
  CHECK(b->Total() == 300);
  CHECK(b->SlotBytes(1) == 300);
  // A charge larger than the grant, or one that would wrap, never fits.
  CHECK_FALSE(b->Charge(1, UINT64_MAX, grant));
  CHECK_FALSE(b->Charge(LeaseMemory::kSlots, 1, grant));
  close(fd);
}

TEST_CASE("the account holds across processes, and a dead holder of its lock does not wedge it",
          "[server_lease_memory]") {
  int fd = -1;
  REQUIRE(LeaseMemory::Create(&fd).ok());
  std::unique_ptr<LeaseMemory> parent;
  REQUIRE(LeaseMemory::Map(fd, &parent).ok());
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::unique_ptr<LeaseMemory> mine;
    if (!LeaseMemory::Map(fd, &mine).ok()) _exit(1);
    _exit(mine->Charge(3, 700, 1000) ? 0 : 2);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(parent->Total() == 700);
  CHECK_FALSE(parent->Charge(4, 301, 1000));
  CHECK(parent->Charge(4, 300, 1000));
  close(fd);
}

TEST_CASE("a region that could shrink under its users is refused", "[server_lease_memory]") {
  int fd = memfd_create("not-sealed", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, 4096) == 0);
  std::unique_ptr<LeaseMemory> m;
  CHECK_FALSE(LeaseMemory::Map(fd, &m).ok());
  close(fd);
}

TEST_CASE("a session's budget: no limit, its own limit, or its lease's", "[server_lease_memory]") {
  MemoryBudget unlimited;
  CHECK(unlimited.Charge(UINT64_MAX / 2));
  CHECK(unlimited.available() == UINT64_MAX);

  MemoryBudget alone;
  alone.Configure(100, nullptr, -1);
  CHECK(alone.Charge(60));
  CHECK_FALSE(alone.Charge(41));
  CHECK(alone.available() == 40);
  alone.ForceCharge(50);  // a pool found holding more than charged
  CHECK(alone.available() == 0);
  CHECK_FALSE(alone.Charge(1));
  alone.Release(110);
  CHECK(alone.charged() == 0);

  int fd = -1;
  REQUIRE(LeaseMemory::Create(&fd).ok());
  std::unique_ptr<LeaseMemory> m1, m2;
  REQUIRE(LeaseMemory::Map(fd, &m1).ok());
  REQUIRE(LeaseMemory::Map(fd, &m2).ok());
  MemoryBudget s1, s2;
  s1.Configure(100, std::move(m1), 0);
  s2.Configure(100, std::move(m2), 1);
  CHECK(s1.Charge(70));
  CHECK_FALSE(s2.Charge(31));
  CHECK(s2.available() == 30);
  CHECK(s2.Charge(30));
  s1.Release(70);
  CHECK(s2.available() == 70);
  close(fd);
}

}  // namespace rcuda
