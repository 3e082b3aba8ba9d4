// rcuda-faas: the user's command for the serverless pipeline.
//
//   rcuda-faas check FILE...                       validate definitions, print them
//   rcuda-faas deploy FILE... [--orchestrator-dir DIR]
//                                                  send them to rcuda-fn (and the orchestrator's folder)
//   rcuda-faas upload FILE... (--to s3://BUCKET[/PREFIX] | --function NAME)
//                                                  put inputs into the input bucket
//   rcuda-faas progress                            the queue (length, pending, dead letters) and rcuda-fn
//   rcuda-faas results (--function NAME | s3://BUCKET[/PREFIX])
//                                                  list the output bucket
//   rcuda-faas dead-letters [--max N]              messages given up on, with the reason
//
// rcuda-fn's address: --fn (default $RCUDA_FN_URL, else http://127.0.0.1:9000);
// keys: --fn-key-file (invocations, reads), --admin-key-file (deploy). S3: the
// AWS variables and RCUDA_S3_CONFIG (docs/faas.md, "S3 configuration");
// Redis: --redis and RCUDA_REDIS_PASSWORD. docs/faas.md, "rcuda-faas".
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faas/cli/cli_support.h"
#include "faas/function/fdl_parser.h"
#include "faas/queue/redis_streams_queue.h"

namespace fs = std::filesystem;
using namespace rcuda;
using namespace rcuda::faas;
using nlohmann::json;

namespace {

struct Common {
  std::string fn_url = DefaultFnUrl();
  std::string fn_key_file;
  std::string admin_key_file;
  std::string redis = "127.0.0.1:6379";
  std::string stream = "rcuda:faas:jobs";
  std::string group = "rcuda-orchestrator";
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "rcuda-faas: %s\n", message.c_str());
  return 1;
}

int Check(const std::vector<std::string>& files) {
  int failures = 0;
  for (const auto& file : files) {
    FdlDocument document;
    Status s = LoadFdlFile(file, &document);
    if (!s.ok()) {
      Fail(s.message());
      ++failures;
      continue;
    }
    for (const auto& warning : document.warnings) std::fprintf(stderr, "%s: warning: %s\n", file.c_str(), warning.c_str());
    for (const auto& function : document.functions) std::printf("%s\n", ToJson(function).dump(2).c_str());
  }
  return failures ? 1 : 0;
}

int Deploy(const Common& c, const std::vector<std::string>& files, const std::string& orchestrator_dir) {
  std::vector<FunctionDefinition> functions;
  for (const auto& file : files) {
    FdlDocument document;
    Status s = LoadFdlFile(file, &document);
    if (!s.ok()) return Fail(s.message());
    for (const auto& warning : document.warnings) std::fprintf(stderr, "%s: warning: %s\n", file.c_str(), warning.c_str());
    for (auto& function : document.functions) functions.push_back(std::move(function));
  }
  FnClient fn(c.fn_url, c.admin_key_file.empty() ? "" : ReadKeyFile(c.admin_key_file));
  for (const auto& function : functions) {
    // The script goes inline: rcuda-fn cannot read files of this machine.
    std::string yaml = ToFdlYaml(function);
    json reply;
    int status = 0;
    Status s = fn.Request("PUT", "/rcuda-fn/v1/functions/" + function.name, yaml, &status, &reply);
    if (!s.ok()) return Fail(function.name + ": " + s.message());
    std::printf("%s: %s by rcuda-fn (%s)\n", function.name.c_str(), status == 201 ? "created" : "replaced",
                fn.url().c_str());
    if (!orchestrator_dir.empty()) {
      s = WriteFileAtomically(orchestrator_dir + "/" + function.name + ".yaml", yaml);
      if (!s.ok()) return Fail(s.message());
      std::printf("%s: written to %s/%s.yaml\n", function.name.c_str(), orchestrator_dir.c_str(), function.name.c_str());
    }
  }
  return 0;
}

