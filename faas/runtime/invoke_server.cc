#include "faas/runtime/invoke_server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <cstdio>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "faas/function/names.h"

namespace rcuda::faas {
namespace {

using nlohmann::json;

constexpr const char* kFunctionPath = R"(/2015-03-31/functions/([^/]+))";

std::string Dump(const json& j) {
  // The log tail is whatever the function printed: replace what is not UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SendJson(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(Dump(body), "application/json");
}

// Lambda's error shape: the type in X-Amzn-ErrorType and the body.
void SendError(httplib::Response& response, int status, const std::string& type, const std::string& message) {
  response.set_header("X-Amzn-ErrorType", type);
  SendJson(response, status, json{{"Type", status >= 500 ? "Service" : "User"}, {"message", message}});
}

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n > 0 ? n : 0));
  return out;
}

json FunctionConfiguration(const FunctionDefinition& d) {
  return json{{"FunctionName", d.name},
              {"MemorySize", d.memory_mb},
              {"Timeout", d.timeout_s},
              {"EphemeralStorage", {{"Size", d.ephemeral_storage_mb}}},
              {"Version", "$LATEST"},
              {"Gpu", {{"Count", d.gpu.count}, {"MemoryBytes", d.gpu.memory_bytes}}}};
}

const char* OutcomeStatus(InvocationOutcome::Kind kind) {
  switch (kind) {
    case InvocationOutcome::Kind::kSucceeded: return "Succeeded";
    case InvocationOutcome::Kind::kFunctionError: return "Failed";
    case InvocationOutcome::Kind::kServiceError: return "Error";
  }
  return "Error";
}

json OutcomeJson(const FunctionDefinition& function, const std::string& request_id, const InvocationOutcome& o) {
  json outputs = json::array();
  for (const auto& output : o.outputs) {
    outputs.push_back({{"bucket", output.bucket}, {"key", output.key}, {"bytes", output.bytes}});
  }
  json result = {{"requestId", request_id},
                 {"functionName", function.name},
                 {"status", OutcomeStatus(o.kind)},
                 {"durationMs", o.duration_ms},
                 {"totalDurationMs", o.total_ms},
                 {"sandboxed", o.sandboxed},
                 {"outputs", std::move(outputs)},
                 {"skippedOutputs", o.skipped_outputs},
                 {"logTail", o.log_tail}};
  result["input"] = o.input ? json{{"bucket", o.input->bucket}, {"key", o.input->key}, {"bytes", o.input_bytes}}
                            : json(nullptr);
  if (o.ran) {
    result["exitCode"] = o.exec.exit_code;
    result["signal"] = o.exec.signal;
    result["timedOut"] = o.exec.timed_out;
    result["processGroup"] = o.exec.pid;
    result["leftoverProcessesKilled"] = o.exec.leftovers;
    result["maxMemoryUsedMB"] = (o.exec.max_rss_kb + 1023) / 1024;
  }
  if (o.kind != InvocationOutcome::Kind::kSucceeded) {
    result["errorType"] = o.kind == InvocationOutcome::Kind::kServiceError ? "ServiceException" : o.error_type;
    result["errorMessage"] = o.error_message;
  }
  return result;
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string NewRequestId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += size_t(n);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // variant 1
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

InvokeServer::InvokeServer(ServerOptions options, FunctionRegistry* registry, const InvocationRunner* runner)
    : options_(std::move(options)), registry_(registry), runner_(runner), http_(std::make_unique<httplib::Server>()) {}

InvokeServer::~InvokeServer() { Stop(); }

Status InvokeServer::Start(int* port) {
  // Invocations that wait for their function hold a thread each; a few more
  // answer everything else (429s, listings) meanwhile.
  size_t threads = size_t(options_.max_concurrency) + 4;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(30, 0);
  Routes();
  int bound = options_.port == 0 ? http_->bind_to_any_port(options_.listen)
                                 : (http_->bind_to_port(options_.listen, options_.port) ? options_.port : -1);
  if (bound < 0) {
    return Status::Unavailable("cannot listen on " + options_.listen + ":" + std::to_string(options_.port));
  }
  *port = bound;
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  return Status::Ok();
}

void InvokeServer::Stop() {
  if (listener_.joinable()) {
    http_->stop();
    listener_.join();
  }
  std::vector<EventThread> threads;
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return in_flight_.load() == 0; });
    threads.swap(event_threads_);
  }
  for (auto& event : threads) event.thread.join();
}

