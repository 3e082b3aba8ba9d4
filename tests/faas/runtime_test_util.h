// Helpers shared by the runtime's tests: temporary directories, process
// checks by pid and process group, bounded waits on conditions.
#pragma once

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace rcuda::faas::testing {

// A directory under /tmp that the functions' user may traverse, removed at
// the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "faas_runtime_test.XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    if (made) path_ = made;
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty() && !std::getenv("FAAS_TEST_KEEP")) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// When rcuda-fn runs as root (as here in the container) its functions run as
// nobody; otherwise as the same user.
struct RunAs {
  std::optional<uid_t> uid;
  gid_t gid = 0;
};
inline RunAs FunctionUser() {
  RunAs run_as;
  if (geteuid() == 0) {
    if (passwd* nobody = getpwnam("nobody")) {
      run_as.uid = nobody->pw_uid;
      run_as.gid = nobody->pw_gid;
    }
  }
  return run_as;
}

// Whether any user may reach and run `path` (every directory above it
// searchable by others, the file executable by others): what a function
// running as nobody needs of the build's programs when the tests run as root.
inline bool OthersCanRun(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path);
  struct stat st;
  if (stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
  for (p = p.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    if (stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
  }
  return true;
}

// A process exists (a zombie counts: it has not been reaped).
inline bool ProcessExists(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Some process is still in process group `pgid`.
inline bool GroupExists(pid_t pgid) { return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM); }

// Checks `done` every 10 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// "name=value" from a log: the value after the last "name=" line.
inline std::optional<long> LoggedNumber(const std::string& log, const std::string& name) {
  size_t at = log.rfind(name + "=");
  if (at == std::string::npos) return std::nullopt;
  return std::strtol(log.c_str() + at + name.size() + 1, nullptr, 10);
}

}  // namespace rcuda::faas::testing