// Where a function takes its inputs or leaves its outputs, from rcuda-fn.
Status FunctionPath(const Common& c, const std::string& name, const char* field, StoragePath* path) {
  FnClient fn(c.fn_url, c.fn_key_file.empty() ? "" : ReadKeyFile(c.fn_key_file));
  json reply;
  int status = 0;
  RCUDA_RETURN_IF_ERROR(fn.Request("GET", "/2015-03-31/functions/" + name, "", &status, &reply));
  FunctionDefinition definition;
  RCUDA_RETURN_IF_ERROR(FromJson(reply["Definition"], &definition));
  if (std::string(field) == "input") {
    if (definition.inputs.empty()) return Status::InvalidValue("function " + name + " has no input");
    *path = definition.inputs[0];
  } else {
    if (definition.outputs.empty()) return Status::InvalidValue("function " + name + " has no output");
    *path = definition.outputs[0].path;
  }
  return Status::Ok();
}

int Upload(const Common& c, const std::vector<std::string>& files, const std::string& to, const std::string& function) {
  StoragePath destination;
  Status s = !function.empty() ? FunctionPath(c, function, "input", &destination) : ParseS3Url(to, &destination);
  if (!s.ok()) return Fail(s.message());
  std::unique_ptr<ObjectStore> store;
  s = OpenStore(&store);
  if (!s.ok()) return Fail(s.message());
  for (const auto& file : files) {
    std::string key = destination.KeyPrefix() + fs::path(file).filename().string();
    s = store->PutFile(destination.bucket, key, file);
    if (!s.ok()) return Fail(file + ": " + s.message());
    std::printf("s3://%s/%s\n", destination.bucket.c_str(), key.c_str());
  }
  return 0;
}

int Results(const Common& c, const std::string& function, const std::string& url, int max) {
  StoragePath place;
  Status s = !function.empty() ? FunctionPath(c, function, "output", &place) : ParseS3Url(url, &place);
  if (!s.ok()) return Fail(s.message());
  std::unique_ptr<ObjectStore> store;
  s = OpenStore(&store);
  if (!s.ok()) return Fail(s.message());
  std::string token;
  int listed = 0;
  do {
    ListPage page;
    s = store->List(place.bucket, place.KeyPrefix(), token, std::min(1000, max - listed), &page);
    if (!s.ok()) return Fail(s.message());
    for (const auto& object : page.objects) {
      std::printf("%12llu  %s  s3://%s/%s\n", static_cast<unsigned long long>(object.size),
                  object.last_modified.c_str(), place.bucket.c_str(), object.key.c_str());
      ++listed;
    }
    token = page.next_continuation_token;
  } while (!token.empty() && listed < max);
  if (!token.empty()) std::printf("(more than %d; use --max)\n", max);
  return 0;
}

Status OpenQueue(const Common& c, std::unique_ptr<RedisStreamsQueue>* queue) {
  RedisQueueOptions options;
  RCUDA_RETURN_IF_ERROR(ParseRedisAddress(c.redis, &options.redis));
  options.stream = c.stream;
  options.group = c.group;
  return RedisStreamsQueue::Open(options, queue);
}

int Progress(const Common& c) {
  int failures = 0;
  std::unique_ptr<RedisStreamsQueue> queue;
  QueueStats stats;
  Status s = OpenQueue(c, &queue);
  if (s.ok()) s = queue->Stats(&stats);
  if (s.ok()) {
    std::printf("queue %s on %s: %lld waiting, %lld in flight (delivered, not acknowledged), %lld dead letters\n",
                c.stream.c_str(), c.redis.c_str(), static_cast<long long>(stats.length - stats.pending),
                static_cast<long long>(stats.pending), static_cast<long long>(stats.dead_letters));
  } else {
    Fail("queue: " + s.message());
    ++failures;
  }
  FnClient fn(c.fn_url, c.fn_key_file.empty() ? "" : ReadKeyFile(c.fn_key_file));
  json reply;
  int status = 0;
  s = fn.Request("GET", "/rcuda-fn/v1/status", "", &status, &reply);
  if (s.ok()) {
    const json& n = reply["counters"];
    std::printf("rcuda-fn %s: %d running (limit %d); %lld succeeded, %lld failed, %lld errors, %lld throttled\n",
                fn.url().c_str(), reply["inFlight"].get<int>(), reply["maxConcurrency"].get<int>(),
                n["succeeded"].get<long long>(), n["functionErrors"].get<long long>(),
                n["serviceErrors"].get<long long>(), n["throttled"].get<long long>());
  } else {
    Fail("rcuda-fn: " + s.message());
    ++failures;
  }
  return failures ? 1 : 0;
}

