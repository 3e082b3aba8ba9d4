#include "client/transport_choice.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "client/attach_hello.h"
#include "client/handshake_deadline.h"
#include "client/log.h"
#include "common/env.h"
#include "protocol/tls/tls_client.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/frame.h"
#include "protocol/tcp_transport.h"
#include "protocol/transport_registry.h"
#include "protocol/version.h"

namespace rcuda::client {
namespace {

Status ConnectWith(const TransportEntry& entry, const Endpoint& endpoint, const TransportConnectOptions& options,
                   std::unique_ptr<Connection>* connection, TransportConnectReport* report) {
  Status s = entry.connect(endpoint, options, connection, report);
  for (const std::string& warning : report->warnings) Log(LogLevel::kWarn, warning);
  if (s.ok()) Log(LogLevel::kDebug, "using " + entry.label + " to reach " + endpoint.ToString());
  return s;
}

// RCUDA_TRANSPORT=auto: the transports that apply to `endpoint`, in order.
std::vector<const TransportEntry*> AutoCandidates(const Endpoint& endpoint) {
  std::vector<const TransportEntry*> candidates;
  for (const TransportEntry& entry : Transports()) {
    if (entry.connect && entry.auto_rank >= 0 && (!entry.auto_applies || entry.auto_applies(endpoint))) {
      candidates.push_back(&entry);
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const TransportEntry* a, const TransportEntry* b) { return a->auto_rank < b->auto_rank; });
  return candidates;
}

// The transport RCUDA_TRANSPORT names, or nullptr for auto. An unknown name
// is said once and means TCP (what it always meant).
const TransportEntry* ChosenByEnvironment() {
  const std::string choice = GetEnvOr("RCUDA_TRANSPORT", "auto");
  if (choice == "auto" || choice.empty()) return nullptr;
  const TransportEntry* entry = FindTransport(choice);
  if (entry && entry->connect) return entry;
  static std::once_flag once;
  std::call_once(once, [&] {
    Log(LogLevel::kWarn, "RCUDA_TRANSPORT=" + choice + " is none of auto, " + TransportNames() + "; using TCP");
  });
  return FindTransport("tcp");
}

// RCUDA_TLS: whether every TCP connection uses TLS.
Status TlsWanted(bool* wanted) {
  std::string value = GetEnvOr("RCUDA_TLS", "");
  if (value.empty() || value == "0" || value == "off" || value == "no" || value == "false") {
    *wanted = false;
  } else if (value == "1" || value == "on" || value == "yes" || value == "true" || value == "required") {
    *wanted = true;
  } else {
    return Status::InvalidValue("RCUDA_TLS=" + value + ": expected 1 (or required) to use TLS, 0 (or off) not to");
  }
  return Status::Ok();
}

// The process's TLS settings, read from the environment once.
Status ClientTlsContext(std::shared_ptr<const TlsContext>* context) {
  static std::once_flag once;
  static Status status;
  static std::shared_ptr<const TlsContext> made;
  std::call_once(once, [] {
    TlsClientOptions options;
    options.ca_file = GetEnvOr("RCUDA_TLS_CA", "");
    options.certificate_file = GetEnvOr("RCUDA_TLS_CERT", "");
    options.key_file = GetEnvOr("RCUDA_TLS_KEY", "");
    status = TlsContext::ForClient(options, &made);
    if (status.ok() && options.ca_file.empty()) {
      Log(LogLevel::kInfo, "TLS: no RCUDA_TLS_CA; servers' certificates are checked against the system's CAs");
    }
  });
  *context = made;
  return status;
}

Status ConnectTls(const Endpoint& endpoint, std::chrono::milliseconds timeout, const std::string& host_channel_key,
                  std::unique_ptr<Connection>* connection) {
  std::shared_ptr<const TlsContext> context;
  RCUDA_RETURN_IF_ERROR(ClientTlsContext(&context));
  TlsConnectOptions options;
  options.tcp.connect_timeout = timeout;
  options.handshake_timeout = HandshakeTimeout();
  options.verify_name = GetEnvOr("RCUDA_TLS_SERVER_NAME", "");
  std::vector<uint8_t> preamble =
      TlsPreamble(endpoint.gpu, host_channel_key.empty() ? "" : AttachRoute(host_channel_key));
  Status s = TlsConnect(endpoint.host, endpoint.port, std::move(context), preamble, options, connection);
  if (s.ok()) return s;
  std::string advice = TlsAdvice(s.message());
  return advice.empty() ? s : Status(s.code(), s.message() + " (" + advice + ")");
}

// With RCUDA_TLS set, a transport that leaves the host and is not TCP
// (UCX) would carry the session unencrypted: an error rather than either
// a silent downgrade or a quiet switch to another transport than the one
// named (`named_by`).
Status RefuseUnencrypted(const TransportEntry& entry, bool tls, const std::string& named_by) {
  if (!tls || entry.host_local || entry.name == "tcp") return Status::Ok();
  return Status::NotSupported("RCUDA_TLS is set, but " + named_by + " names " + entry.label + ", which is not " +
                              "encrypted: unset RCUDA_TLS to use " + entry.label + ", or use TCP (tcp://, " +
                              kTlsTransportName + "://) for TLS");
}

}  // namespace

std::string TlsAdvice(const std::string& message) {
  auto has = [&](const char* text) { return message.find(text) != std::string::npos; };
  if (has("certificate required") || has("peer did not return a certificate")) {
    return "the server requires a client certificate: set RCUDA_TLS_CERT and RCUDA_TLS_KEY";
  }
  if (has("alert unknown ca") || has("alert bad certificate") || has("alert certificate unknown")) {
    return "the server does not accept the client certificate of RCUDA_TLS_CERT";
  }
  if (has("server's certificate was refused")) {
    return has("mismatch") ? "the certificate does not name the host dialled; RCUDA_TLS_SERVER_NAME sets the name to "
                             "check instead"
                           : "RCUDA_TLS_CA must name the CA file that signed the server's certificate";
  }
  return "";
}

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection, const std::string& host_channel_key) {
  bool tls = false;
  RCUDA_RETURN_IF_ERROR(TlsWanted(&tls));
  TransportConnectOptions options;
  options.timeout = timeout;
  // TCP with RCUDA_TLS set runs over TLS; the host channel's key goes into
  // TLS's preamble (only a digest of it).
  auto connect = [&](const TransportEntry& entry, TransportConnectReport* report) {
    if (tls && entry.name == "tcp") return ConnectTls(endpoint, timeout, host_channel_key, connection);
    return ConnectWith(entry, endpoint, options, connection, report);
  };
  // A scheme names the one transport this endpoint uses.
  if (!endpoint.transport.empty()) {
    if (endpoint.transport == kTlsTransportName) return ConnectTls(endpoint, timeout, host_channel_key, connection);
    const TransportEntry* entry = FindTransport(endpoint.transport);
    if (!entry || !entry->connect) {
      return Status::InvalidValue("endpoint " + endpoint.ToString() + ": unknown transport '" + endpoint.transport +
                                  "' (" + TransportNames() + ", " + kTlsTransportName + ")");
    }
    RCUDA_RETURN_IF_ERROR(RefuseUnencrypted(*entry, tls, "the endpoint's scheme"));
    options.required = true;
    TransportConnectReport report;
    return connect(*entry, &report);
  }
  std::vector<const TransportEntry*> candidates;
  if (const TransportEntry* chosen = ChosenByEnvironment()) {
    RCUDA_RETURN_IF_ERROR(RefuseUnencrypted(*chosen, tls, "RCUDA_TRANSPORT"));
    candidates.push_back(chosen);
    if (const TransportEntry* fallback = FindTransport(chosen->fallback); fallback && fallback->connect) {
      candidates.push_back(fallback);
    }
  } else {
    candidates = AutoCandidates(endpoint);
  }
  Status s = Status::Unavailable("no transport reaches " + endpoint.ToString());
  for (size_t i = 0; i < candidates.size(); ++i) {
    TransportConnectReport report;
    s = connect(*candidates[i], &report);
    if (s.ok() || i + 1 == candidates.size()) return s;
    const TransportEntry& next = *candidates[i + 1];
    if (report.absent) {
      Log(LogLevel::kDebug, candidates[i]->label + " unavailable (" + s.message() + "); using " + next.label);
    } else {
      Log(LogLevel::kWarn, "not using " + candidates[i]->label + " for " + endpoint.ToString() + ": " + s.message() +
                               "; using " + next.label);
    }
  }
  return s;
}