void InvokeServer::Routes() {
  using httplib::Request;
  using httplib::Response;
  http_->Post(std::string(kFunctionPath) + "/invocations", [this](const Request& q, Response& r) { Invoke(q, r); });
  http_->Get(R"(/2015-03-31/functions/?)", [this](const Request& q, Response& r) { ListFunctions(q, r); });
  http_->Get(kFunctionPath, [this](const Request& q, Response& r) { GetFunction(q, r); });
  http_->Delete(kFunctionPath, [this](const Request& q, Response& r) { DeleteFunction(q, r); });
  http_->Put(R"(/rcuda-fn/v1/functions/([^/]+))", [this](const Request& q, Response& r) { Deploy(q, r); });
  http_->Get(R"(/rcuda-fn/v1/invocations/([^/]+))", [this](const Request& q, Response& r) { GetInvocation(q, r); });
  http_->Get("/rcuda-fn/v1/status", [this](const Request& q, Response& r) { GetStatus(q, r); });
  // httplib (0.11) caps a body by its Content-Length but reads a chunked one
  // whole: refuse those before their body is read.
  http_->set_pre_routing_handler([](const Request& q, Response& r) {
    if (!q.has_header("Transfer-Encoding")) return httplib::Server::HandlerResponse::Unhandled;
    r.set_header("Connection", "close");
    SendError(r, 411, "InvalidRequestContentException", "a body must come with Content-Length (no chunks)");
    return httplib::Server::HandlerResponse::Handled;
  });
  // httplib's own refusals (no route, body too large) in Lambda's shape.
  http_->set_error_handler([](const Request&, Response& r) {
    if (!r.body.empty()) return;
    if (r.status == 413) SendError(r, 413, "RequestTooLargeException", "the request body is too large");
    else if (r.status == 404) SendError(r, 404, "ResourceNotFoundException", "no such resource");
    else if (r.status == 400) SendError(r, 400, "InvalidRequestContentException", "malformed request");
  });
}

bool InvokeServer::Authorized(const httplib::Request& request, httplib::Response& response, bool admin) const {
  const std::string& key = admin ? options_.admin_key : options_.invoke_key;
  if (admin && key.empty()) {
    SendError(response, 403, "AccessDeniedException",
              "deploying over HTTP is off: start rcuda-fn with --admin-key-file (and --state-dir)");
    return false;
  }
  if (key.empty()) return true;
  std::string given = request.get_header_value("Authorization");
  bool ok = given.rfind("Bearer ", 0) == 0 && ConstantTimeEquals(given.substr(7), key);
  // The admin key may do whatever the invoke key may.
  if (!ok && !admin && !options_.admin_key.empty()) {
    ok = given.rfind("Bearer ", 0) == 0 && ConstantTimeEquals(given.substr(7), options_.admin_key);
  }
  if (!ok) SendError(response, 403, "AccessDeniedException", "missing or wrong Authorization: Bearer key");
  return ok;
}

