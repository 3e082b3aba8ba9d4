#include "faas/orchestrator/invocation.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

namespace rcuda::faas {

using nlohmann::json;

namespace {

constexpr size_t kMaxReasonBytes = 600;

std::string Clip(std::string text, size_t bytes) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (text.size() > bytes) text = text.substr(0, bytes) + "...";
  return text;
}

std::string StringMember(const json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The last non-empty line of a function's log: where a script says what it
// did not like.
std::string LastLogLine(const std::string& log) {
  size_t end = log.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = log.find_last_of('\n', end);
  return log.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

Status BuildInvokeBody(const std::string& message_body, const LeaseVariables& lease, std::string* body) {
  json event = json::parse(message_body, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object()) return Status::InvalidValue("the message body is not a JSON object");
  if (!lease.empty()) {
    json rcuda = json::object();
    for (const auto& [name, value] : lease) rcuda[name] = value;
    event["rcuda"] = std::move(rcuda);
  } else {
    event.erase("rcuda");
  }
  *body = event.dump(-1, ' ', false, json::error_handler_t::replace);
  return Status::Ok();
}

std::string InvokeUrl(const std::string& endpoint, const std::string& function_name) {
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/2015-03-31/functions/" + function_name + "/invocations";
}

InvokeVerdict JudgeInvokeResponse(const HttpResponse& response) {
  InvokeVerdict verdict;
  verdict.request_id = Clip(response.Header("x-amzn-requestid"), 80);
  if (response.status == 0 && response.not_connected) {
    verdict.kind = InvokeVerdict::Kind::kNotReached;
    verdict.reason = "the function runtime could not be reached: " + response.error;
    return verdict;
  }
  if (response.status == 0) {
    verdict.kind = InvokeVerdict::Kind::kUnavailable;
    verdict.reason = response.timed_out ? "no answer from the function runtime in time (" + response.error + ")"
                                        : "the invocation broke off: " + response.error;
    return verdict;
  }
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::string function_error = response.Header("x-amz-function-error");
  if (response.status == 200 && function_error.empty()) {
    verdict.kind = InvokeVerdict::Kind::kSucceeded;
    return verdict;
  }
  if (response.status == 200) {
    // Lambda: {"errorType", "errorMessage"}; rcuda-fn adds "logTail".
    verdict.kind = InvokeVerdict::Kind::kFunctionFailed;
    std::string type = StringMember(body, "errorType");
    std::string message = StringMember(body, "errorMessage");
    std::string reason = "function error (" + function_error + ")";
    if (!type.empty()) reason += ": " + type;
    if (!message.empty()) reason += ": " + message;
    std::string last = LastLogLine(StringMember(body, "logTail"));
    if (!last.empty()) reason += "; log: " + Clip(last, 300);
    verdict.reason = Clip(reason, kMaxReasonBytes);
    return verdict;
  }
  // Lambda's errors: X-Amzn-ErrorType and {"Type", "message"} (or "Message").
  std::string type = response.Header("x-amzn-errortype");
  std::string message = StringMember(body, "message");
  if (message.empty()) message = StringMember(body, "Message");
  if (message.empty() && body.is_discarded()) message = response.body;
  std::string reason = "HTTP " + std::to_string(response.status);
  if (!type.empty()) reason += " " + type;
  if (!message.empty()) reason += ": " + message;
  verdict.reason = Clip(reason, kMaxReasonBytes);
  if (response.status == 429) {
    verdict.kind = InvokeVerdict::Kind::kThrottled;
    std::string retry = response.Header("retry-after");
    char* end = nullptr;
    long seconds = retry.empty() ? 0 : std::strtol(retry.c_str(), &end, 10);
    if (end && *end == '\0' && seconds > 0 && seconds <= 60) verdict.retry_after_ms = int64_t(seconds) * 1000;
  } else if (response.status >= 400 && response.status < 500) {
    verdict.kind = InvokeVerdict::Kind::kRefused;
  } else {
    verdict.kind = InvokeVerdict::Kind::kUnavailable;
  }
  return verdict;
}

}  // namespace rcuda::faas
