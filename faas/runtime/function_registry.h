// FunctionRegistry: the functions rcuda-fn serves, by name. They come from
// FDL files in a directory (--functions-dir, read at start; the operator's,
// never changed by rcuda-fn) and from deployments over the admin API, kept
// as <state-dir>/<name>.yaml so that they survive a restart.
//
// An invocation holds its own reference to the definition it started with;
// a deployment replaces the definition for later invocations only.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "faas/function/function_definition.h"

namespace rcuda::faas {

class FunctionRegistry {
 public:
  enum class Source { kFile, kDeployed };

  struct Entry {
    std::shared_ptr<const FunctionDefinition> definition;
    Source source = Source::kFile;
    std::string origin;  // the file it came from
  };

  // Loads every *.yaml and *.yml file of `dir`. A file that does not parse,
  // or a name defined twice, fails the whole load.
  Status LoadDirectory(const std::string& dir, std::vector<std::string>* warnings);

  // Where deployments are kept; loads those already there.
  Status SetStateDirectory(const std::string& dir, std::vector<std::string>* warnings);

  std::shared_ptr<const FunctionDefinition> Find(const std::string& name) const;
  std::vector<Entry> List() const;

  // Deploys one function from an FDL document (which must define exactly
  // `name`, its script inline). Refused for functions from --functions-dir
  // (kConflict) and when there is no state directory.
  enum class DeployResult { kCreated, kReplaced };
  Status Deploy(const std::string& name, std::string_view yaml, DeployResult* result,
                std::vector<std::string>* warnings);

  // Removes a deployed function (*existed false when there was none).
  Status Remove(const std::string& name, bool* existed);

  // Status codes Deploy and Remove use beyond InvalidValue.
  static constexpr Status::Code kConflict = Status::Code::kAlreadyExists;
  static constexpr Status::Code kNotDeployable = Status::Code::kFailedPrecondition;

 private:
  Status AddFile(const std::string& path, Source source, std::vector<std::string>* warnings);

  mutable std::mutex mu_;
  std::map<std::string, Entry> functions_;  // guarded by mu_
  std::string state_dir_;                   // set once before serving
};

}  // namespace rcuda::faas
