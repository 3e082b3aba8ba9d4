// FunctionCatalog: which function an uploaded object is for. The definitions
// are FDL files (*.yaml, *.yml) in one directory, the orchestrator's copy of
// what rcuda-fn serves (`rcuda-faas deploy --orchestrator-dir` writes there).
// An object s3://bucket/key belongs to the function one of whose inputs holds
// it (faas/function's FindInputFor); two functions whose inputs overlap would
// make one upload two jobs, so the later one (by file name) is refused.
//
// Refresh() re-reads the directory when a file was added, changed or
// removed (by name, size and modification time). A file that does not parse
// is logged and its previous definitions kept, so a half-written edit never
// takes a function away. Used from one thread (the orchestrator's loop).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "faas/function/function_definition.h"

namespace rcuda::faas {

class FunctionCatalog {
 public:
  explicit FunctionCatalog(std::string dir) : dir_(std::move(dir)) {}

  // Reads the directory if anything in it changed since the last call. Fails
  // only when the directory cannot be read; bad files are logged and skipped.
  Status Refresh();

  // The function whose input holds s3://bucket/key, or nullptr.
  std::shared_ptr<const FunctionDefinition> Find(const std::string& bucket, const std::string& key) const;

  size_t size() const { return functions_.size(); }
  const std::string& dir() const { return dir_; }
  // Problems of the last Refresh (unparsable files, overlapping inputs).
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    uint64_t size = 0;
    std::vector<std::shared_ptr<const FunctionDefinition>> functions;  // the last good parse
  };

  std::string dir_;
  std::map<std::string, FileState> files_;  // by path
  std::vector<std::shared_ptr<const FunctionDefinition>> functions_;  // accepted, in file order
  std::vector<std::string> problems_;
};

}  // namespace rcuda::faas
