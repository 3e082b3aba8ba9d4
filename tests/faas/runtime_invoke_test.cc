// rcuda-fn's Invoke API end to end in the test process, over the in-memory
// object store (TEST EQUIPMENT): status codes, Lambda's error shapes, DryRun,
// Event, 429 at the concurrency limit, functions that succeed, crash, time
// out or leave processes behind, outputs with SCAR's filters, hostile keys,
// names and bodies.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <thread>

#include "runtime_fixture.h"

using namespace rcuda::faas;
using namespace rcuda::faas::testing;
using nlohmann::json;

namespace {

const char* kFunctions = R"(
functions:
  aws:
  - lambda:
      name: copy
      environment: {Variables: {GREETING: hello}}
      script: |
        set -e
        name=$(basename "$INPUT_FILE_PATH")
        tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.out"
        env > "$TMP_OUTPUT_DIR/env.txt"
        echo scratch > "$TMP_OUTPUT_DIR/scratch.tmp"
        mkdir -p "$TMP_OUTPUT_DIR/sub"
        echo nested > "$TMP_OUTPUT_DIR/sub/nested.out"
        echo "to stdout"
        echo "to stderr" >&2
      input: [{storage_provider: s3, path: inbox/jobs}]
      output:
      - {storage_provider: s3, path: outbox/results, suffix: [.out, .txt]}
      - {storage_provider: minio, path: outbox2, prefix: [env]}
  - lambda:
      name: crash
      script: |
        echo "about to fail" >&2
        echo partial > "$TMP_OUTPUT_DIR/partial.out"
        exit 3
      input: [{storage_provider: s3, path: inbox}]
      output: [{storage_provider: s3, path: outbox/crash}]
  - lambda:
      name: sleeper
      timeout: 1
      script: |
        sleep 1000 & echo child=$!
        setsid sleep 1000 & echo escapee=$!
        echo group=$$
        wait
  - lambda:
      name: leaver
      script: |
        sleep 1000 & echo child=$!
        echo done
  - lambda:
      name: hog
      memory: 128
      script: dd if=/dev/zero of=/dev/null bs=200M iflag=count_bytes count=1
  - lambda:
      name: roomy
      memory: 1024
      script: dd if=/dev/zero of=/dev/null bs=200M iflag=count_bytes count=1
  - lambda:
      name: links
      script: |
        ln -s /etc/shadow "$TMP_OUTPUT_DIR/shadow.out"
        ln -s / "$TMP_OUTPUT_DIR/root"
        mkfifo "$TMP_OUTPUT_DIR/pipe.out"
        echo real > "$TMP_OUTPUT_DIR/real.out"
      output: [{storage_provider: s3, path: outbox/links}]
  - lambda:
      name: badname
      script: touch "$TMP_OUTPUT_DIR/$(printf 'a\nb').out"
      output: [{storage_provider: s3, path: outbox/bad}]
  - lambda:
      name: gpu
      gpu: {count: 2, memory: 1GiB}
      script: env | grep -E '^(RCUDA|SSGM)_' | sort > "$TMP_OUTPUT_DIR/lease.txt"
      output: [{storage_provider: s3, path: outbox/lease}]
)";

FixtureOptions Options() {
  FixtureOptions options;
  options.functions_yaml = kFunctions;
  return options;
}

std::map<std::string, std::string> EnvFile(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

}  // namespace

