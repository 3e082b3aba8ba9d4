#include "scheduler/wire.h"

#include <algorithm>

#include "scheduler/host_name.h"

namespace rcuda::sched {

namespace {

Status Context(const Status& status, const char* what) {
  if (status.ok()) return status;
  return Status::InvalidValue(std::string(what) + ": " + status.message());
}

}  // namespace

bool IsValidNodeName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool IsValidKey(std::string_view key) {
  if (key.empty() || key.size() > 200) return false;
  for (char c : key) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool IsValidLeaseId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

bool IsPrintableText(std::string_view text, size_t max_bytes) {
  return text.size() <= max_bytes && std::all_of(text.begin(), text.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

namespace {

bool IsSecretHash(std::string_view hash) {
  return hash.size() == 64 &&
         std::all_of(hash.begin(), hash.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Json EncodeGrant(const Grant& grant) {
  Json json = Json::Object();
  json.Set("node", grant.node);
  json.Set("host", grant.host);
  json.Set("port", int64_t(grant.port));
  json.Set("gpu", int64_t(grant.gpu));
  json.Set("mem", grant.mem_bytes);
  return json;
}

Status DecodeGrant(const Json& json, Grant* grant) {
  int64_t port = 0, gpu = 0, mem = 0;
  RCUDA_RETURN_IF_ERROR(GetString(json, "node", &grant->node));
  RCUDA_RETURN_IF_ERROR(GetString(json, "host", &grant->host));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "port", &port));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "gpu", &gpu));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "mem", &mem));
  if (port <= 0 || port > 65535 || gpu < 0 || gpu > 65535 || mem <= 0) return Status::InvalidValue("grant out of range");
  if (!IsValidNodeName(grant->node)) return Status::InvalidValue("grant names a bad node");
  if (!IsValidAdvertisedHost(grant->host)) return Status::InvalidValue("grant names a bad host");
  grant->port = uint16_t(port);
  grant->gpu = int(gpu);
  grant->mem_bytes = uint64_t(mem);
  return Status::Ok();
}

Json EncodeLease(const Lease& lease) {
  Json json = Json::Object();
  json.Set("id", lease.id);
  if (!lease.key.empty()) json.Set("key", lease.key);
  if (!lease.secret_sha256.empty()) json.Set("secret_sha256", lease.secret_sha256);
  json.Set("mem", lease.mem_bytes);
  json.Set("ttl_ms", lease.ttl_ms);
  json.Set("created_ms", lease.created_ms);
  json.Set("expires_ms", lease.expires_ms);
  if (lease.tokens_until_ms > lease.expires_ms) json.Set("tokens_until_ms", lease.tokens_until_ms);
  Json grants = Json::Array();
  for (const auto& grant : lease.grants) grants.Push(EncodeGrant(grant));
  json.Set("grants", std::move(grants));
  return json;
}

Status DecodeLease(const Json& json, Lease* lease) {
  int64_t mem = 0;
  RCUDA_RETURN_IF_ERROR(GetString(json, "id", &lease->id));
  RCUDA_RETURN_IF_ERROR(GetOptionalString(json, "key", &lease->key));
  RCUDA_RETURN_IF_ERROR(GetOptionalString(json, "secret_sha256", &lease->secret_sha256));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "mem", &mem));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "ttl_ms", &lease->ttl_ms));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "created_ms", &lease->created_ms));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "expires_ms", &lease->expires_ms));
  lease->tokens_until_ms = lease->expires_ms;
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(json, "tokens_until_ms", &lease->tokens_until_ms));
  if (!IsValidLeaseId(lease->id)) return Status::InvalidValue("bad lease id");
  if (!lease->key.empty() && !IsValidKey(lease->key)) return Status::InvalidValue("bad idempotency key");
  if (!lease->secret_sha256.empty() && !IsSecretHash(lease->secret_sha256)) {
    return Status::InvalidValue("bad secret hash");
  }
  if (mem <= 0 || lease->ttl_ms <= 0) return Status::InvalidValue("lease memory or time to live out of range");
  lease->mem_bytes = uint64_t(mem);
  const Json* grants = json.Find("grants");
  if (!grants || !grants->is_array() || grants->items().empty()) return Status::InvalidValue("lease without grants");
  if (grants->items().size() > kMaxGrantsPerLease) return Status::InvalidValue("lease with too many grants");
  lease->grants.clear();
  for (const Json& item : grants->items()) {
    Grant grant;
    RCUDA_RETURN_IF_ERROR(Context(DecodeGrant(item, &grant), "grant"));
    lease->grants.push_back(std::move(grant));
  }
  return Status::Ok();
}

Json EncodeLeaseSummary(const Lease& lease, bool identity) {
  Json json = Json::Object();
  if (identity) {
    json.Set("id", lease.id);
    if (!lease.key.empty()) json.Set("key", lease.key);
  }
  json.Set("mem", lease.mem_bytes);
  json.Set("ttl_ms", lease.ttl_ms);
  json.Set("created_ms", lease.created_ms);
  json.Set("expires_ms", lease.expires_ms);
  Json grants = Json::Array();
  for (const auto& grant : lease.grants) grants.Push(EncodeGrant(grant));
  json.Set("grants", std::move(grants));
  return json;
}

