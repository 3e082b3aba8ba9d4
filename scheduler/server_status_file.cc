#include "scheduler/server_status_file.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "scheduler/json.h"

namespace rcuda::sched {

Status ParseServerStatus(std::string_view text, ServerStatus* status) {
  Json json;
  RCUDA_RETURN_IF_ERROR(ParseJson(text, &json));
  if (!json.is_object()) return Status::InvalidValue("server status: not a JSON object");
  ServerStatus parsed;
  int64_t port = 0;
  RCUDA_RETURN_IF_ERROR(GetInt(json, "server_pid", &parsed.server_pid));
  RCUDA_RETURN_IF_ERROR(GetOptionalInt(json, "port", &port));
  if (port < 0 || port > 65535) return Status::InvalidValue("server status: bad port");
  parsed.port = uint16_t(port);
  RCUDA_RETURN_IF_ERROR(GetOptionalString(json, "backend", &parsed.backend));
  if (const Json* sessions = json.Find("sessions"); sessions && sessions->is_array()) {
    for (const Json& item : sessions->items()) {
      SessionReport s;
      int64_t gpu = 0;
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "id", &s.id));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "gpu", &gpu));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "worker_pid", &s.worker_pid));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "peer", &s.peer));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "lease", &s.lease));
      RCUDA_RETURN_IF_ERROR(GetOptionalInt(item, "started_unix", &s.started_unix));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "transport", &s.transport));
      RCUDA_RETURN_IF_ERROR(GetOptionalString(item, "transport_detail", &s.transport_detail));
      s.gpu = int(gpu);
      parsed.sessions.push_back(std::move(s));
    }
  }
  *status = std::move(parsed);
  return Status::Ok();
}

Status ReadServerStatusFile(const std::string& path, ServerStatus* status) {
  std::ifstream file(path);
  if (!file) return Status::IoError("cannot read server status file " + path);
  std::ostringstream text;
  text << file.rdbuf();
  Status s = ParseServerStatus(text.str(), status);
  if (!s.ok()) return Status::InvalidValue(path + ": " + s.message());
  return Status::Ok();
}

bool ProcessExists(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

}  // namespace rcuda::sched