int DeadLetters(const Common& c, int max) {
  std::unique_ptr<RedisStreamsQueue> queue;
  std::vector<DeadLetter> letters;
  Status s = OpenQueue(c, &queue);
  if (s.ok()) s = queue->ListDeadLetters(max, &letters);
  if (!s.ok()) return Fail("queue: " + s.message());
  for (const auto& letter : letters) {
    std::string body = letter.body.size() > 200 ? letter.body.substr(0, 200) + "..." : letter.body;
    std::printf("%s (message %s, %lld deliveries): %s\n  %s\n", letter.id.c_str(), letter.original_id.c_str(),
                static_cast<long long>(letter.delivery_count), letter.reason.c_str(), body.c_str());
  }
  std::printf("%zu dead letter(s)\n", letters.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Common c;
  CLI::App app{"rcuda-faas: deploy serverless GPU functions, upload their inputs, follow them"};
  app.require_subcommand(1);
  app.add_option("--fn", c.fn_url, "rcuda-fn's URL (default $RCUDA_FN_URL or http://127.0.0.1:9000)");
  app.add_option("--fn-key-file", c.fn_key_file, "rcuda-fn's invoke key (--invoke-key-file)");
  app.add_option("--admin-key-file", c.admin_key_file, "rcuda-fn's admin key, for deploy");
  app.add_option("--redis", c.redis, "the queue's Redis host:port (password: RCUDA_REDIS_PASSWORD)");
  app.add_option("--stream", c.stream, "the queue's stream");
  app.add_option("--group", c.group, "the orchestrator's consumer group");

  std::vector<std::string> files;
  std::string orchestrator_dir, to, function, url;
  int max = 1000;
  auto* check = app.add_subcommand("check", "validate definition files and print them");
  check->add_option("files", files, "FDL files")->required()->check(CLI::ExistingFile);
  auto* deploy = app.add_subcommand("deploy", "deploy the functions of definition files to rcuda-fn");
  deploy->add_option("files", files, "FDL files")->required()->check(CLI::ExistingFile);
  deploy->add_option("--orchestrator-dir", orchestrator_dir, "also write each function there (the orchestrator's)");
  auto* upload = app.add_subcommand("upload", "upload input files to the input bucket");
  upload->add_option("files", files, "files")->required()->check(CLI::ExistingFile);
  auto* upload_to = upload->add_option("--to", to, "s3://BUCKET[/PREFIX]");
  upload->add_option("--function", function, "the function whose first input to use")->excludes(upload_to);
  auto* progress = app.add_subcommand("progress", "the queue's depth and rcuda-fn's invocations");
  auto* results = app.add_subcommand("results", "list the output bucket");
  auto* results_url = results->add_option("url", url, "s3://BUCKET[/PREFIX]");
  results->add_option("--function", function, "the function whose first output to list")->excludes(results_url);
  results->add_option("--max", max, "at most this many")->check(CLI::Range(1, 1000000));
  auto* dead = app.add_subcommand("dead-letters", "messages the orchestrator gave up on");
  dead->add_option("--max", max, "at most this many")->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);

  if (check->parsed()) return Check(files);
  if (deploy->parsed()) return Deploy(c, files, orchestrator_dir);
  if (upload->parsed()) {
    if (to.empty() && function.empty()) return Fail("upload: give --to s3://BUCKET[/PREFIX] or --function NAME");
    return Upload(c, files, to, function);
  }
  if (progress->parsed()) return Progress(c);
  if (results->parsed()) {
    if (url.empty() && function.empty()) return Fail("results: give s3://BUCKET[/PREFIX] or --function NAME");
    return Results(c, function, url, max);
  }
  if (dead->parsed()) return DeadLetters(c, max);
  return 2;
}
