// rcuda-run: runs an unmodified CUDA program with rcuda's libcudart.so.13 in
// place of NVIDIA's.
//
//   rcuda-run [--device [transport://]host[@port][:gpu]]... [--log-level L] [--] program [args]
//
// It puts the client library first (LD_PRELOAD and LD_LIBRARY_PATH), and
// rcuda's libcuda.so.1 after it where it was built, and
// execs the program. A program that links the CUDA runtime statically (nvcc's
// default) cannot be served; rcuda-run says so and how to rebuild it.
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/version.h"

namespace fs = std::filesystem;

namespace {

enum class Linkage { kShared, kStatic, kUnknown };

// Finds `program` on PATH as execvp would.
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return program;
}

// How the program gets the CUDA runtime: DT_NEEDED libcudart.so.13 (served
// by rcuda), or embedded fatbinaries without it (static runtime).
Linkage InspectProgram(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Linkage::kUnknown;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return Linkage::kUnknown;
  }
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return Linkage::kUnknown;
  const char* base = static_cast<const char*>(map);
  size_t size = st.st_size;
  Linkage result = Linkage::kUnknown;
  auto inside = [&](uint64_t off, uint64_t len) { return off <= size && len <= size - off; };
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
      inside(eh->e_shoff, uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr)) && eh->e_shstrndx < eh->e_shnum) {
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    const Elf64_Shdr& names = sh[eh->e_shstrndx];
    bool needs_cudart = false, has_fatbin = false;
    for (int i = 0; i < eh->e_shnum; ++i) {
      if (inside(names.sh_offset + sh[i].sh_name, 1)) {
        const char* name = base + names.sh_offset + sh[i].sh_name;
        if (!std::strcmp(name, ".nvFatBinSegment") || !std::strcmp(name, ".nv_fatbin")) has_fatbin = true;
      }
      if (sh[i].sh_type != SHT_DYNAMIC || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strtab = sh[sh[i].sh_link];
      if (!inside(sh[i].sh_offset, sh[i].sh_size) || !inside(strtab.sh_offset, strtab.sh_size)) continue;
      const auto* dyn = reinterpret_cast<const Elf64_Dyn*>(base + sh[i].sh_offset);
      for (size_t j = 0; j < sh[i].sh_size / sizeof(Elf64_Dyn) && dyn[j].d_tag != DT_NULL; ++j) {
        if (dyn[j].d_tag == DT_NEEDED && dyn[j].d_un.d_val < strtab.sh_size &&
            !std::strcmp(base + strtab.sh_offset + dyn[j].d_un.d_val, "libcudart.so.13")) {
          needs_cudart = true;
        }
      }
    }
    result = needs_cudart ? Linkage::kShared : has_fatbin ? Linkage::kStatic : Linkage::kUnknown;
  }
  munmap(map, size);
  return result;
}

void Prepend(const char* variable, const std::string& value, char separator) {
  const char* old = std::getenv(variable);
  std::string joined = value;
  if (old && *old) joined += separator + std::string(old);
  setenv(variable, joined.c_str(), 1);
}

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: rcuda-run [options] [--] program [args...]\n"
               "Runs an unmodified CUDA program (built with nvcc -cudart=shared) on remote GPUs.\n"
               "  -d, --device [T://]host[@port][:gpu]\n"
               "                                  a GPU, once per virtual device; T (tcp, shm, ucx) demands that\n"
               "                                  transport (default: RCUDA_TRANSPORT, auto)\n"
               "                                  (default: RCUDA_DEVICE_COUNT/RCUDA_DEVICE_<i>, else 127.0.0.1)\n"
               "  --log-level L                   client log level: error, warn, info, debug (RCUDA_LOG_LEVEL)\n"
               "  --lib DIR                       directory of rcuda's libcudart.so.13 (default: ../lib/rcuda)\n"
               "  --version, -h/--help\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Options come first; the program and its arguments follow verbatim
  // (after an optional "--"), whatever they look like.
  std::vector<std::string> devices;
  std::string log_level;
  std::string library_dir;
  std::vector<std::string> command;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rcuda-run: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    } else if (a == "-d" || a == "--device") {
      devices.push_back(value("--device"));
    } else if (a.rfind("--device=", 0) == 0) {
      devices.push_back(a.substr(9));
    } else if (a == "--log-level") {
      log_level = value("--log-level");
    } else if (a.rfind("--log-level=", 0) == 0) {
      log_level = a.substr(12);
    } else if (a == "--lib") {
      library_dir = value("--lib");
    } else if (a.rfind("--lib=", 0) == 0) {
      library_dir = a.substr(6);
    } else if (a == "--version") {
      std::printf("rcuda-run %s\n", rcuda::kRcudaVersion);
      return 0;
    } else if (a == "-h" || a == "--help") {
      Usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "rcuda-run: unknown option %s\n", a.c_str());
      Usage(stderr);
      return 2;
    } else {
      break;  // the program
    }
  }
  for (; i < argc; ++i) command.push_back(argv[i]);
  if (command.empty()) {
    Usage(stderr);
    return 2;
  }

  if (library_dir.empty()) {
    fs::path self = fs::read_symlink("/proc/self/exe");
    library_dir = (self.parent_path().parent_path() / "lib" / "rcuda").string();
  }
  fs::path library = fs::path(library_dir) / "libcudart.so.13";
  if (!fs::exists(library)) {
    std::fprintf(stderr, "rcuda-run: %s not found (use --lib)\n", library.c_str());
    return 127;
  }

  std::string program = Resolve(command[0]);
  switch (InspectProgram(program)) {
    case Linkage::kStatic:
      std::fprintf(stderr,
                   "rcuda-run: %s links the CUDA runtime statically (nvcc's default), so rcuda cannot serve it.\n"
                   "rcuda-run: rebuild it with the shared runtime: nvcc -cudart=shared ... (CMake: "
                   "set CUDA_RUNTIME_LIBRARY Shared)\n",
                   program.c_str());
      return 126;
    case Linkage::kUnknown:
      if (std::getenv("RCUDA_LOG_LEVEL") || !log_level.empty()) {
        std::fprintf(stderr, "rcuda-run: %s does not import libcudart.so.13 itself; running it anyway\n",
                     program.c_str());
      }
      break;
    case Linkage::kShared:
      break;
  }

  if (!devices.empty()) {
    setenv("RCUDA_DEVICE_COUNT", std::to_string(devices.size()).c_str(), 1);
    for (size_t i = 0; i < devices.size(); ++i) {
      setenv(("RCUDA_DEVICE_" + std::to_string(i)).c_str(), devices[i].c_str(), 1);
    }
  }
  if (!log_level.empty()) setenv("RCUDA_LOG_LEVEL", log_level.c_str(), 1);
  Prepend("LD_LIBRARY_PATH", library_dir, ':');
  // rcuda's libcuda.so.1 (the driver API over the same session), where it
  // was built: preloaded too, so that a program's own RPATH cannot bring in
  // another (on a machine without a GPU there is none to find anyway).
  fs::path driver = fs::path(library_dir) / "libcuda.so.1";
  if (fs::exists(driver)) Prepend("LD_PRELOAD", driver.string(), ':');
  Prepend("LD_PRELOAD", library.string(), ':');

  std::vector<char*> args;
  for (auto& a : command) args.push_back(a.data());
  args.push_back(nullptr);
  execvp(program.c_str(), args.data());
  std::fprintf(stderr, "rcuda-run: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
  return 127;
}
