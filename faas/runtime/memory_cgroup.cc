#include "faas/runtime/memory_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace rcuda::faas {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool WriteFile(const std::string& path, const std::string& text, std::string* error) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text.data(), text.size()) != ssize_t(text.size())) {
    *error = "cannot write " + text + " to " + path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

std::string ParentOf(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

}  // namespace

bool MemoryCgroup::Usable(const std::string& parent, std::string* why) {
  bool v2 = Exists(parent + "/cgroup.controllers");
  if (v2) {
    std::ifstream in(parent + "/cgroup.subtree_control");
    std::string controllers((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (controllers.find("memory") == std::string::npos) {
      *why = parent + ": the memory controller is not enabled for its children (cgroup.subtree_control)";
      return false;
    }
  } else if (!Exists(parent + "/memory.limit_in_bytes")) {
    *why = parent + " is not a memory cgroup (neither cgroup v2 nor v1's memory hierarchy)";
    return false;
  }
  if (access(parent.c_str(), W_OK) != 0) {
    *why = parent + " is not writable by rcuda-fn";
    return false;
  }
  return true;
}

std::unique_ptr<MemoryCgroup> MemoryCgroup::Create(const std::string& dir, uint64_t limit_bytes,
                                                   std::string* error) {
  std::string parent = ParentOf(dir);
  bool v2 = Exists(parent + "/cgroup.controllers");
  if (mkdir(dir.c_str(), 0755) != 0) {
    *error = "cannot create the cgroup " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<MemoryCgroup> cgroup(new MemoryCgroup(dir, v2));
  std::string limit = std::to_string(limit_bytes);
  if (v2) {
    if (!WriteFile(dir + "/memory.max", limit, error)) return nullptr;
    if (Exists(dir + "/memory.swap.max") && !WriteFile(dir + "/memory.swap.max", "0", error)) return nullptr;
  } else {
    if (!WriteFile(dir + "/memory.limit_in_bytes", limit, error)) return nullptr;
    // Limit memory plus swap to the same figure, so that the function does
    // not go on in swap (only where swap accounting is on).
    if (Exists(dir + "/memory.memsw.limit_in_bytes") && !WriteFile(dir + "/memory.memsw.limit_in_bytes", limit, error)) {
      return nullptr;
    }
  }
  return cgroup;
}

MemoryCgroup::~MemoryCgroup() {
  // The processes are reaped, but the kernel may take a moment to let go of
  // the cgroup: retry for up to a second.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (rmdir(dir_.c_str()) == 0 || errno != EBUSY) return;
    struct timespec ten_ms = {0, 10'000'000};
    nanosleep(&ten_ms, nullptr);
  }
}

bool MemoryCgroup::AddSelf() const {
  int fd = open(procs_path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "0", 1) == 1;
  close(fd);
  return ok;
}

int64_t MemoryCgroup::OomKills() const {
  std::ifstream in(dir_ + (v2_ ? "/memory.events" : "/memory.oom_control"));
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

}  // namespace rcuda::faas
