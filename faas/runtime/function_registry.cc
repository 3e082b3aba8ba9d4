#include "faas/runtime/function_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "faas/function/fdl_parser.h"
#include "faas/function/names.h"

namespace rcuda::faas {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> YamlFiles(const std::string& dir, Status* status) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) *status = Status::InvalidValue(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// Writes `text` to `path` through a temporary file and a rename, synced, so
// that a crash leaves the old or the new definition, never half of one.
Status WriteAtomically(const std::string& path, std::string_view text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::IoError("create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  bool ok = done == text.size() && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::IoError("write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Status FunctionRegistry::AddFile(const std::string& path, Source source, std::vector<std::string>* warnings) {
  FdlDocument document;
  RCUDA_RETURN_IF_ERROR(LoadFdlFile(path, &document));
  for (auto& warning : document.warnings) warnings->push_back(path + ": " + warning);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& definition : document.functions) {
    auto it = functions_.find(definition.name);
    if (it != functions_.end()) {
      return Status::InvalidValue(path + ": function " + definition.name + " is also defined in " + it->second.origin);
    }
    std::string name = definition.name;
    functions_[name] = Entry{std::make_shared<const FunctionDefinition>(std::move(definition)), source, path};
  }
  return Status::Ok();
}

Status FunctionRegistry::LoadDirectory(const std::string& dir, std::vector<std::string>* warnings) {
  Status status;
  std::vector<std::string> files = YamlFiles(dir, &status);
  RCUDA_RETURN_IF_ERROR(status);
  for (const auto& file : files) RCUDA_RETURN_IF_ERROR(AddFile(file, Source::kFile, warnings));
  return Status::Ok();
}

Status FunctionRegistry::SetStateDirectory(const std::string& dir, std::vector<std::string>* warnings) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("state directory " + dir + ": " + ec.message());
  state_dir_ = dir;
  Status status;
  std::vector<std::string> files = YamlFiles(dir, &status);
  RCUDA_RETURN_IF_ERROR(status);
  for (const auto& file : files) RCUDA_RETURN_IF_ERROR(AddFile(file, Source::kDeployed, warnings));
  return Status::Ok();
}

std::shared_ptr<const FunctionDefinition> FunctionRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second.definition;
}

std::vector<FunctionRegistry::Entry> FunctionRegistry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> entries;
  for (const auto& [name, entry] : functions_) entries.push_back(entry);
  return entries;
}

Status FunctionRegistry::Deploy(const std::string& name, std::string_view yaml, DeployResult* result,
                                std::vector<std::string>* warnings) {
  if (state_dir_.empty()) {
    return Status(kNotDeployable, "rcuda-fn was started without --state-dir: functions come from --functions-dir");
  }
  if (!IsValidFunctionName(name)) return Status::InvalidValue("'" + name + "' is not a valid function name");
  FdlDocument document;
  RCUDA_RETURN_IF_ERROR(ParseFdl(yaml, FdlParseOptions{}, &document));  // no base_dir: no init_script files
  if (document.functions.size() != 1 || document.functions[0].name != name) {
    return Status::InvalidValue("the definition must define exactly one function, named " + name);
  }
  *warnings = document.warnings;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(name);
  if (it != functions_.end() && it->second.source == Source::kFile) {
    return Status(kConflict, "function " + name + " is defined in " + it->second.origin + "; change it there");
  }
  std::string path = state_dir_ + "/" + name + ".yaml";
  RCUDA_RETURN_IF_ERROR(WriteAtomically(path, yaml));
  *result = it == functions_.end() ? DeployResult::kCreated : DeployResult::kReplaced;
  functions_[name] = Entry{std::make_shared<const FunctionDefinition>(std::move(document.functions[0])),
                           Source::kDeployed, path};
  return Status::Ok();
}

Status FunctionRegistry::Remove(const std::string& name, bool* existed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(name);
  *existed = it != functions_.end();
  if (!*existed) return Status::Ok();
  if (it->second.source == Source::kFile) {
    return Status(kConflict, "function " + name + " is defined in " + it->second.origin + "; remove it there");
  }
  if (unlink(it->second.origin.c_str()) != 0 && errno != ENOENT) {
    return Status::IoError("remove " + it->second.origin + ": " + std::strerror(errno));
  }
  functions_.erase(it);
  return Status::Ok();
}

}  // namespace rcuda::faas
