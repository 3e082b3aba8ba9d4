// What ssgm prints. Three renderings of the same variables:
//   line (default, rCUDA's):  SSGM_ERROR=0;SSGM_JOB_ID=<lease>;RCUDA_DEVICE_COUNT=1;RCUDA_DEVICE_0=h@p:g;RCUDA_TOKEN=t
//   env (for eval):           export SSGM_ERROR='0'; ... one per line
//   json (for programs):      {"error":0,"lease":...,"devices":[...],"token":...}
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "scheduler/json.h"

namespace rcuda::sched {

enum class OutputFormat { kLine, kEnv, kJson };
Status ParseOutputFormat(std::string_view text, OutputFormat* format);

struct SsgmOutput {
  int error = 0;
  std::string message;  // for errors; line and env print it on stderr
  std::vector<std::pair<std::string, std::string>> variables;  // in order, SSGM_ERROR first
  Json json = Json::Object();
};

// From ssgmd's reply to a request or renew (error or lease).
SsgmOutput LeaseOutput(const Json& reply);
// From ssgmd's reply to a release.
SsgmOutput ReleaseOutput(const Json& reply);
SsgmOutput ErrorOutput(int error, const std::string& message);

// The text for stdout (ends with a newline).
std::string Render(const SsgmOutput& output, OutputFormat format);

// `ssgm status` for people: nodes, GPUs, leases, queue.
std::string RenderStatusTable(const Json& status);

}  // namespace rcuda::sched
