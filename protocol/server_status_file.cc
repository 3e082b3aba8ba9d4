#include "protocol/server_status_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace rcuda {
namespace {

// Ordered: members are written in the order they are set, as before there was
// one definition of the format.
using Json = nlohmann::ordered_json;

constexpr size_t kMaxStatusFileBytes = 16 << 20;

Status BadMember(std::string_view key, std::string_view what) {
  return Status::Corruption("server status: '" + std::string(key) + "' " + std::string(what));
}

// An integer member in [lo, hi]; absent leaves *value unless required.
Status GetInt(const Json& object, std::string_view key, bool required, int64_t lo, int64_t hi, int64_t* value) {
  auto it = object.find(key);
  if (it == object.end()) return required ? BadMember(key, "is missing") : Status::Ok();
  if (!it->is_number_integer()) return BadMember(key, "must be an integer");
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return BadMember(key, "is out of range");
    v = int64_t(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) return BadMember(key, "is out of range");
  *value = v;
  return Status::Ok();
}

Status GetString(const Json& object, std::string_view key, std::string* value) {
  auto it = object.find(key);
  if (it == object.end()) return Status::Ok();
  if (!it->is_string()) return BadMember(key, "must be a string");
  *value = it->get<std::string>();
  return Status::Ok();
}

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

Json ToJson(const ServerStatusSession& s) {
  Json j;
  j["id"] = s.id;
  j["gpu"] = s.gpu;
  j["worker_pid"] = s.worker_pid;
  j["peer"] = s.peer;
  j["lease"] = s.lease;
  j["started_unix"] = s.started_unix;
  j["transport"] = s.transport;
  j["transport_detail"] = s.transport_detail;
  return j;
}

Status FromJson(const Json& j, ServerStatusSession* s) {
  if (!j.is_object()) return Status::Corruption("server status: a session is not a JSON object");
  int64_t gpu = 0;
  RCUDA_RETURN_IF_ERROR(GetInt(j, "id", false, kInt64Min, kInt64Max, &s->id));
  RCUDA_RETURN_IF_ERROR(GetInt(j, "gpu", false, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), &gpu));
  RCUDA_RETURN_IF_ERROR(GetInt(j, "worker_pid", false, kInt64Min, kInt64Max, &s->worker_pid));
  RCUDA_RETURN_IF_ERROR(GetString(j, "peer", &s->peer));
  RCUDA_RETURN_IF_ERROR(GetString(j, "lease", &s->lease));
  RCUDA_RETURN_IF_ERROR(GetInt(j, "started_unix", false, kInt64Min, kInt64Max, &s->started_unix));
  RCUDA_RETURN_IF_ERROR(GetString(j, "transport", &s->transport));
  RCUDA_RETURN_IF_ERROR(GetString(j, "transport_detail", &s->transport_detail));
  s->gpu = int(gpu);
  return Status::Ok();
}

}  // namespace

std::string FormatServerStatus(const ServerStatusFile& status) {
  Json j;
  j["server_pid"] = status.server_pid;
  j["port"] = status.port;
  j["backend"] = status.backend;
  j["sessions"] = Json::array();
  for (const ServerStatusSession& s : status.sessions) j["sessions"].push_back(ToJson(s));
  // Peers and lease names are not trusted to be UTF-8: replace, never throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Status ParseServerStatus(std::string_view text, ServerStatusFile* status) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::Corruption("server status: not JSON");
  if (!json.is_object()) return Status::Corruption("server status: not a JSON object");
  ServerStatusFile parsed;
  int64_t port = 0;
  RCUDA_RETURN_IF_ERROR(GetInt(json, "server_pid", true, kInt64Min, kInt64Max, &parsed.server_pid));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "port", false, 0, 65535, &port));
  parsed.port = uint16_t(port);
  RCUDA_RETURN_IF_ERROR(GetString(json, "backend", &parsed.backend));
  if (auto it = json.find("sessions"); it != json.end() && it->is_array()) {
    for (const Json& item : *it) {
      ServerStatusSession s;
      RCUDA_RETURN_IF_ERROR(FromJson(item, &s));
      parsed.sessions.push_back(std::move(s));
    }
  }
  *status = std::move(parsed);
  return Status::Ok();
}

Status WriteServerStatusFile(const std::string& path, const ServerStatusFile& status) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << FormatServerStatus(status);
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::IoError("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IoError("cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

Status ReadServerStatusFile(const std::string& path, ServerStatusFile* status) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::IoError("cannot read server status file " + path);
  std::string text;
  char chunk[64 << 10];
  while (file.read(chunk, sizeof chunk) || file.gcount() > 0) {
    text.append(chunk, size_t(file.gcount()));
    if (text.size() > kMaxStatusFileBytes) return Status::Corruption(path + ": larger than 16 MiB");
  }
  Status s = ParseServerStatus(text, status);
  if (!s.ok()) return Status::Corruption(path + ": " + s.message());
  return Status::Ok();
}

}  // namespace rcuda
