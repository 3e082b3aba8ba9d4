// ssgm: request, release and renew GPU leases from ssgmd, and show its state.
// Prints what the CUDA client needs (RCUDA_DEVICE_*, RCUDA_TOKEN); exits with
// SSGM_ERROR. See docs/scheduler.md.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/env.h"
#include "protocol/lease_token.h"
#include "scheduler/lease_secret.h"
#include "scheduler/line_client.h"
#include "scheduler/random_id.h"
#include "scheduler/ssgm_client.h"
#include "scheduler/ssgm_output.h"
#include "scheduler/units.h"
#include "scheduler/wire.h"

namespace {

using namespace rcuda::sched;

// A lease secret from a file: its content less trailing whitespace.
rcuda::Status ReadSecretFile(const std::string& path, std::string* secret) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return rcuda::Status::InvalidValue("cannot read the secret file '" + path + "'");
  std::ostringstream content;
  content << file.rdbuf();
  std::string text = content.str().substr(0, 4096);
  size_t end = text.find_last_not_of(" \t\r\n");
  text.resize(end == std::string::npos ? 0 : end + 1);
  if (!IsValidLeaseSecret(text)) {
    return rcuda::Status::InvalidValue("the secret in '" + path + "' is not 16 to 128 characters of [A-Za-z0-9._~+/=-]");
  }
  *secret = std::move(text);
  return rcuda::Status::Ok();
}

