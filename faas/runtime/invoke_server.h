// InvokeServer: rcuda-fn's HTTP API, in the shape of AWS Lambda's (so that
// Lambda clients and the orchestrator speak to either alike):
//
//   POST   /2015-03-31/functions/NAME/invocations   Invoke (X-Amz-Invocation-Type:
//                                                   RequestResponse, Event, DryRun)
//   GET    /2015-03-31/functions/                   ListFunctions
//   GET    /2015-03-31/functions/NAME               GetFunction (with rcuda's definition)
//   DELETE /2015-03-31/functions/NAME               DeleteFunction (deployed ones)
//   PUT    /rcuda-fn/v1/functions/NAME              deploy: the body is an FDL document
//   GET    /rcuda-fn/v1/invocations/ID              an invocation's state and result
//   GET    /rcuda-fn/v1/status                      in flight, limit, counters
//
// Errors are Lambda's: X-Amzn-ErrorType and {"Type": "User"|"Service",
// "message": ...}; a function's own failure is a 200 with
// X-Amz-Function-Error: Unhandled and {"errorMessage", "errorType"}.
// docs/faas-runtime.md, "Function runtime (rcuda-fn)", has the details.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "faas/runtime/function_registry.h"
#include "faas/runtime/invocation_runner.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace rcuda::faas {

struct ServerOptions {
  std::string listen = "127.0.0.1";
  int port = 9000;                    // 0: any free port
  int max_concurrency = 4;            // invocations at once; beyond: 429
  size_t max_body_bytes = 6 << 20;    // beyond: 413
  std::string invoke_key;             // non-empty: every request needs "Authorization: Bearer <key>"
  std::string admin_key;              // non-empty: deploy and delete need it; empty: they are refused
  size_t recent_results = 1000;       // kept for GET /rcuda-fn/v1/invocations/ID
};

class InvokeServer {
 public:
  InvokeServer(ServerOptions options, FunctionRegistry* registry, const InvocationRunner* runner);
  ~InvokeServer();

  // Binds and serves on a thread of its own; *port is the bound port.
  Status Start(int* port);
  // Stops accepting, then waits for the invocations running (the caller may
  // first end them through ExecHelper::AbortAll).
  void Stop();

  int in_flight() const { return in_flight_.load(); }

 private:
  struct Counters {
    std::atomic<int64_t> succeeded{0}, function_errors{0}, service_errors{0}, throttled{0}, rejected{0};
  };

  void Routes();
  bool Authorized(const httplib::Request& request, httplib::Response& response, bool admin) const;
  void Invoke(const httplib::Request& request, httplib::Response& response);
  void ListFunctions(const httplib::Request& request, httplib::Response& response);
  void GetFunction(const httplib::Request& request, httplib::Response& response);
  void DeleteFunction(const httplib::Request& request, httplib::Response& response);
  void Deploy(const httplib::Request& request, httplib::Response& response);
  void GetInvocation(const httplib::Request& request, httplib::Response& response);
  void GetStatus(const httplib::Request& request, httplib::Response& response);

  bool Admit();
  void Release();
  // Runs one invocation and records its result; returns the result JSON.
  nlohmann::json RunAndRecord(std::shared_ptr<const FunctionDefinition> function,
                              const InvocationRequest& request, const std::string& request_id);
  void Remember(const std::string& request_id, const nlohmann::json& state);

  ServerOptions options_;
  FunctionRegistry* registry_;
  const InvocationRunner* runner_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  std::atomic<int> in_flight_{0};
  Counters counters_;

  std::mutex mu_;
  std::condition_variable idle_;                 // in_flight_ reached 0
  std::map<std::string, std::string> results_;   // request id -> JSON; guarded by mu_
  std::deque<std::string> result_order_;         // guarded by mu_
  struct EventThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<EventThread> event_threads_;       // guarded by mu_; finished ones joined at the next launch
};

// A random request id in UUID form (Lambda's shape).
std::string NewRequestId();

}  // namespace rcuda::faas
