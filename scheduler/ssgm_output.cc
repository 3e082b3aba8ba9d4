#include "scheduler/ssgm_output.h"

#include <cstdio>

#include "common/endpoint.h"
#include "protocol/lease_token.h"
#include "scheduler/lease_secret.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace rcuda::sched {

namespace {

int64_t IntOr(const Json& object, std::string_view key, int64_t fallback) {
  const Json* member = object.Find(key);
  return member && member->is_integer() ? member->AsInt() : fallback;
}

std::string StringOr(const Json& object, std::string_view key, std::string fallback = "") {
  const Json* member = object.Find(key);
  return member && member->is_string() ? Printable(member->AsString()) : fallback;
}

// Characters a POSIX shell takes literally in a word (no expansion, quoting,
// separation or globbing that matters in an assignment).
bool IsShellInert(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    bool inert = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '-' || c == ':' || c == '@' || c == '/' || c == '+' || c == ',' || c == '%' || c == '=' ||
                 c == '[' || c == ']';
    if (!inert) return false;
  }
  return true;
}

bool IsTokenText(std::string_view token) {
  if (token.size() > kMaxLeaseTokenBytes) return false;
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ShellQuote(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  quoted += '\'';
  return quoted;
}

std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

Status ParseOutputFormat(std::string_view text, OutputFormat* format) {
  if (text == "line") *format = OutputFormat::kLine;
  else if (text == "env") *format = OutputFormat::kEnv;
  else if (text == "json") *format = OutputFormat::kJson;
  else return Status::InvalidValue("unknown format '" + std::string(text) + "' (line, env or json)");
  return Status::Ok();
}

SsgmOutput ErrorOutput(int error, const std::string& message) {
  SsgmOutput out;
  out.error = error;
  out.message = message;
  out.variables.emplace_back("SSGM_ERROR", std::to_string(error));
  out.json.Set("error", int64_t(error));
  out.json.Set("message", message);
  return out;
}

SsgmOutput LeaseOutput(const Json& reply, const std::string& secret) {
  int error = int(IntOr(reply, "error", kSsgmBadRequest));
  if (error != kSsgmOk) return ErrorOutput(error, StringOr(reply, "message", "(no message)"));
  const Json* devices = reply.Find("devices");
  if (!devices || !devices->is_array() || devices->items().empty() || devices->items().size() > kMaxGrantsPerLease) {
    return ErrorOutput(kSsgmBadRequest, "ssgmd granted a lease without devices, or with too many");
  }
  SsgmOutput out;
  std::string lease = StringOr(reply, "lease");
  std::string token = StringOr(reply, "token");
  std::string lease_secret = secret.empty() ? StringOr(reply, "secret") : secret;
  // What shells will evaluate is checked here, whatever ssgmd (or someone
  // between it and us) sent.
  if (!IsValidLeaseId(lease)) return ErrorOutput(kSsgmBadRequest, "ssgmd sent a bad lease id");
  if (!IsTokenText(token)) return ErrorOutput(kSsgmBadRequest, "ssgmd sent a bad token");
  if (!lease_secret.empty() && !IsValidLeaseSecret(lease_secret)) {
    return ErrorOutput(kSsgmBadRequest, "ssgmd sent a bad lease secret");
  }
  out.variables.emplace_back("SSGM_ERROR", "0");
  out.variables.emplace_back("SSGM_JOB_ID", lease);
  out.variables.emplace_back("RCUDA_DEVICE_COUNT", std::to_string(devices->items().size()));
  out.json.Set("error", int64_t(0));
  out.json.Set("lease", lease);
  Json devices_json = Json::Array();
  for (size_t i = 0; i < devices->items().size(); ++i) {
    Grant grant;
    Status s = DecodeGrant(devices->items()[i], &grant);
    if (!s.ok()) return ErrorOutput(kSsgmBadRequest, "ssgmd sent a bad device: " + s.message());
    rcuda::Endpoint endpoint;
    endpoint.host = grant.host;
    endpoint.port = grant.port;
    endpoint.gpu = grant.gpu;
    std::string text = endpoint.ToString();
    out.variables.emplace_back("RCUDA_DEVICE_" + std::to_string(i), text);
    Json device = EncodeGrant(grant);
    device.Set("endpoint", text);
    devices_json.Push(std::move(device));
  }
  out.json.Set("devices", std::move(devices_json));
  out.json.Set("mem", IntOr(reply, "mem", 0));
  out.json.Set("expires_unix", (IntOr(reply, "expires_ms", 0) + 999) / 1000);
  if (!token.empty()) {
    out.variables.emplace_back("RCUDA_TOKEN", token);
    out.json.Set("token", token);
  }
  // Needed to renew and release the lease (ssgm reads it back from the environment).
  if (!lease_secret.empty()) {
    out.variables.emplace_back("SSGM_LEASE_SECRET", lease_secret);
    out.json.Set("secret", lease_secret);
  }
  if (const Json* repeated = reply.Find("repeated"); repeated && repeated->is_bool()) {
    out.json.Set("repeated", repeated->AsBool());
  }
  out.json.Set("queued_us", IntOr(reply, "queued_us", 0));
  return out;
}

SsgmOutput ReleaseOutput(const Json& reply) {
  int error = int(IntOr(reply, "error", kSsgmBadRequest));
  if (error != kSsgmOk) return ErrorOutput(error, StringOr(reply, "message", "(no message)"));
  SsgmOutput out;
  std::string lease = StringOr(reply, "lease");
  if (!IsValidLeaseId(lease)) return ErrorOutput(kSsgmBadRequest, "ssgmd sent a bad lease id");
  out.variables.emplace_back("SSGM_ERROR", "0");
  out.variables.emplace_back("SSGM_JOB_ID", lease);
  out.json.Set("error", int64_t(0));
  out.json.Set("lease", lease);
  const Json* released = reply.Find("released");
  out.json.Set("released", released && released->is_bool() && released->AsBool());
  return out;
}

std::string Render(const SsgmOutput& output, OutputFormat format) {
  std::string text;
  switch (format) {
    case OutputFormat::kLine:
      // rCUDA's format, byte for byte, for the values LeaseOutput lets
      // through; anything else would be quoted rather than evaluated.
      for (size_t i = 0; i < output.variables.size(); ++i) {
        if (i) text += ';';
        const std::string& value = output.variables[i].second;
        text += output.variables[i].first + "=" + (IsShellInert(value) ? value : ShellQuote(value));
      }
      text += '\n';
      break;
    case OutputFormat::kEnv:
      // Every value quoted (an IPv6 endpoint "[::1]@8308:0" must not meet
      // the shell's globbing either).
      for (const auto& [name, value] : output.variables) text += "export " + name + "=" + ShellQuote(value) + ";\n";
      break;
    case OutputFormat::kJson:
      text = output.json.Dump() + "\n";
      break;
  }
  return text;
}

std::string RenderStatusTable(const Json& status) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "policy %s, %lld lease(s), %lld waiting, tokens %s, invariants %s\n",
                StringOr(status, "policy").c_str(), (long long)IntOr(status, "lease_count", 0),
                (long long)IntOr(status, "queue", 0),
                status.Find("tokens") && status.Find("tokens")->AsBool() ? "on" : "off",
                StringOr(status, "invariants").c_str());
  out += line;
  if (const Json* nodes = status.Find("nodes"); nodes && nodes->is_array()) {
    for (const Json& node : nodes->items()) {
      const Json* live = node.Find("live");
      std::snprintf(line, sizeof line, "node %s  %s@%lld  %s  server %s  data from %s  last report %lld ms ago\n",
                    StringOr(node, "node").c_str(), StringOr(node, "host").c_str(),
                    (long long)IntOr(node, "port", 0), live && live->AsBool() ? "LIVE" : "NOT LIVE",
                    StringOr(node, "server").c_str(), StringOr(node, "source", "-").c_str(),
                    (long long)IntOr(node, "last_report_ms_ago", -1));
      out += line;
      if (const Json* gpus = node.Find("gpus"); gpus && gpus->is_array()) {
        for (const Json& gpu : gpus->items()) {
          std::snprintf(line, sizeof line, "  gpu %lld  %-28s granted %s of %s  leases %lld  sessions %lld  util %lld%%%s\n",
                        (long long)IntOr(gpu, "index", 0), StringOr(gpu, "name").c_str(),
                        FormatBytes(uint64_t(IntOr(gpu, "allocated", 0))).c_str(),
                        FormatBytes(uint64_t(IntOr(gpu, "capacity", 0))).c_str(), (long long)IntOr(gpu, "leases", 0),
                        (long long)IntOr(gpu, "sessions", 0), (long long)IntOr(gpu, "util", 0),
                        gpu.Find("present") && gpu.Find("present")->AsBool() ? "" : "  (not in the latest report)");
          out += line;
        }
      }
    }
  }
  if (const Json* leases = status.Find("leases"); leases && leases->is_array()) {
    for (const Json& lease : leases->items()) {
      std::string where;
      if (const Json* grants = lease.Find("grants"); grants && grants->is_array()) {
        for (const Json& g : grants->items()) {
          if (!where.empty()) where += ",";
          where += StringOr(g, "node") + ":" + std::to_string(IntOr(g, "gpu", 0));
        }
      }
      std::snprintf(line, sizeof line, "lease %s  %s per GPU on %s  expires in %lld s\n",
                    StringOr(lease, "id", "(id: operators only)").c_str(), FormatBytes(uint64_t(IntOr(lease, "mem", 0))).c_str(),
                    where.c_str(), (long long)((IntOr(lease, "expires_ms", 0) - IntOr(status, "now_ms", 0)) / 1000));
      out += line;
    }
  }
  return out;
}

}  // namespace rcuda::sched