TEST_CASE("a function that succeeds: input in, filtered outputs out, SCAR's variables", "[invoke]") {
  RuntimeFixture rt(Options());
  REQUIRE(rt.store().Put("inbox", "jobs/my file.txt", "some text").ok());
  auto result = rt.Invoke("copy", S3Event("inbox", "jobs/my+file.txt"));
  json body = BodyJson(result);
  INFO(result->body);
  REQUIRE(result->status == 200);
  CHECK_FALSE(result->has_header("X-Amz-Function-Error"));
  std::string request_id = result->get_header_value("X-Amzn-RequestId");
  CHECK(request_id.size() == 36);
  CHECK(body["status"] == "Succeeded");
  CHECK(body["requestId"] == request_id);
  CHECK(body["exitCode"] == 0);
  CHECK(body["input"]["key"] == "jobs/my file.txt");
  CHECK(body["input"]["bytes"] == 9);
  CHECK(body["logTail"].get<std::string>().find("to stderr") != std::string::npos);

  // Output 1: suffix filter (.out, .txt), under the folder, nested names kept.
  auto out = rt.store().Objects("outbox");
  CHECK(out.at("results/my file.txt.out") == "SOME TEXT");
  CHECK(out.at("results/sub/nested.out") == "nested\n");
  CHECK(out.count("results/env.txt") == 1);
  CHECK(out.count("results/scratch.tmp") == 0);
  // Output 2: prefix filter, no folder: <function>/output/<request id>/<name>.
  auto out2 = rt.store().Objects("outbox2");
  REQUIRE(out2.size() == 1);
  REQUIRE(out2.count("copy/output/" + request_id + "/env.txt") == 1);
  CHECK(body["outputs"].size() == 4);

  auto env = EnvFile(out.at("results/env.txt"));
  CHECK(env["GREETING"] == "hello");
  CHECK(env["AWS_LAMBDA_REQUEST_ID"] == request_id);
  CHECK(env["AWS_LAMBDA_FUNCTION_NAME"] == "copy");
  CHECK(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512");
  CHECK(env["INPUT_BUCKET"] == "inbox");
  CHECK(env["INPUT_OBJECT_KEY"] == "jobs/my file.txt");
  CHECK(env["INPUT_FILE_PATH"] == env["TMP_INPUT_DIR"] + "/my file.txt");
  CHECK(env["RCUDA_RUN"] == std::string(RCUDA_BIN_DIR) + "/rcuda-run");
  CHECK(env["PATH"].rfind(std::string(RCUDA_BIN_DIR) + ":", 0) == 0);
  CHECK(env.count("RCUDA_TOKEN") == 0);  // no lease came with this invocation
  // The work directory is gone.
  CHECK(std::filesystem::is_empty(rt.work_root()));
}

TEST_CASE("X-Amz-Log-Type: Tail returns the log tail in X-Amz-Log-Result", "[invoke]") {
  RuntimeFixture rt(Options());
  REQUIRE(rt.store().Put("inbox", "jobs/a", "x").ok());
  auto result = rt.Invoke("copy", S3Event("inbox", "jobs/a"), "RequestResponse", {{"X-Amz-Log-Type", "Tail"}});
  REQUIRE(result);
  REQUIRE(result->status == 200);
  std::string encoded = result->get_header_value("X-Amz-Log-Result");
  // "to stdout\nto stderr\n" in base64 ends the log.
  CHECK(encoded == "dG8gc3Rkb3V0CnRvIHN0ZGVycgo=");
}

TEST_CASE("a crashing function: Lambda's function error, no outputs", "[invoke]") {
  RuntimeFixture rt(Options());
  REQUIRE(rt.store().Put("inbox", "x.bin", "x").ok());
  auto result = rt.Invoke("crash", S3Event("inbox", "x.bin"));
  json body = BodyJson(result);
  CHECK(result->status == 200);
  CHECK(result->get_header_value("X-Amz-Function-Error") == "Unhandled");
  CHECK(body["errorType"] == "Runtime.ExitError");
  CHECK(body["errorMessage"].get<std::string>().find("exit status 3") != std::string::npos);
  CHECK(body["exitCode"] == 3);
  CHECK(body["status"] == "Failed");
  CHECK(body["logTail"].get<std::string>().find("about to fail") != std::string::npos);
  CHECK(rt.store().Objects("outbox").empty());
}

TEST_CASE("a function that times out is killed with everything it started", "[invoke]") {
  RuntimeFixture rt(Options());
  auto start = std::chrono::steady_clock::now();
  auto result = rt.Invoke("sleeper", "{}");
  json body = BodyJson(result);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  CHECK(result->status == 200);
  CHECK(result->get_header_value("X-Amz-Function-Error") == "Unhandled");
  CHECK(body["errorType"] == "Sandbox.Timedout");
  CHECK(body["errorMessage"].get<std::string>().find("Task timed out after 1.00 seconds") != std::string::npos);
  std::string log = body["logTail"];
  auto child = LoggedNumber(log, "child"), escapee = LoggedNumber(log, "escapee"), group = LoggedNumber(log, "group");
  REQUIRE(child);
  REQUIRE(escapee);
  REQUIRE(group);
  CHECK(body["processGroup"] == *group);
  CHECK_FALSE(GroupExists(pid_t(*group)));
  CHECK_FALSE(ProcessExists(pid_t(*child)));
  CHECK_FALSE(ProcessExists(pid_t(*escapee)));
}

TEST_CASE("processes a successful function leaves running are killed", "[invoke]") {
  RuntimeFixture rt(Options());
  auto result = rt.Invoke("leaver", "");
  json body = BodyJson(result);
  CHECK(result->status == 200);
  CHECK(body["status"] == "Succeeded");
  CHECK(body["leftoverProcessesKilled"].get<int>() >= 1);
  auto child = LoggedNumber(body["logTail"], "child");
  REQUIRE(child);
  CHECK_FALSE(ProcessExists(pid_t(*child)));
}

TEST_CASE("a function beyond its memory fails; the same with more memory succeeds", "[invoke]") {
  RuntimeFixture rt(Options());
  json hog = BodyJson(rt.Invoke("hog", ""));
  CHECK(hog["status"] == "Failed");
  CHECK(hog["errorType"] == "Runtime.ExitError");
  CHECK(hog["logTail"].get<std::string>().find("memory exhausted") != std::string::npos);
  json roomy = BodyJson(rt.Invoke("roomy", ""));
  CHECK(roomy["status"] == "Succeeded");
}

TEST_CASE("links and special files in the output are not uploaded; bad names fail", "[invoke]") {
  RuntimeFixture rt(Options());
  json body = BodyJson(rt.Invoke("links", ""));
  INFO(body.dump());
  CHECK(body["status"] == "Succeeded");
  auto out = rt.store().Objects("outbox");
  REQUIRE(out.size() == 1);
  CHECK(out.count("links/real.out") == 1);
  CHECK(body["skippedOutputs"].size() == 3);

  json bad = BodyJson(rt.Invoke("badname", ""));
  CHECK(bad["status"] == "Failed");
  CHECK(bad["errorType"] == "Function.OutputError");
}

TEST_CASE("the lease travels in the body's rcuda object to the environment", "[invoke]") {
  RuntimeFixture rt(Options());
  json lease = {{"SSGM_JOB_ID", "5c4d333257e50c41"},
                {"RCUDA_DEVICE_COUNT", 2},
                {"RCUDA_DEVICE_0", "10.0.0.7@8308:1"},
                {"RCUDA_DEVICE_1", "[::1]@9000:0"},
                {"RCUDA_TOKEN", "rct1.cGF5bG9hZA.bWFj"}};
  json body = BodyJson(rt.Invoke("gpu", json{{"rcuda", lease}}.dump()));
  INFO(body.dump());
  REQUIRE(body["status"] == "Succeeded");
  auto env = EnvFile(rt.store().Objects("outbox").at("lease/lease.txt"));
  CHECK(env.size() == 6);  // and RCUDA_RUN
  CHECK(env["SSGM_JOB_ID"] == "5c4d333257e50c41");
  CHECK(env["RCUDA_DEVICE_COUNT"] == "2");
  CHECK(env["RCUDA_DEVICE_0"] == "10.0.0.7@8308:1");
  CHECK(env["RCUDA_DEVICE_1"] == "[::1]@9000:0");
  CHECK(env["RCUDA_TOKEN"] == "rct1.cGF5bG9hZA.bWFj");

  // Wrong leases are the caller's error (400), before anything runs.
  auto refused = [&](const json& bad_lease) {
    auto result = rt.Invoke("gpu", bad_lease.is_null() ? "{}" : json{{"rcuda", bad_lease}}.dump());
    REQUIRE(result);
    INFO(result->body);
    CHECK(result->status == 400);
    CHECK(result->get_header_value("X-Amzn-ErrorType") == "InvalidRequestContentException");
  };
  refused(nullptr);  // the function needs GPUs
  json one = lease;
  one["RCUDA_DEVICE_COUNT"] = "1";
  one.erase("RCUDA_DEVICE_1");
  refused(one);  // fewer devices than the function needs
  json extra = lease;
  extra["LD_PRELOAD"] = "/tmp/evil.so";
  refused(extra);
  json missing = lease;
  missing.erase("RCUDA_DEVICE_1");
  refused(missing);
  json bad_endpoint = lease;
  bad_endpoint["RCUDA_DEVICE_0"] = "host@notaport";
  refused(bad_endpoint);
  json bad_token = lease;
  bad_token["RCUDA_TOKEN"] = "rct1 with spaces\nX=1";
  refused(bad_token);
  json injected = lease;
  injected["RCUDA_DEVICE_0"] = "10.0.0.7\nLD_PRELOAD=/tmp/x.so";
  refused(injected);
}

TEST_CASE("hostile keys and events are refused with 400", "[invoke]") {
  RuntimeFixture rt(Options());
  auto status_of = [&](const std::string& function, const std::string& body) {
    auto result = rt.Invoke(function, body);
    REQUIRE(result);
    return result->status;
  };
  CHECK(status_of("copy", S3Event("inbox", "jobs/..%2F..%2Fetc%2Fpasswd")) == 400);
  CHECK(status_of("copy", S3Event("inbox", "jobs/../../etc/passwd")) == 400);
  CHECK(status_of("copy", S3Event("inbox", "%2Fetc%2Fpasswd")) == 400);
  CHECK(status_of("copy", S3Event("inbox", "jobs/a%00b")) == 400);
  CHECK(status_of("copy", S3Event("inbox", "jobs/bad%zz")) == 400);
  CHECK(status_of("copy", S3Event("inbox", "jobs/")) == 400);          // a folder
  CHECK(status_of("copy", S3Event("inbox", "elsewhere/a.txt")) == 400);  // not under the input
  CHECK(status_of("copy", S3Event("other-bucket", "jobs/a.txt")) == 400);
  CHECK(status_of("copy", S3Event("Bad_Bucket", "jobs/a.txt")) == 400);
  CHECK(status_of("copy", "not json") == 400);
  CHECK(status_of("copy", "[1,2]") == 400);
  CHECK(status_of("copy", R"({"Records": "x"})") == 400);
  CHECK(status_of("copy", R"({"Records": [{}, {}]})") == 400);
  json removed = json::parse(S3Event("inbox", "jobs/a.txt"));
  removed["Records"][0]["eventName"] = "ObjectRemoved:Delete";
  CHECK(status_of("copy", removed.dump()) == 400);
  CHECK(status_of("copy", std::string(10000, '[') + std::string(10000, ']')) == 400);
  CHECK(std::filesystem::is_empty(rt.work_root()));
}

TEST_CASE("names, types, qualifiers and unknown functions", "[invoke]") {
  RuntimeFixture rt(Options());
  auto result = rt.Invoke("nope", "{}");
  REQUIRE(result);
  CHECK(result->status == 404);
  CHECK(result->get_header_value("X-Amzn-ErrorType") == "ResourceNotFoundException");
  json body = BodyJson(result);
  CHECK(body["Type"] == "User");
  CHECK(body["message"].get<std::string>().find("Function not found") != std::string::npos);

  result = rt.Invoke("..", "{}");
  REQUIRE(result);
  CHECK(result->status >= 400);
  CHECK(result->status < 500);
  result = rt.Invoke("bad%20name", "{}");
  REQUIRE(result);
  CHECK(result->status == 400);
  result = rt.Invoke("leaver", "{}", "Sometimes");
  REQUIRE(result);
  CHECK(result->status == 400);
  result = rt.Client().Post("/2015-03-31/functions/leaver/invocations?Qualifier=7", "{}", "application/json");
  REQUIRE(result);
  CHECK(result->status == 404);
  result = rt.Client().Get("/no/such/route");
  REQUIRE(result);
  CHECK(result->status == 404);
}

TEST_CASE("DryRun checks the request and runs nothing", "[invoke]") {
  RuntimeFixture rt(Options());
  auto result = rt.Invoke("crash", S3Event("inbox", "x.bin"), "DryRun");
  REQUIRE(result);
  CHECK(result->status == 204);
  result = rt.Invoke("crash", S3Event("inbox", "../x.bin"), "DryRun");
  REQUIRE(result);
  CHECK(result->status == 400);
  json status = BodyJson(rt.Client().Get("/rcuda-fn/v1/status"));
  CHECK(status["counters"]["functionErrors"] == 0);
  CHECK(status["counters"]["succeeded"] == 0);
}

TEST_CASE("Event: 202 at once, the result later by request id", "[invoke]") {
  RuntimeFixture rt(Options());
  REQUIRE(rt.store().Put("inbox", "jobs/e.txt", "event").ok());
  auto result = rt.Invoke("copy", S3Event("inbox", "jobs/e.txt"), "Event");
  REQUIRE(result);
  REQUIRE(result->status == 202);
  std::string id = result->get_header_value("X-Amzn-RequestId");
  REQUIRE(id.size() == 36);
  json state;
  REQUIRE(WaitFor(
      [&] {
        auto r = rt.Client().Get(("/rcuda-fn/v1/invocations/" + id).c_str());
        if (!r || r->status != 200) return false;
        state = json::parse(r->body);
        return state["status"] != "Running" && state["status"] != "Queued";
      },
      std::chrono::seconds(60)));
  CHECK(state["status"] == "Succeeded");
  CHECK(rt.store().Objects("outbox").at("results/e.txt.out") == "EVENT");
  auto missing = rt.Client().Get("/rcuda-fn/v1/invocations/00000000-0000-4000-8000-000000000000");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("429 TooManyRequestsException when the concurrency limit is reached", "[invoke]") {
  FixtureOptions options;
  TempDir gate_dir;
  std::string gate = gate_dir.path() + "/gate";
  REQUIRE(mkfifo(gate.c_str(), 0666) == 0);
  chmod(gate.c_str(), 0666);
  options.functions_yaml = R"(
functions:
  aws:
  - lambda:
      name: blocker
      environment: {Variables: {GATE: )" + gate + R"(}}
      script: read -r line < "$GATE"; echo "released by $line"
)";
  options.max_concurrency = 1;
  RuntimeFixture rt(options);
  std::optional<httplib::Result> first;
  std::thread holder([&] { first.emplace(rt.Invoke("blocker", "{}")); });
  // Wait until the first invocation holds the only slot.
  REQUIRE(WaitFor([&] { return rt.server().in_flight() == 1; }, std::chrono::seconds(20)));
  auto second = rt.Invoke("blocker", "{}");
  REQUIRE(second);
  CHECK(second->status == 429);
  CHECK(second->get_header_value("X-Amzn-ErrorType") == "TooManyRequestsException");
  json body = BodyJson(second);
  CHECK(body["Reason"] == "ConcurrentInvocationLimitExceeded");
  auto event = rt.Invoke("blocker", "{}", "Event");
  REQUIRE(event);
  CHECK(event->status == 429);
  // DryRun takes no slot.
  auto dry = rt.Invoke("blocker", "{}", "DryRun");
  REQUIRE(dry);
  CHECK(dry->status == 204);
  // Open the gate: the first one finishes, and a slot is free again.
  { std::ofstream(gate) << "test\n"; }
  holder.join();
  REQUIRE(first);
  REQUIRE(*first);
  CHECK((*first)->status == 200);
  CHECK(BodyJson(*first)["logTail"].get<std::string>().find("released by test") != std::string::npos);
  CHECK(rt.server().in_flight() == 0);
  json status = BodyJson(rt.Client().Get("/rcuda-fn/v1/status"));
  CHECK(status["counters"]["throttled"] == 2);
}

TEST_CASE("bodies over the limit get 413", "[invoke]") {
  FixtureOptions options = Options();
  options.max_body_bytes = 4096;
  RuntimeFixture rt(options);
  auto result = rt.Invoke("leaver", "{\"pad\": \"" + std::string(8192, 'x') + "\"}");
  REQUIRE(result);
  CHECK(result->status == 413);
  CHECK(result->get_header_value("X-Amzn-ErrorType") == "RequestTooLargeException");
  CHECK(rt.server().in_flight() == 0);

  // The same in chunks: httplib would read it whole; rcuda-fn refuses
  // chunked bodies before reading them.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(rt.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  // Headers and one chunk only: the refusal must come without the rest (a
  // server reading the body first would wait here for more).
  timeval ten_seconds = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  std::string request =
      "POST /2015-03-31/functions/leaver/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "X-Amz-Invocation-Type: DryRun\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + std::string(1000, 'x') + "\r\n";
  CHECK(send(fd, request.data(), request.size(), MSG_NOSIGNAL) > 0);
  std::string reply;
  char buffer[4096];
  ssize_t n;
  // One read: the status line arrives although the body never will.
  n = recv(fd, buffer, sizeof buffer, 0);
  if (n > 0) reply.assign(buffer, size_t(n));
  close(fd);
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 411", 0) == 0);
}

TEST_CASE("the object store failing is a service error (500); a missing or large input is the function's", "[invoke]") {
  FixtureOptions options = Options();
  options.max_input_bytes = 16;
  RuntimeFixture rt(options);
  auto result = rt.Invoke("copy", S3Event("inbox", "jobs/absent.txt"));
  json body = BodyJson(result);
  CHECK(result->status == 200);
  CHECK(body["errorType"] == "Function.InputNotFound");

  REQUIRE(rt.store().Put("inbox", "jobs/big.txt", std::string(17, 'x')).ok());
  body = BodyJson(rt.Invoke("copy", S3Event("inbox", "jobs/big.txt")));
  CHECK(body["errorType"] == "Function.InputTooLarge");

  rt.store().SetFailing(true);
  result = rt.Invoke("copy", S3Event("inbox", "jobs/big.txt"));
  body = BodyJson(result);
  CHECK(result->status == 500);
  CHECK(result->get_header_value("X-Amzn-ErrorType") == "ServiceException");
  CHECK(body["Type"] == "Service");
  CHECK(std::filesystem::is_empty(rt.work_root()));
}

TEST_CASE("with an invoke key every request needs it", "[invoke]") {
  FixtureOptions options = Options();
  options.invoke_key = "invoke-secret-0123456789";
  RuntimeFixture rt(options);
  auto result = rt.Invoke("leaver", "{}", "DryRun");
  REQUIRE(result);
  CHECK(result->status == 403);
  result = rt.Invoke("leaver", "{}", "DryRun", {{"Authorization", "Bearer wrong"}});
  REQUIRE(result);
  CHECK(result->status == 403);
  result = rt.Invoke("leaver", "{}", "DryRun", {{"Authorization", "Bearer invoke-secret-0123456789"}});
  REQUIRE(result);
  CHECK(result->status == 204);
  auto list = rt.Client().Get("/2015-03-31/functions/");
  REQUIRE(list);
  CHECK(list->status == 403);
}
