#include "client/transport_choice.h"

#include <mutex>

#include "client/handshake_deadline.h"
#include "client/log.h"
#include "common/env.h"
#include "protocol/shm_transport.h"
#include "protocol/tcp_transport.h"
#include "protocol/tls/tls_client.h"
#include "protocol/tls/tls_preamble.h"

namespace rcuda::client {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Tries the places a local server's socket may be (protocol/shm_socket.h).
// *refused: a socket was there but its listener is not one this user
// trusts, or its set-up failed; `why` says so.
Status ConnectLocal(const Endpoint& endpoint, std::unique_ptr<Connection>* connection, bool* refused,
                    std::string* why) {
  *refused = false;
  std::string missing;
  for (const std::string& path : ShmClientSocketPaths(endpoint.port)) {
    bool absent = false;
    Status s = ShmConnect(path, connection, &absent);
    if (s.ok()) {
      Log(LogLevel::kDebug, "using shared memory to reach " + endpoint.ToString() + " (" + path + ")");
      return s;
    }
    // Nothing listening there: look further. Anything else is a socket
    // that is there and is not (or not safely) rcuda-server.
    if (absent) {
      missing += (missing.empty() ? "" : "; ") + s.message();
      continue;
    }
    *refused = true;
    *why = s.message();
    return s;
  }
  *why = missing.empty() ? "no local socket" : missing;
  return Status::Unavailable(*why);
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
  std::string choice = GetEnvOr("RCUDA_TRANSPORT", "auto");
  if (!endpoint.transport.empty()) {
    // A scheme names the transport for this device: no other is tried.
    if (endpoint.transport == kTlsTransportName) return ConnectTls(endpoint, timeout, host_channel_key, connection);
    if (endpoint.transport != "tcp" && endpoint.transport != "shm") {
      return Status::NotSupported("endpoint " + endpoint.ToString() + ": unknown transport '" + endpoint.transport +
                                  "' (tcp, shm, tls)");
    }
    choice = endpoint.transport;
  }
  if (choice == "shm" || (choice == "auto" && IsLoopback(endpoint.host))) {
    if (GetEnv("RCUDA_SERVER_UID") && !ExpectedServerUid()) {
      static std::once_flag once;
      std::call_once(once, [] {
        Log(LogLevel::kWarn, "RCUDA_SERVER_UID=" + GetEnvOr("RCUDA_SERVER_UID", "") +
                                 " is neither a uid nor a user name; ignored");
      });
    }
    bool refused = false;
    std::string why;
    Status s = ConnectLocal(endpoint, connection, &refused, &why);
    if (s.ok() || choice == "shm") return s;
    if (refused) {
      Log(LogLevel::kWarn, "not using shared memory for " + endpoint.ToString() + ": " + why + "; using TCP");
    } else {
      Log(LogLevel::kDebug, "shared memory unavailable (" + why + "); using TCP");
    }
  }
  if (tls) return ConnectTls(endpoint, timeout, host_channel_key, connection);
  TcpOptions options;
  options.connect_timeout = timeout;
  return TcpConnect(endpoint.host, endpoint.port, options, connection);
}

}  // namespace rcuda::client
