// MemoryCgroup: a memory cgroup (v1 or v2) for one invocation, created under
// a directory the operator delegates to rcuda-fn (--cgroup-parent). Unlike
// RLIMIT_AS it limits the memory the function's processes really use, all
// together, and the kernel's OOM killer ends them when they go beyond it,
// which rcuda-fn then reports as Runtime.OutOfMemory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace rcuda::faas {

class MemoryCgroup {
 public:
  // Creates `dir` (its parent must be a memory cgroup: v2 with the memory
  // controller enabled for its children, or v1's memory hierarchy) with a
  // limit of `limit_bytes` and no swap. nullptr and *error on failure.
  static std::unique_ptr<MemoryCgroup> Create(const std::string& dir, uint64_t limit_bytes, std::string* error);

  // Removes the cgroup (it must be empty by then: every process reaped).
  ~MemoryCgroup();

  // Moves the calling process into the cgroup. Async-signal-safe (called
  // between fork and exec).
  bool AddSelf() const;

  // How many processes the OOM killer ended in this cgroup.
  int64_t OomKills() const;

  // Whether `parent` looks like a memory cgroup this process may create
  // children in.
  static bool Usable(const std::string& parent, std::string* why);

 private:
  MemoryCgroup(std::string dir, bool v2) : dir_(std::move(dir)), procs_path_(dir_ + "/cgroup.procs"), v2_(v2) {}

  std::string dir_;
  std::string procs_path_;
  bool v2_;
};

}  // namespace rcuda::faas