Status ConfirmTransport(Connection& connection) {
  const TransportEntry* entry = FindTransport(connection.Kind());
  if (!entry || !entry->confirm) return Status::Ok();
  std::string warning;
  Status s = entry->confirm(connection, &warning);
  if (!warning.empty()) Log(LogLevel::kWarn, warning);
  return s;
}

std::string HelloTransport(const Connection& connection) { return connection.Kind(); }

int DefaultTcpStreams() { return std::thread::hardware_concurrency() >= 8 ? 4 : 1; }

int TcpStreamsWanted(const Connection& control, uint32_t server_cap) {
  if (control.Kind() != "tcp") return 0;
  int64_t wanted = GetEnvInt("RCUDA_TCP_STREAMS", DefaultTcpStreams());
  wanted = std::min<int64_t>({wanted, server_cap, kMaxTcpStreams});
  return wanted >= 2 ? wanted : 0;  // one data stream would be one stream, as the control connection is
}

namespace {

// Connects data stream `index` (1-based) and attaches it to the session.
Status AttachTcpStripe(const Endpoint& endpoint, const std::string& session_key, int index,
                       std::unique_ptr<Connection>* connection) {
  TcpOptions options;
  options.connect_timeout = std::chrono::milliseconds(GetEnvInt("RCUDA_CONNECT_TIMEOUT_MS", 5000));
  RCUDA_RETURN_IF_ERROR(TcpConnect(endpoint.host, endpoint.port, options, connection));
  AttachAnswer answer;
  RCUDA_RETURN_IF_ERROR(SendAttachHello(**connection, {session_key, "tcp", endpoint.gpu, static_cast<uint32_t>(index)}, &answer));
  const wire::HelloReply* hr = answer.reply;
  if (!hr) return Status::Corruption("malformed answer to a data stream's attachment");
  if (!hr->accepted()) return Status::Unavailable(hr->message() ? hr->message()->str() : "refused");
  return Status::Ok();
}

}  // namespace

Status OpenTcpStripes(const Endpoint& endpoint, const std::string& session_key, int count,
                      std::unique_ptr<TcpStripes>* stripes) {
  stripes->reset();
  std::vector<std::unique_ptr<Connection>> connections(count);
  for (int i = 0; i < count; ++i) {
    Status s = AttachTcpStripe(endpoint, session_key, i + 1, &connections[i]);
    if (!s.ok()) return Status::Unavailable("data stream " + std::to_string(i + 1) + ": " + s.message());
  }
  *stripes = std::make_unique<TcpStripes>(std::move(connections));
  return Status::Ok();
}

}  // namespace rcuda::client
