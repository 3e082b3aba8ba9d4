// rcuda-faas-events: receives S3/MinIO event notifications over HTTP (MinIO's
// webhook target, or anything that POSTs the S3 notification JSON) and puts
// each record on the queue. See docs/faas.md.
#include <httplib.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <thread>

#include "common/log.h"
#include "faas/queue/events_bridge.h"
#include "faas/queue/redis_streams_queue.h"

namespace {

bool ReadToken(const std::string& path, std::string* token) {
  std::ifstream file(path);
  if (!file) return false;
  std::getline(file, *token);
  while (!token->empty() && (token->back() == '\r' || token->back() == ' ')) token->pop_back();
  return !token->empty();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rcuda-faas-events: S3/MinIO event notifications (HTTP POST) to the rcuda faas queue"};
  std::string listen = "127.0.0.1", redis = "127.0.0.1:6379", port_file, token_file, log_level = "info";
  int port = 8310;
  rcuda::faas::RedisQueueOptions options;
  bool all_events = false;
  size_t max_bytes = 1 << 20;
  app.add_option("--listen", listen, "address to listen on");
  app.add_option("--port", port, "port (0: any free one, see --port-file)");
  app.add_option("--port-file", port_file, "write the port listened on to this file");
  app.add_option("--redis", redis, "Redis host:port (password: RCUDA_REDIS_PASSWORD)");
  app.add_option("--stream", options.stream, "the queue's stream");
  app.add_option("--group", options.group, "the queue's consumer group (created when missing)");
  app.add_option("--auth-token-file", token_file, "require 'Authorization: Bearer <token>' (MinIO's auth_token)");
  app.add_flag("--all-events", all_events, "queue every record, not only ObjectCreated:*");
  app.add_option("--max-bytes", max_bytes, "largest notification accepted");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI11_PARSE(app, argc, argv);
  rcuda::InitLogging("rcuda-faas-events", log_level);
  signal(SIGPIPE, SIG_IGN);  // a closed Redis connection fails the call, not the process

  std::string token;
  if (!token_file.empty() && !ReadToken(token_file, &token)) {
    spdlog::error("cannot read a token from {}", token_file);
    return 2;
  }
  rcuda::Status s = rcuda::faas::ParseRedisAddress(redis, &options.redis);
  std::unique_ptr<rcuda::faas::RedisStreamsQueue> queue;
  if (s.ok()) s = rcuda::faas::RedisStreamsQueue::Open(options, &queue);
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }

  // SIGTERM and SIGINT stop the server from a thread of their own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  httplib::Server server;
  server.set_payload_max_length(max_bytes);
  rcuda::faas::S3EventLimits limits;
  limits.max_bytes = max_bytes;
  auto handle = [&](const httplib::Request& request, httplib::Response& response) {
    if (!token.empty() && request.get_header_value("Authorization") != "Bearer " + token) {
      response.status = 401;
      response.set_content("unauthorized\n", "text/plain");
      return;
    }
    rcuda::faas::BridgeResult result = rcuda::faas::BridgeNotification(request.body, all_events, queue.get(), limits);
    if (result.http_status == 200) {
      spdlog::debug("{}", result.message);
    } else {
      spdlog::warn("notification refused ({}): {}", result.http_status, result.message);
    }
    response.status = result.http_status;
    response.set_content(result.message + "\n", "text/plain");
  };
  server.Post(R"(/.*)", handle);
  server.Get("/health", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });

  int bound = port == 0 ? server.bind_to_any_port(listen.c_str()) : (server.bind_to_port(listen.c_str(), port) ? port : -1);
  if (bound <= 0) {
    spdlog::error("cannot listen on {}:{}", listen, port);
    return 1;
  }
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << bound << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  spdlog::info("listening on {}:{}, queue {} on {}", listen, bound, options.stream, redis);
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
  });
  server.listen_after_bind();
  stopper.detach();  // waits for a signal that may never come once listen returned on its own
  return 0;
}