int Emit(const SsgmOutput& output, OutputFormat format) {
  if (output.error != kSsgmOk && format != OutputFormat::kJson) {
    std::fprintf(stderr, "ssgm: %s\n", Printable(output.message).c_str());
  }
  std::string text = Render(output, format);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return output.error;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ssgm: GPU leases from the rcuda scheduler (ssgmd)"};
  std::string server, format_text = "line", retry_for = "30s";
  app.add_option("--server", server, "ssgmd address, host[:port] (default: $SSGM_SERVER, else 127.0.0.1:8309)");
  app.add_option("--format", format_text, "line (rCUDA's one line), env (export lines for eval) or json")
      ->capture_default_str();
  app.add_option("--retry-for", retry_for, "keep retrying an unreachable ssgmd this long")->capture_default_str();
  std::string key_file;
  app.add_option("--auth-key-file", key_file,
                 "ssgmd's client key (its --client-key-file), to sign requests (default: $SSGM_KEY_FILE)");
  std::string operator_key_file, secret_file;
  app.add_option("--operator-key-file", operator_key_file,
                 "ssgmd's operator key: sign with it instead (any lease may then be renewed or released, and status "
                 "shows lease ids; default: $SSGM_OPERATOR_KEY_FILE)");
  app.require_subcommand(1);

  auto* request = app.add_subcommand("request", "request GPUs, each with a memory partition");
  int gpus = 1;
  std::string mem, wait, ttl, key;
  request->add_option("--gpus", gpus, "number of GPUs")->capture_default_str();
  request->add_option("--mem", mem, "GPU memory per GPU, e.g. 1G, 512M")->required();
  CLI::Option* wait_option =
      request->add_option("--wait", wait, "wait until served, at most TIMEOUT if given (e.g. 30s)")->expected(0, 1);
  request->add_option("--ttl", ttl, "lease time to live (seconds, or 500ms, 5m...); default: ssgmd's");
  request->add_option("--key", key, "idempotency key: a repeat gets the same lease (default: a random one, so "
                                    "ssgm's own retries are safe)");
  request->add_option("--secret-file", secret_file,
                      "the lease's secret (default: a random one); a repeat with --key must give the same");
  request->fallthrough();

  auto* release = app.add_subcommand("release", "release a lease (releasing twice is fine)");
  std::string lease;
  release->add_option("lease", lease, "the lease (SSGM_JOB_ID)")->required();
  release->add_option("--secret-file", secret_file, "the lease's secret (default: $SSGM_LEASE_SECRET)");
  release->fallthrough();

  auto* renew = app.add_subcommand("renew", "extend a lease's time to live; prints a fresh token");
  renew->add_option("lease", lease, "the lease (SSGM_JOB_ID)")->required();
  renew->add_option("--ttl", ttl, "new time to live (default: the lease's own)");
  renew->add_option("--secret-file", secret_file, "the lease's secret (default: $SSGM_LEASE_SECRET)");
  renew->fallthrough();

  auto* status = app.add_subcommand("status", "show nodes, GPUs, leases and the queue");
  bool no_leases = false;
  status->add_flag("--no-leases", no_leases, "omit the list of leases");
  status->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kSsgmBadRequest;
  }

  OutputFormat format;
  rcuda::Status s = ParseOutputFormat(format_text, &format);
  if (!s.ok()) return Emit(ErrorOutput(kSsgmBadRequest, s.message()), OutputFormat::kLine);
  SsgmClientOptions client;
  if (server.empty()) server = rcuda::GetEnvOr("SSGM_SERVER", "127.0.0.1");
  s = ParseHostPort(server, kDefaultSsgmdPort, &client.host, &client.port);
  if (s.ok()) s = ParseDurationMs(retry_for, &client.retry_for_ms);
  if (key_file.empty()) key_file = rcuda::GetEnvOr("SSGM_KEY_FILE", "");
  if (operator_key_file.empty()) operator_key_file = rcuda::GetEnvOr("SSGM_OPERATOR_KEY_FILE", "");
  // An operator signs with the operator key alone.
  if (!operator_key_file.empty()) key_file = operator_key_file;
  if (s.ok() && !key_file.empty()) s = rcuda::ReadLeaseKeyFile(key_file, &client.client_key);
  std::string secret;
  if (s.ok() && !secret_file.empty()) s = ReadSecretFile(secret_file, &secret);
  if (s.ok() && secret.empty() && (*release || *renew)) {
    secret = rcuda::GetEnvOr("SSGM_LEASE_SECRET", "");
    if (!secret.empty() && !IsValidLeaseSecret(secret)) {
      s = rcuda::Status::InvalidValue("SSGM_LEASE_SECRET is not 16 to 128 characters of [A-Za-z0-9._~+/=-]");
    }
  }
  if (s.ok() && (*release || *renew) && !IsValidLeaseId(lease)) s = rcuda::Status::InvalidValue("bad lease id");
  if (!s.ok()) return Emit(ErrorOutput(kSsgmBadRequest, s.message()), format);

  Json reply;
  if (*request) {
    uint64_t mem_bytes = 0;
    int64_t wait_ms = 0, ttl_ms = 0;
    s = ParseBytes(mem, &mem_bytes);
    if (s.ok() && wait_option->count() > 0) {
      wait_ms = -1;  // as long as ssgmd allows
      if (!wait.empty()) s = ParseDurationMs(wait, &wait_ms);
    }
    if (s.ok() && !ttl.empty()) s = ParseDurationMs(ttl, &ttl_ms);
    if (s.ok() && mem_bytes == 0) s = rcuda::Status::InvalidValue("--mem must be more than 0");
    if (s.ok() && gpus < 1) s = rcuda::Status::InvalidValue("--gpus must be at least 1");
    if (s.ok() && !key.empty() && !IsValidKey(key)) {
      s = rcuda::Status::InvalidValue("--key: 1 to 200 printable characters without spaces");
    }
    if (!s.ok()) return Emit(ErrorOutput(kSsgmBadRequest, s.message()), format);
    if (key.empty()) key = "auto-" + RandomHex(12);
    // The holder's secret travels with every attempt, so a retry (same key)
    // gets the lease back; ssgmd keeps only its hash.
    if (secret.empty()) secret = NewLeaseSecret();
    auto make = [&](int64_t elapsed_ms) {
      Json message = Json::Object();
      message.Set("op", "request");
      message.Set("gpus", int64_t(gpus));
      message.Set("mem", mem_bytes);
      // A retry waits only for what is left of the caller's wait.
      message.Set("wait_ms", wait_ms <= 0 ? wait_ms : std::max<int64_t>(1, wait_ms - elapsed_ms));
      if (ttl_ms > 0) message.Set("ttl_ms", ttl_ms);
      message.Set("key", key);
      message.Set("secret", secret);
      return message;
    };
    s = CallSsgmd(client, make, wait_ms, &reply);
    if (!s.ok()) return Emit(ErrorOutput(kSsgmUnreachable, s.message()), format);
    return Emit(LeaseOutput(reply, secret), format);
  }
  if (*release || *renew) {
    int64_t ttl_ms = 0;
    if (!ttl.empty()) s = ParseDurationMs(ttl, &ttl_ms);
    if (!s.ok()) return Emit(ErrorOutput(kSsgmBadRequest, s.message()), format);
    auto make = [&](int64_t) {
      Json message = Json::Object();
      message.Set("op", *release ? "release" : "renew");
      message.Set("lease", lease);
      if (!secret.empty()) message.Set("secret", secret);
      if (ttl_ms > 0) message.Set("ttl_ms", ttl_ms);
      return message;
    };
    s = CallSsgmd(client, make, 0, &reply);
    if (!s.ok()) return Emit(ErrorOutput(kSsgmUnreachable, s.message()), format);
    return Emit(*release ? ReleaseOutput(reply) : LeaseOutput(reply, secret), format);
  }
  // status
  auto make = [&](int64_t) {
    Json message = Json::Object();
    message.Set("op", "status");
    message.Set("leases", !no_leases);
    return message;
  };
  s = CallSsgmd(client, make, 0, &reply);
  if (!s.ok()) return Emit(ErrorOutput(kSsgmUnreachable, s.message()), format);
  if (format == OutputFormat::kJson) {
    std::cout << reply.Dump() << "\n";
  } else {
    std::cout << RenderStatusTable(reply);
  }
  return 0;
}
