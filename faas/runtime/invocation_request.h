// The body of an Invoke call to rcuda-fn: the event (an S3 event record set,
// as S3 and MinIO send it), and, from rcuda-orchestrator, the lease that the
// invocation's CUDA program is to use, under "rcuda":
//
//   {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
//                 "s3": {"bucket": {"name": "in"}, "object": {"key": "jobs/a.fasta", "size": 1234}}}],
//    "rcuda": {"SSGM_JOB_ID": "5c4d333257e50c41", "RCUDA_DEVICE_COUNT": "1",
//              "RCUDA_DEVICE_0": "10.0.0.7@8308:1", "RCUDA_TOKEN": "rct1...."}}
//
// "rcuda" holds ssgm's variables by their names, exactly those: the
// function's script gets them in its environment, so that `rcuda-run` sends
// its CUDA calls to the leased GPUs with the lease's token. rcuda-fn never
// logs them (the token is a credential, the lease id is what releases it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "faas/function/function_definition.h"

namespace rcuda::faas {

struct EventObject {
  std::string bucket;
  std::string key;       // decoded
  std::string event_name;
  uint64_t size = 0;     // as the event says (0 when absent); the store decides
};

struct LeaseContext {
  int device_count = 0;  // 0: no lease came with the invocation
  // In order: SSGM_JOB_ID (if given), RCUDA_DEVICE_COUNT, RCUDA_DEVICE_0..n-1,
  // RCUDA_TOKEN (if given).
  std::vector<std::pair<std::string, std::string>> variables;
};

struct InvocationRequest {
  std::optional<EventObject> object;  // none: an event without records
  LeaseContext lease;
};

// At most this many bytes of body (Lambda's synchronous payload limit).
inline constexpr size_t kDefaultMaxBodyBytes = 6 * 1024 * 1024;

// Parses and checks the body. Every error is the caller's (a 400 reply).
Status ParseInvocationBody(std::string_view body, InvocationRequest* request);

// Checks the request against the function it invokes: the object lies under
// one of the function's inputs, and the lease has as many devices as the
// function needs GPUs (a function that needs GPUs is refused without one).
Status CheckRequestForFunction(const InvocationRequest& request, const FunctionDefinition& function);

}  // namespace rcuda::faas
