#include "faas/storage/s3_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/env.h"

namespace rcuda::faas {

namespace {

constexpr size_t kMaxConfigFileBytes = 64 * 1024;

Status ReadSmallFile(const std::string& path, std::string* text) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::InvalidValue("s3 config: cannot open " + path);
  std::string data(kMaxConfigFileBytes + 1, '\0');
  file.read(data.data(), std::streamsize(data.size()));
  data.resize(size_t(file.gcount()));
  if (data.size() > kMaxConfigFileBytes) {
    return Status::InvalidValue("s3 config: " + path + " is larger than 64 KiB");
  }
  *text = std::move(data);
  return Status::Ok();
}

Status GetString(const nlohmann::json& value, const std::string& name, std::string* out) {
  if (!value.is_string()) return Status::InvalidValue("s3 config: '" + name + "' must be a string");
  *out = value.get<std::string>();
  return Status::Ok();
}

Status GetInt(const nlohmann::json& value, const std::string& name, int min, int max, int* out) {
  if (!value.is_number_integer()) return Status::InvalidValue("s3 config: '" + name + "' must be an integer");
  int64_t v = value.get<int64_t>();
  if (v < min || v > max) {
    return Status::InvalidValue("s3 config: '" + name + "' must be in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  }
  *out = int(v);
  return Status::Ok();
}

}  // namespace

Status ParseS3Addressing(const std::string& text, S3Addressing* addressing) {
  if (text == "auto") {
    *addressing = S3Addressing::kAuto;
  } else if (text == "path") {
    *addressing = S3Addressing::kPath;
  } else if (text == "virtual") {
    *addressing = S3Addressing::kVirtualHost;
  } else {
    return Status::InvalidValue("s3 config: addressing must be auto, path or virtual, not '" + text + "'");
  }
  return Status::Ok();
}

Status ApplyS3ConfigJson(const std::string& text, S3Config* config) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidValue("s3 config: not valid JSON");
  if (!doc.is_object()) return Status::InvalidValue("s3 config: expected a JSON object");
  for (const auto& [name, value] : doc.items()) {
    if (name == "endpoint") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->endpoint));
    } else if (name == "region") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->region));
    } else if (name == "access_key_id") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->access_key_id));
    } else if (name == "secret_access_key") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->secret_access_key));
    } else if (name == "session_token") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->session_token));
    } else if (name == "addressing") {
      std::string addressing;
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &addressing));
      RCUDA_RETURN_IF_ERROR(ParseS3Addressing(addressing, &config->addressing));
    } else if (name == "max_attempts") {
      RCUDA_RETURN_IF_ERROR(GetInt(value, name, 1, 20, &config->max_attempts));
    } else if (name == "connect_timeout_ms") {
      RCUDA_RETURN_IF_ERROR(GetInt(value, name, 1, 600000, &config->connect_timeout_ms));
    } else if (name == "verify_tls") {
      if (!value.is_boolean()) return Status::InvalidValue("s3 config: 'verify_tls' must be true or false");
      config->verify_tls = value.get<bool>();
    } else if (name == "ca_file") {
      RCUDA_RETURN_IF_ERROR(GetString(value, name, &config->ca_file));
    } else {
      return Status::InvalidValue("s3 config: unknown field '" + name + "'");
    }
  }
  return Status::Ok();
}

Status LoadS3Config(S3Config* config) {
  if (auto path = GetEnv("RCUDA_S3_CONFIG"); path && !path->empty()) {
    std::string text;
    RCUDA_RETURN_IF_ERROR(ReadSmallFile(*path, &text));
    Status s = ApplyS3ConfigJson(text, config);
    if (!s.ok()) return Status::InvalidValue(s.message() + " (in " + *path + ")");
  }
  auto set_from = [](std::string* field, std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (auto value = GetEnv(name); value && !value->empty()) {
        *field = *value;
        return;
      }
    }
  };
  set_from(&config->endpoint, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  set_from(&config->region, {"AWS_REGION", "AWS_DEFAULT_REGION"});
  set_from(&config->access_key_id, {"AWS_ACCESS_KEY_ID"});
  set_from(&config->secret_access_key, {"AWS_SECRET_ACCESS_KEY"});
  set_from(&config->session_token, {"AWS_SESSION_TOKEN"});
  if (auto addressing = GetEnv("RCUDA_S3_ADDRESSING"); addressing && !addressing->empty()) {
    RCUDA_RETURN_IF_ERROR(ParseS3Addressing(*addressing, &config->addressing));
  }
  if (!config->access_key_id.empty() && config->secret_access_key.empty()) {
    return Status::InvalidValue("s3 config: an access key id without a secret access key");
  }
  if (config->region.empty()) return Status::InvalidValue("s3 config: empty region");
  return Status::Ok();
}

}  // namespace rcuda::faas
