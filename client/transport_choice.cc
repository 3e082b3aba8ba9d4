#include "client/transport_choice.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "client/log.h"
#include "common/env.h"
#include "protocol/transport_registry.h"

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

}  // namespace

Status ConnectTransport(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                        std::unique_ptr<Connection>* connection) {
  TransportConnectOptions options;
  options.timeout = timeout;
  // A scheme names the one transport this endpoint uses.
  if (!endpoint.transport.empty()) {
    const TransportEntry* entry = FindTransport(endpoint.transport);
    if (!entry || !entry->connect) {
      return Status::InvalidValue("endpoint " + endpoint.ToString() + ": unknown transport '" + endpoint.transport +
                                  "' (" + TransportNames() + ")");
    }
    options.required = true;
    TransportConnectReport report;
    return ConnectWith(*entry, endpoint, options, connection, &report);
  }
  std::vector<const TransportEntry*> candidates;
  if (const TransportEntry* chosen = ChosenByEnvironment()) {
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
    s = ConnectWith(*candidates[i], endpoint, options, connection, &report);
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

}  // namespace rcuda::client
