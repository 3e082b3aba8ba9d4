#include "faas/orchestrator/function_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "faas/function/fdl_parser.h"

namespace rcuda::faas {

namespace fs = std::filesystem;

namespace {

bool Overlaps(const StoragePath& a, const StoragePath& b) {
  if (a.bucket != b.bucket) return false;
  std::string pa = a.KeyPrefix(), pb = b.KeyPrefix();
  return pa.rfind(pb, 0) == 0 || pb.rfind(pa, 0) == 0;
}

// The first input of `function` that overlaps an input of an accepted
// function, described; empty when none does.
std::string FindOverlap(const FunctionDefinition& function,
                        const std::vector<std::shared_ptr<const FunctionDefinition>>& accepted) {
  for (const auto& other : accepted) {
    for (const auto& mine : function.inputs) {
      for (const auto& theirs : other->inputs) {
        if (Overlaps(mine, theirs)) {
          return "its input " + mine.ToPath() + " overlaps input " + theirs.ToPath() + " of function " + other->name;
        }
      }
    }
  }
  return "";
}

}  // namespace

Status FunctionCatalog::Refresh() {
  std::map<std::string, std::pair<int64_t, uint64_t>> seen;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    struct stat st;
    if (stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    seen[it->path().string()] = {int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, uint64_t(st.st_size)};
  }
  if (ec) return Status::InvalidValue("function definitions: cannot read " + dir_ + ": " + ec.message());

  bool changed = seen.size() != files_.size();
  for (const auto& [path, stamp] : seen) {
    auto it = files_.find(path);
    if (it == files_.end() || it->second.mtime_ns != stamp.first || it->second.size != stamp.second) changed = true;
  }
  if (!changed) return Status::Ok();

  std::map<std::string, FileState> files;
  std::vector<std::string> problems;
  for (const auto& [path, stamp] : seen) {
    FileState state;
    state.mtime_ns = stamp.first;
    state.size = stamp.second;
    FdlDocument document;
    Status s = LoadFdlFile(path, &document);
    if (s.ok()) {
      for (auto& function : document.functions) {
        state.functions.push_back(std::make_shared<const FunctionDefinition>(std::move(function)));
      }
    } else {
      problems.push_back(s.message());  // names the file
      auto old = files_.find(path);
      if (old != files_.end()) state.functions = old->second.functions;  // keep the last good one
    }
    files.emplace(path, std::move(state));
  }
  std::vector<std::shared_ptr<const FunctionDefinition>> accepted;
  std::set<std::string> names;
  for (const auto& [path, state] : files) {
    for (const auto& function : state.functions) {
      if (!names.insert(function->name).second) {
        problems.push_back(path + ": function " + function->name + " is defined twice; the first one is used");
        continue;
      }
      std::string overlap = FindOverlap(*function, accepted);
      if (!overlap.empty()) {
        problems.push_back(path + ": function " + function->name + " refused: " + overlap);
        continue;
      }
      accepted.push_back(function);
    }
  }
  for (const auto& problem : problems) {
    if (std::find(problems_.begin(), problems_.end(), problem) == problems_.end()) spdlog::error("{}", problem);
  }
  files_ = std::move(files);
  functions_ = std::move(accepted);
  problems_ = std::move(problems);
  spdlog::info("function definitions in {}: {} function(s)", dir_, functions_.size());
  return Status::Ok();
}

std::shared_ptr<const FunctionDefinition> FunctionCatalog::Find(const std::string& bucket,
                                                                const std::string& key) const {
  for (const auto& function : functions_) {
    if (FindInputFor(*function, bucket, key)) return function;
  }
  return nullptr;
}

}  // namespace rcuda::faas