bool InvokeServer::Admit() {
  int current = in_flight_.load();
  while (current < options_.max_concurrency) {
    if (in_flight_.compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

void InvokeServer::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void InvokeServer::Remember(const std::string& request_id, const json& state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = results_.insert_or_assign(request_id, Dump(state));
  if (inserted) {
    result_order_.push_back(request_id);
    while (result_order_.size() > options_.recent_results) {
      results_.erase(result_order_.front());
      result_order_.pop_front();
    }
  }
}

json InvokeServer::RunAndRecord(std::shared_ptr<const FunctionDefinition> function, const InvocationRequest& request,
                                const std::string& request_id) {
  Remember(request_id, json{{"requestId", request_id}, {"functionName", function->name}, {"status", "Running"}});
  InvocationOutcome outcome = runner_->Run(*function, request, request_id);
  json result = OutcomeJson(*function, request_id, outcome);
  switch (outcome.kind) {
    case InvocationOutcome::Kind::kSucceeded: ++counters_.succeeded; break;
    case InvocationOutcome::Kind::kFunctionError: ++counters_.function_errors; break;
    case InvocationOutcome::Kind::kServiceError: ++counters_.service_errors; break;
  }
  if (outcome.kind == InvocationOutcome::Kind::kServiceError) {
    spdlog::error("invocation {} of {}: {}", request_id, function->name, outcome.error_message);
  }
  spdlog::info("invocation {} of {}: {} in {} ms{}", request_id, function->name, OutcomeStatus(outcome.kind),
               outcome.total_ms, outcome.error_type.empty() ? "" : " (" + outcome.error_type + ")");
  Remember(request_id, result);
  return result;
}

void InvokeServer::Invoke(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, false)) return;
  std::string name = request.matches[1];
  std::string type = request.has_header("X-Amz-Invocation-Type") ? request.get_header_value("X-Amz-Invocation-Type")
                                                                  : "RequestResponse";
  auto reject = [&](int status, const std::string& error, const std::string& message) {
    ++counters_.rejected;
    SendError(response, status, error, message);
  };
  if (type != "RequestResponse" && type != "Event" && type != "DryRun") {
    return reject(400, "InvalidParameterValueException", "X-Amz-Invocation-Type: RequestResponse, Event or DryRun");
  }
  if (!IsValidFunctionName(name)) return reject(400, "InvalidParameterValueException", "invalid function name");
  std::string qualifier = request.get_param_value("Qualifier");
  std::shared_ptr<const FunctionDefinition> function = registry_->Find(name);
  if (!function || (!qualifier.empty() && qualifier != "$LATEST")) {
    return reject(404, "ResourceNotFoundException", "Function not found: " + name);
  }
  InvocationRequest parsed;
  Status s = ParseInvocationBody(request.body, &parsed);
  if (s.ok()) s = CheckRequestForFunction(parsed, *function);
  if (!s.ok()) return reject(400, "InvalidRequestContentException", s.message());
  if (type == "DryRun") {
    response.status = 204;
    return;
  }
  if (!Admit()) {
    ++counters_.throttled;
    response.set_header("Retry-After", "1");
    SendJson(response, 429, json{{"Type", "User"}, {"message", "Rate Exceeded."},
                                 {"Reason", "ConcurrentInvocationLimitExceeded"}});
    response.set_header("X-Amzn-ErrorType", "TooManyRequestsException");
    return;
  }
  std::string request_id = NewRequestId();
  response.set_header("X-Amzn-RequestId", request_id);
  spdlog::info("invocation {} of {} ({}){}", request_id, name, type,
               parsed.object ? " for s3://" + parsed.object->bucket + "/" + parsed.object->key : "");
  if (type == "Event") {
    Remember(request_id, json{{"requestId", request_id}, {"functionName", name}, {"status", "Queued"}});
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = event_threads_.begin(); it != event_threads_.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = event_threads_.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    event_threads_.push_back({std::thread([this, function, parsed = std::move(parsed), request_id, done] {
                                RunAndRecord(function, parsed, request_id);
                                done->store(true);
                                Release();
                              }),
                              done});
    response.status = 202;
    return;
  }
  json result = RunAndRecord(function, parsed, request_id);
  Release();
  if (result["status"] == "Error") {
    return SendError(response, 500, "ServiceException", result["errorMessage"].get<std::string>());
  }
  response.set_header("X-Amz-Executed-Version", "$LATEST");
  if (request.get_header_value("X-Amz-Log-Type") == "Tail") {
    response.set_header("X-Amz-Log-Result", Base64(result["logTail"].get<std::string>()));
  }
  if (result["status"] == "Failed") response.set_header("X-Amz-Function-Error", "Unhandled");
  SendJson(response, 200, result);
}

void InvokeServer::ListFunctions(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, false)) return;
  json functions = json::array();
  for (const auto& entry : registry_->List()) functions.push_back(FunctionConfiguration(*entry.definition));
  SendJson(response, 200, json{{"Functions", std::move(functions)}});
}

