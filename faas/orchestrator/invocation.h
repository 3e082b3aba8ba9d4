// One function invocation in AWS Lambda's Invoke shape, as rcuda-fn serves
// it (faas/runtime/invoke_server.h) and Lambda itself does: what the
// orchestrator sends, and what it makes of the answer.
//
//   POST {endpoint}/2015-03-31/functions/{name}/invocations
//   X-Amz-Invocation-Type: RequestResponse
//   {"Records":[<the message's S3 record>], "rcuda":{"SSGM_JOB_ID":..,"RCUDA_DEVICE_COUNT":..,
//    "RCUDA_DEVICE_0":..,"RCUDA_TOKEN":..}}
//
// The lease's secret never goes to the function: whoever runs the function
// may use the GPUs until the lease ends, not extend or end the lease.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "faas/orchestrator/http_invoker.h"

namespace rcuda::faas {

using LeaseVariables = std::vector<std::pair<std::string, std::string>>;

// The Invoke body: `message_body` (an S3 event notification, a JSON object)
// with an "rcuda" member holding `lease` (none when the function needs no
// GPU). Fails when the body is not a JSON object.
Status BuildInvokeBody(const std::string& message_body, const LeaseVariables& lease, std::string* body);

// "{endpoint}/2015-03-31/functions/{name}/invocations" (name: a valid
// function name, which needs no escaping).
std::string InvokeUrl(const std::string& endpoint, const std::string& function_name);

struct InvokeVerdict {
  enum class Kind {
    kSucceeded,
    kFunctionFailed,  // the function ran and failed (X-Amz-Function-Error), or timed out
    kThrottled,       // 429: the runtime is at its concurrency limit; try again shortly
    kNotReached,      // no connection to the runtime: nothing ran; try again shortly
    kRefused,         // another 4xx: the runtime would not run this invocation
    kUnavailable,     // 5xx, no answer, or no answer in time
  };
  Kind kind = Kind::kUnavailable;
  std::string reason;           // for everything but kSucceeded: one line saying what happened
  std::string request_id;       // X-Amzn-RequestId, when given
  int64_t retry_after_ms = 0;   // kThrottled: Retry-After, if given
};

InvokeVerdict JudgeInvokeResponse(const HttpResponse& response);

}  // namespace rcuda::faas
