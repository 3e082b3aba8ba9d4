#include "faas/function/function_definition.h"

#include <nlohmann/json.hpp>

#include "faas/function/names.h"

namespace rcuda::faas {
namespace {

using nlohmann::json;

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool HasNul(const std::string& text) { return text.find('\0') != std::string::npos; }

Status CheckStoragePath(const std::string& where, const StoragePath& path) {
  const std::string& provider = path.storage_provider;
  std::string type = provider.substr(0, provider.find('.'));
  if (type != "s3" && type != "minio") {
    return Status::InvalidValue(where + ".storage_provider: '" + provider +
                                "' is not supported (s3, s3.<id>, minio or minio.<id>)");
  }
  if (type.size() < provider.size()) {
    std::string id = provider.substr(type.size() + 1);
    if (!IsValidFunctionName(id)) {
      return Status::InvalidValue(where + ".storage_provider: identifier '" + id +
                                  "' must be 1-64 of [A-Za-z0-9_-]");
    }
  }
  if (!IsStrictBucketName(path.bucket)) {
    return Status::InvalidValue(where + ".path: '" + path.bucket + "' is not a valid bucket name");
  }
  Status folder = CheckFolder(path.folder);
  if (!folder.ok()) return Status::InvalidValue(where + ".path: " + folder.message());
  return Status::Ok();
}

Status CheckFilters(const std::string& where, const std::vector<std::string>& filters) {
  if (filters.size() > kMaxFilters) {
    return Status::InvalidValue(where + ": more than " + std::to_string(kMaxFilters) + " entries");
  }
  for (const auto& filter : filters) {
    if (filter.empty() || filter.size() > 255 || HasNul(filter)) {
      return Status::InvalidValue(where + ": entries must be 1 to 255 bytes without NUL");
    }
  }
  return Status::Ok();
}

Status CheckEnvironment(const std::map<std::string, std::string>& environment) {
  size_t bytes = 0;
  for (const auto& [name, value] : environment) {
    if (!IsValidEnvironmentName(name)) {
      return Status::InvalidValue("environment: '" + name + "' is not a valid variable name");
    }
    if (IsReservedEnvironmentName(name)) {
      return Status::InvalidValue("environment: " + name + " is set by rcuda-fn for every invocation");
    }
    if (HasNul(value)) return Status::InvalidValue("environment: " + name + "'s value holds a NUL byte");
    bytes += name.size() + value.size();
  }
  if (bytes > kMaxEnvironmentBytes) {
    return Status::InvalidValue("environment: " + std::to_string(bytes) + " bytes of names and values (at most " +
                                std::to_string(kMaxEnvironmentBytes) + ", as AWS Lambda)");
  }
  return Status::Ok();
}

json PathJson(const StoragePath& path) {
  return json{{"storage_provider", path.storage_provider}, {"path", path.ToPath()}};
}

Status PathFromJson(const json& j, StoragePath* path) {
  if (!j.is_object() || !j.contains("storage_provider") || !j.contains("path") ||
      !j["storage_provider"].is_string() || !j["path"].is_string()) {
    return Status::InvalidValue("a storage path needs string fields storage_provider and path");
  }
  path->storage_provider = j["storage_provider"].get<std::string>();
  std::string text = j["path"].get<std::string>();
  size_t slash = text.find('/');
  path->bucket = text.substr(0, slash);
  path->folder = slash == std::string::npos ? "" : text.substr(slash + 1);
  return Status::Ok();
}

Status StringList(const json& j, const char* field, std::vector<std::string>* out) {
  if (!j.contains(field)) return Status::Ok();
  if (!j[field].is_array()) return Status::InvalidValue(std::string(field) + " must be a list of strings");
  for (const auto& item : j[field]) {
    if (!item.is_string()) return Status::InvalidValue(std::string(field) + " must be a list of strings");
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

Status IntField(const json& j, const char* field, int* out) {
  if (!j.contains(field)) return Status::Ok();
  if (!j[field].is_number_integer()) return Status::InvalidValue(std::string(field) + " must be an integer");
  int64_t value = j[field].get<int64_t>();
  if (value < INT32_MIN || value > INT32_MAX) return Status::InvalidValue(std::string(field) + " is out of range");
  *out = static_cast<int>(value);
  return Status::Ok();
}

}  // namespace

std::string StoragePath::ToPath() const { return folder.empty() ? bucket : bucket + "/" + folder; }

std::string StoragePath::KeyPrefix() const { return folder.empty() ? "" : folder + "/"; }

bool OutputSpec::Accepts(const std::string& relative_name) const {
  bool prefix_ok = prefixes.empty();
  for (const auto& prefix : prefixes) prefix_ok = prefix_ok || StartsWith(relative_name, prefix);
  bool suffix_ok = suffixes.empty();
  for (const auto& suffix : suffixes) suffix_ok = suffix_ok || EndsWith(relative_name, suffix);
  return prefix_ok && suffix_ok;
}

bool IsReservedEnvironmentName(const std::string& name) {
  static const char* const kReserved[] = {
      "PATH", "HOME", "TMPDIR", "LANG", "TMP_INPUT_DIR", "TMP_OUTPUT_DIR", "INPUT_FILE_PATH", "INPUT_BUCKET",
      "INPUT_OBJECT_KEY", "RCUDA_RUN", "RCUDA_DEVICE_COUNT", "RCUDA_TOKEN", "SSGM_JOB_ID"};
  for (const char* reserved : kReserved) {
    if (name == reserved) return true;
  }
  return StartsWith(name, "RCUDA_DEVICE_") || StartsWith(name, "AWS_LAMBDA_") || StartsWith(name, "LD_") ||
         StartsWith(name, "RCUDA_FN_");
}

Status Validate(const FunctionDefinition& d) {
  if (!IsValidFunctionName(d.name)) {
    return Status::InvalidValue("name: '" + d.name +
                                "' must be 1-64 of [A-Za-z0-9_-], starting with a letter or digit");
  }
  if (d.memory_mb < kMinMemoryMb || d.memory_mb > kMaxMemoryMb) {
    return Status::InvalidValue("memory: " + std::to_string(d.memory_mb) + " MB is outside " +
                                std::to_string(kMinMemoryMb) + " to " + std::to_string(kMaxMemoryMb) +
                                " MB (AWS Lambda's range)");
  }
  if (d.timeout_s < 1 || d.timeout_s > kMaxTimeoutS) {
    return Status::InvalidValue("timeout: " + std::to_string(d.timeout_s) + " s is outside 1 to " +
                                std::to_string(kMaxTimeoutS) + " s (15 minutes, as AWS Lambda)");
  }
  if (d.ephemeral_storage_mb < kMinEphemeralStorageMb || d.ephemeral_storage_mb > kMaxEphemeralStorageMb) {
    return Status::InvalidValue("ephemeral_storage: " + std::to_string(d.ephemeral_storage_mb) +
                                " MB is outside 512 to 10240 MB (AWS Lambda's range)");
  }
  RCUDA_RETURN_IF_ERROR(CheckEnvironment(d.environment));
  if (d.script.empty()) return Status::InvalidValue("the function has no script (init_script or script)");
  if (d.script.size() > kMaxScriptBytes) return Status::InvalidValue("script: larger than 1 MiB");
  if (HasNul(d.script)) return Status::InvalidValue("script: holds a NUL byte");
  if (d.inputs.size() > kMaxInputs) return Status::InvalidValue("input: more than 16 entries");
  if (d.outputs.size() > kMaxOutputs) return Status::InvalidValue("output: more than 16 entries");
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    RCUDA_RETURN_IF_ERROR(CheckStoragePath("input[" + std::to_string(i) + "]", d.inputs[i]));
  }
  for (size_t i = 0; i < d.outputs.size(); ++i) {
    std::string where = "output[" + std::to_string(i) + "]";
    RCUDA_RETURN_IF_ERROR(CheckStoragePath(where, d.outputs[i].path));
    RCUDA_RETURN_IF_ERROR(CheckFilters(where + ".prefix", d.outputs[i].prefixes));
    RCUDA_RETURN_IF_ERROR(CheckFilters(where + ".suffix", d.outputs[i].suffixes));
  }
  if (d.gpu.count < 0 || d.gpu.count > kMaxGpus) {
    return Status::InvalidValue("gpu.count: " + std::to_string(d.gpu.count) + " is outside 0 to " +
                                std::to_string(kMaxGpus));
  }
  if (d.gpu.count > 0 && d.gpu.memory_bytes == 0) {
    return Status::InvalidValue("gpu.memory: required when gpu.count is above 0 (e.g. 1GiB)");
  }
  if (d.gpu.count == 0 && d.gpu.memory_bytes != 0) {
    return Status::InvalidValue("gpu.memory: set while gpu.count is 0");
  }
  if (d.gpu.count > 0 && d.gpu.memory_bytes < (1u << 20)) {
    return Status::InvalidValue("gpu.memory: less than 1 MiB");
  }
  return Status::Ok();
}

nlohmann::json ToJson(const FunctionDefinition& d) {
  json inputs = json::array();
  for (const auto& input : d.inputs) inputs.push_back(PathJson(input));
  json outputs = json::array();
  for (const auto& output : d.outputs) {
    json o = PathJson(output.path);
    if (!output.prefixes.empty()) o["prefix"] = output.prefixes;
    if (!output.suffixes.empty()) o["suffix"] = output.suffixes;
    outputs.push_back(std::move(o));
  }
  return json{{"name", d.name},
              {"memory", d.memory_mb},
              {"timeout", d.timeout_s},
              {"ephemeral_storage", d.ephemeral_storage_mb},
              {"log_level", d.log_level},
              {"environment", {{"Variables", d.environment}}},
              {"script", d.script},
              {"input", std::move(inputs)},
              {"output", std::move(outputs)},
              {"gpu", {{"count", d.gpu.count}, {"memory_bytes", d.gpu.memory_bytes}}}};
}

Status FromJson(const nlohmann::json& j, FunctionDefinition* out) {
  if (!j.is_object()) return Status::InvalidValue("a function definition must be a JSON object");
  FunctionDefinition d;
  if (!j.contains("name") || !j["name"].is_string()) return Status::InvalidValue("name: required string");
  d.name = j["name"].get<std::string>();
  RCUDA_RETURN_IF_ERROR(IntField(j, "memory", &d.memory_mb));
  RCUDA_RETURN_IF_ERROR(IntField(j, "timeout", &d.timeout_s));
  RCUDA_RETURN_IF_ERROR(IntField(j, "ephemeral_storage", &d.ephemeral_storage_mb));
  if (j.contains("log_level")) {
    if (!j["log_level"].is_string()) return Status::InvalidValue("log_level: must be a string");
    d.log_level = j["log_level"].get<std::string>();
  }
  if (j.contains("environment")) {
    const json& env = j["environment"];
    if (!env.is_object() || (env.contains("Variables") && !env["Variables"].is_object())) {
      return Status::InvalidValue("environment: must be {\"Variables\": {...}}");
    }
    if (env.contains("Variables")) {
      for (const auto& [name, value] : env["Variables"].items()) {
        if (!value.is_string()) return Status::InvalidValue("environment: " + name + " must be a string");
        d.environment[name] = value.get<std::string>();
      }
    }
  }
  if (!j.contains("script") || !j["script"].is_string()) return Status::InvalidValue("script: required string");
  d.script = j["script"].get<std::string>();
  for (const char* field : {"input", "output"}) {
    if (!j.contains(field)) continue;
    if (!j[field].is_array()) return Status::InvalidValue(std::string(field) + ": must be a list");
    for (const auto& item : j[field]) {
      StoragePath path;
      RCUDA_RETURN_IF_ERROR(PathFromJson(item, &path));
      if (std::string(field) == "input") {
        d.inputs.push_back(std::move(path));
      } else {
        OutputSpec output;
        output.path = std::move(path);
        RCUDA_RETURN_IF_ERROR(StringList(item, "prefix", &output.prefixes));
        RCUDA_RETURN_IF_ERROR(StringList(item, "suffix", &output.suffixes));
        d.outputs.push_back(std::move(output));
      }
    }
  }
  if (j.contains("gpu")) {
    const json& gpu = j["gpu"];
    if (!gpu.is_object()) return Status::InvalidValue("gpu: must be an object");
    RCUDA_RETURN_IF_ERROR(IntField(gpu, "count", &d.gpu.count));
    if (gpu.contains("memory_bytes")) {
      if (!gpu["memory_bytes"].is_number_unsigned()) return Status::InvalidValue("gpu.memory_bytes: an integer");
      d.gpu.memory_bytes = gpu["memory_bytes"].get<uint64_t>();
    }
  }
  RCUDA_RETURN_IF_ERROR(Validate(d));
  *out = std::move(d);
  return Status::Ok();
}

const StoragePath* FindInputFor(const FunctionDefinition& definition, const std::string& bucket,
                                const std::string& key) {
  for (const auto& input : definition.inputs) {
    if (input.bucket == bucket && StartsWith(key, input.KeyPrefix())) return &input;
  }
  return nullptr;
}

}  // namespace rcuda::faas