void InvokeServer::GetFunction(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, false)) return;
  std::string name = request.matches[1];
  std::shared_ptr<const FunctionDefinition> function = IsValidFunctionName(name) ? registry_->Find(name) : nullptr;
  if (!function) return SendError(response, 404, "ResourceNotFoundException", "Function not found: " + name);
  SendJson(response, 200, json{{"Configuration", FunctionConfiguration(*function)}, {"Definition", ToJson(*function)}});
}

void InvokeServer::DeleteFunction(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, true)) return;
  std::string name = request.matches[1];
  bool existed = false;
  Status s = IsValidFunctionName(name) ? registry_->Remove(name, &existed) : Status::Ok();
  if (!s.ok()) {
    bool conflict = s.code() == FunctionRegistry::kConflict;
    return SendError(response, conflict ? 409 : 500, conflict ? "ResourceConflictException" : "ServiceException",
                     s.message());
  }
  if (!existed) return SendError(response, 404, "ResourceNotFoundException", "Function not found: " + name);
  spdlog::info("function {} deleted", name);
  response.status = 204;
}

void InvokeServer::Deploy(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, true)) return;
  std::string name = request.matches[1];
  FunctionRegistry::DeployResult result;
  std::vector<std::string> warnings;
  Status s = registry_->Deploy(name, request.body, &result, &warnings);
  if (!s.ok()) {
    if (s.code() == FunctionRegistry::kConflict) return SendError(response, 409, "ResourceConflictException", s.message());
    if (s.code() == FunctionRegistry::kNotDeployable) return SendError(response, 403, "AccessDeniedException", s.message());
    if (s.ToCudaError() == kCudaErrorInvalidValue) return SendError(response, 400, "InvalidParameterValueException", s.message());
    return SendError(response, 500, "ServiceException", s.message());
  }
  spdlog::info("function {} {}", name, result == FunctionRegistry::DeployResult::kCreated ? "deployed" : "replaced");
  std::shared_ptr<const FunctionDefinition> function = registry_->Find(name);
  json body = {{"Configuration", FunctionConfiguration(*function)}, {"Warnings", warnings}};
  SendJson(response, result == FunctionRegistry::DeployResult::kCreated ? 201 : 200, body);
}

void InvokeServer::GetInvocation(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, false)) return;
  std::string id = request.matches[1];
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = results_.find(id);
    if (it != results_.end()) body = it->second;
  }
  if (body.empty()) return SendError(response, 404, "ResourceNotFoundException", "no such invocation (or forgotten)");
  response.set_content(body, "application/json");
}

void InvokeServer::GetStatus(const httplib::Request& request, httplib::Response& response) {
  if (!Authorized(request, response, false)) return;
  SendJson(response, 200,
           json{{"inFlight", in_flight_.load()},
                {"maxConcurrency", options_.max_concurrency},
                {"functions", registry_->List().size()},
                {"counters",
                 {{"succeeded", counters_.succeeded.load()},
                  {"functionErrors", counters_.function_errors.load()},
                  {"serviceErrors", counters_.service_errors.load()},
                  {"throttled", counters_.throttled.load()},
                  {"rejected", counters_.rejected.load()}}}});
}

}  // namespace rcuda::faas