void EncodeNodeReport(const NodeReport& report, Json* object) {
  object->Set("node", report.node);
  object->Set("host", report.host);
  object->Set("port", int64_t(report.port));
  object->Set("source", report.source);
  object->Set("server", ServerStateName(report.server));
  Json gpus = Json::Array();
  for (const auto& gpu : report.gpus) {
    Json g = Json::Object();
    g.Set("index", int64_t(gpu.index));
    g.Set("name", gpu.name);
    if (!gpu.uuid.empty()) g.Set("uuid", gpu.uuid);
    g.Set("total", gpu.total_bytes);
    g.Set("free", gpu.free_bytes);
    g.Set("util", int64_t(gpu.utilization_percent));
    gpus.Push(std::move(g));
  }
  object->Set("gpus", std::move(gpus));
  Json sessions = Json::Array();
  for (const auto& session : report.sessions) {
    Json s = Json::Object();
    s.Set("id", session.id);
    s.Set("gpu", int64_t(session.gpu));
    s.Set("worker_pid", session.worker_pid);
    s.Set("peer", session.peer);
    s.Set("lease", session.lease);
    s.Set("started_unix", session.started_unix);
    sessions.Push(std::move(s));
  }
  object->Set("sessions", std::move(sessions));
}

Status DecodeNodeReport(const Json& json, NodeReport* report) {
  NodeReport r;
  int64_t port = 0;
  RCUDA_RETURN_IF_ERROR(GetString(json, "node", &r.node));
  if (!IsValidNodeName(r.node)) return Status::InvalidValue("bad node name '" + r.node + "'");
  std::string host;
  RCUDA_RETURN_IF_ERROR(GetString(json, "host", &host));
  RCUDA_RETURN_IF_ERROR(NormalizeAdvertisedHost(host, &r.host));
  RCUDA_RETURN_IF_ERROR(GetInt(json, "port", &port));
  if (port <= 0 || port > 65535) return Status::InvalidValue("bad port");
  r.port = uint16_t(port);
  RCUDA_RETURN_IF_ERROR(GetOptionalString(json, "source", &r.source));
  if (!IsPrintableText(r.source, kMaxReportTextBytes)) return Status::InvalidValue("bad source");
  std::string server = "unknown";
  RCUDA_RETURN_IF_ERROR(GetOptionalString(json, "server", &server));
  if (server == "up") r.server = ServerState::kUp;
  else if (server == "down") r.server = ServerState::kDown;
  else if (server == "unknown") r.server = ServerState::kUnknown;
  else return Status::InvalidValue("bad server state '" + server + "'");
  const Json* gpus = json.Find("gpus");
  if (!gpus || !gpus->is_array()) return Status::InvalidValue("report without a 'gpus' array");
  if (gpus->items().size() > kMaxGpusPerReport) return Status::InvalidValue("report with too many GPUs");
  for (const Json& item : gpus->items()) {
    GpuReport gpu;
    int64_t index = 0, total = 0, free = 0, util = 0;
    RCUDA_RETURN_IF_ERROR(GetInt(item, "index", &index));
    RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "name", &gpu.name));
    RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "uuid", &gpu.uuid));
    RCUDA_RETURN_IF_ERROR(GetInt(item, "total", &total));
    RCUDA_RETURN_IF_ERROR(GetInt(item, "free", &free));
    RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "util", &util));
    if (index < 0 || index > 65535 || total < 0 || free < 0 || util < 0 || util > 100) {
      return Status::InvalidValue("GPU figures out of range");
    }
    if (!IsPrintableText(gpu.name, kMaxReportTextBytes) || !IsPrintableText(gpu.uuid, kMaxReportTextBytes)) {
      return Status::InvalidValue("GPU name or UUID not printable or too long");
    }
    for (const auto& seen : r.gpus) {
      if (seen.index == index) return Status::InvalidValue("GPU index " + std::to_string(index) + " reported twice");
    }
    gpu.index = int(index);
    gpu.total_bytes = uint64_t(total);
    gpu.free_bytes = uint64_t(free);
    gpu.utilization_percent = int(util);
    r.gpus.push_back(std::move(gpu));
  }
  if (const Json* sessions = json.Find("sessions"); sessions && sessions->is_array()) {
    if (sessions->items().size() > kMaxSessionsPerReport) return Status::InvalidValue("report with too many sessions");
    for (const Json& item : sessions->items()) {
      SessionReport s;
      int64_t gpu = 0;
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "id", &s.id));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "gpu", &gpu));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "worker_pid", &s.worker_pid));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "peer", &s.peer));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "lease", &s.lease));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "started_unix", &s.started_unix));
      if (gpu < 0 || gpu > 65535 || !IsPrintableText(s.peer, kMaxReportTextBytes) ||
          !IsPrintableText(s.lease, kMaxReportTextBytes)) {
        return Status::InvalidValue("session out of range");
      }
      s.gpu = int(gpu);
      r.sessions.push_back(std::move(s));
    }
  }
  *report = std::move(r);
  return Status::Ok();
}

}  // namespace rcuda::sched
