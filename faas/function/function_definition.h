// FunctionDefinition: one serverless function as SCAR's function definition
// language (FDL) describes it under `functions: aws: - lambda:`, plus what
// rcuda adds (the GPUs the function needs). rcuda-fn runs functions from it;
// rcuda-orchestrator reads the same definitions to know what to lease and
// which bucket feeds which function. docs/faas-runtime.md, "Function definitions".
//
// The struct is plain data. Validate() holds it to the limits below; the FDL
// parser and FromJson() call it, so a definition obtained from either is valid.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace rcuda::faas {

// A place in object storage, as FDL writes it: storage_provider "s3",
// "s3.<id>", "minio" or "minio.<id>", and path "bucket[/folder...]".
struct StoragePath {
  std::string storage_provider;  // as written ("s3.my_s3")
  std::string bucket;
  std::string folder;  // inside the bucket; no leading or trailing '/'; may be empty

  // "bucket/folder" or "bucket".
  std::string ToPath() const;
  // The key prefix objects under this path have: "folder/" or "".
  std::string KeyPrefix() const;
};

// An output: where the files of the function's output directory go. As in
// SCAR, `prefix` and `suffix` are filters: a file is uploaded when its name
// (relative to the output directory) starts with one of the prefixes and
// ends with one of the suffixes (an empty list lets every name through).
struct OutputSpec {
  StoragePath path;
  std::vector<std::string> prefixes;
  std::vector<std::string> suffixes;

  bool Accepts(const std::string& relative_name) const;
};

// rcuda's addition: what to lease from ssgmd for one invocation.
struct GpuRequirement {
  int count = 0;              // 0: the function uses no GPU
  uint64_t memory_bytes = 0;  // per GPU; required when count > 0
};

struct FunctionDefinition {
  std::string name;
  int memory_mb = 512;              // SCAR's default
  int timeout_s = 300;              // SCAR's default
  int ephemeral_storage_mb = 512;   // Lambda's default /tmp size
  std::string log_level = "INFO";
  std::map<std::string, std::string> environment;  // lambda's, then container's
  std::string script;               // the script's text (init_script's file, read)
  std::vector<StoragePath> inputs;
  std::vector<OutputSpec> outputs;
  GpuRequirement gpu;
};

// Limits (AWS Lambda's where Lambda has one).
inline constexpr int kMinMemoryMb = 128;
inline constexpr int kMaxMemoryMb = 10240;
inline constexpr int kMaxTimeoutS = 900;  // 15 minutes
inline constexpr int kMinEphemeralStorageMb = 512;
inline constexpr int kMaxEphemeralStorageMb = 10240;
inline constexpr size_t kMaxEnvironmentBytes = 4096;  // names + values, as Lambda
inline constexpr size_t kMaxScriptBytes = 1 << 20;
inline constexpr int kMaxGpus = 16;  // ssgmd's default max-gpus-per-request
inline constexpr size_t kMaxInputs = 16;
inline constexpr size_t kMaxOutputs = 16;
inline constexpr size_t kMaxFilters = 64;  // prefixes or suffixes per output

// Names the runtime sets for every invocation, which a definition may not set.
bool IsReservedEnvironmentName(const std::string& name);

// Checks every field against the limits; the message names the field.
Status Validate(const FunctionDefinition& definition);

// JSON form (what rcuda-fn's GetFunction returns and the orchestrator may
// read): the fields above with FDL's names; see docs/faas.md.
nlohmann::json ToJson(const FunctionDefinition& definition);
Status FromJson(const nlohmann::json& json, FunctionDefinition* definition);

// The one input whose bucket and folder hold s3://bucket/key, or nullptr.
const StoragePath* FindInputFor(const FunctionDefinition& definition, const std::string& bucket,
                                const std::string& key);

}  // namespace rcuda::faas
