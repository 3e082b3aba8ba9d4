// What ssgm prints. Three renderings of the same variables:
//   line (default, rCUDA's):  SSGM_ERROR=0;SSGM_JOB_ID=<lease>;RCUDA_DEVICE_COUNT=1;RCUDA_DEVICE_0=h@p:g;
//                             RCUDA_TOKEN=t;SSGM_LEASE_SECRET=s               (one line)
//   env (for eval):           export SSGM_ERROR='0'; ... one per line
//   json (for programs):      {"error":0,"lease":...,"devices":[...],"token":...,"secret":...}
// Shells evaluate the first two (eval "$(ssgm request ...)"), and what they
// print comes from the network, so nothing reaches them unchecked: every
// value must be of its kind (lease id, host, token, secret; LeaseOutput
// refuses a reply holding anything else), and Render quotes every value of
// the env format, and any value of the line format that is not made of
// characters a shell takes literally.
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

// From ssgmd's reply to a request or renew (error or lease). `secret` is the
// lease's secret as ssgm knows it (it chose it, or was given it); empty: the
// one ssgmd made and sent, if any.
SsgmOutput LeaseOutput(const Json& reply, const std::string& secret = "");
// From ssgmd's reply to a release.
SsgmOutput ReleaseOutput(const Json& reply);
SsgmOutput ErrorOutput(int error, const std::string& message);

// The text for stdout (ends with a newline).
std::string Render(const SsgmOutput& output, OutputFormat format);

// `value` in single quotes, its own single quotes written '\''.
std::string ShellQuote(std::string_view value);
// Text from ssgmd made safe for a terminal: control characters become '?'.
std::string Printable(std::string_view text);

// `ssgm status` for people: nodes, GPUs, leases, queue.
std::string RenderStatusTable(const Json& status);

}  // namespace rcuda::sched
