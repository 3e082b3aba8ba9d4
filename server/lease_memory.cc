#include "server/lease_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace rcuda {

struct LeaseMemory::Region {
  uint64_t magic;
  pthread_mutex_t mu;
  uint64_t slots[kSlots];
};

namespace {

constexpr uint64_t kMagic = 0x524355444c454d31ull;  // "RCUDLEM1"

}  // namespace

Status LeaseMemory::Create(int* fd) {
  int f = memfd_create("rcuda-lease-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (f < 0) return Status::IoError(std::string("memfd_create: ") + std::strerror(errno));
  if (ftruncate(f, sizeof(Region)) != 0 ||
      fcntl(f, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    Status s = Status::IoError(std::string("lease memory region: ") + std::strerror(errno));
    close(f);
    return s;
  }
  void* p = mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
  if (p == MAP_FAILED) {
    Status s = Status::IoError(std::string("mmap: ") + std::strerror(errno));
    close(f);
    return s;
  }
  auto* region = static_cast<Region*>(p);  // zero-filled by ftruncate
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&region->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  region->magic = kMagic;
  munmap(p, sizeof(Region));
  *fd = f;
  return Status::Ok();
}

Status LeaseMemory::Map(int fd, std::unique_ptr<LeaseMemory>* memory) {
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) != sizeof(Region)) {
    return Status::InvalidValue("lease memory region of the wrong size");
  }
  // Sealed against shrinking: a mapping of it can never fault.
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) return Status::InvalidValue("lease memory region not sealed");
  void* p = mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Status::IoError(std::string("mmap: ") + std::strerror(errno));
  auto* region = static_cast<Region*>(p);
  if (region->magic != kMagic) {
    munmap(p, sizeof(Region));
    return Status::InvalidValue("not a lease memory region");
  }
  memory->reset(new LeaseMemory(region));
  return Status::Ok();
}

LeaseMemory::~LeaseMemory() { munmap(region_, sizeof(Region)); }

void LeaseMemory::Lock() {
  if (pthread_mutex_lock(&region_->mu) == EOWNERDEAD) {
    // A worker died holding it; each slot is one aligned word, so what it
    // wrote is whole.
    pthread_mutex_consistent(&region_->mu);
  }
}

void LeaseMemory::Unlock() { pthread_mutex_unlock(&region_->mu); }

uint64_t LeaseMemory::SumLocked() const {
  uint64_t sum = 0;
  for (const uint64_t& s : region_->slots) sum += __atomic_load_n(&s, __ATOMIC_SEQ_CST);
  return sum;
}

bool LeaseMemory::Charge(int slot, uint64_t bytes, uint64_t limit) {
  if (slot < 0 || slot >= kSlots) return false;
  Lock();
  uint64_t total = SumLocked();
  bool ok = total <= limit && bytes <= limit - total;
  if (ok) __atomic_fetch_add(&region_->slots[slot], bytes, __ATOMIC_SEQ_CST);
  Unlock();
  return ok;
}

void LeaseMemory::ForceCharge(int slot, uint64_t bytes) {
  if (slot < 0 || slot >= kSlots) return;
  __atomic_fetch_add(&region_->slots[slot], bytes, __ATOMIC_SEQ_CST);
}

void LeaseMemory::Release(int slot, uint64_t bytes) {
  if (slot < 0 || slot >= kSlots) return;
  // Only this slot's worker changes it (and the daemon once it is gone).
  uint64_t held = __atomic_load_n(&region_->slots[slot], __ATOMIC_SEQ_CST);
  __atomic_fetch_sub(&region_->slots[slot], std::min(bytes, held), __ATOMIC_SEQ_CST);
}

void LeaseMemory::ClearSlot(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  // Without the lock: the slot's worker is gone, and a word-sized store is
  // seen whole by the others. The daemon never waits for a worker here.
  __atomic_store_n(&region_->slots[slot], 0, __ATOMIC_SEQ_CST);
}

uint64_t LeaseMemory::Total() { return SumLocked(); }

uint64_t LeaseMemory::SlotBytes(int slot) {
  if (slot < 0 || slot >= kSlots) return 0;
  return __atomic_load_n(&region_->slots[slot], __ATOMIC_SEQ_CST);
}

}  // namespace rcuda
