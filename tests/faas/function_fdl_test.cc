// Function definitions: SCAR's FDL as rcuda reads it (valid, invalid and
// hostile documents), the JSON form, and the name rules.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "faas/function/fdl_parser.h"
#include "faas/function/function_definition.h"
#include "faas/function/names.h"

using namespace rcuda::faas;
using rcuda::Status;

namespace {

const char* kFullDefinition = R"(
functions:
  aws:
  - lambda:
      name: blast-gpu
      memory: 2048
      timeout: 600
      region: us-east-1
      log_level: DEBUG
      environment:
        Variables:
          DB: /opt/blast/db
          THREADS: 4
          EMPTY:
      script: |
        #!/bin/bash
        echo "$INPUT_FILE_PATH"
      input:
      - storage_provider: s3
        path: rcuda-in/queries/
      output:
      - storage_provider: minio.local
        path: rcuda-out/results
        suffix: [.out, .log]
        prefix: result-
      gpu:
        count: 2
        memory: 1.5GiB
      supervisor:
        version: latest
    iam:
      role: arn:aws:iam::1:role/x
storage_providers:
  s3:
    my_s3: {access_key: a, secret_key: b}
)";

std::string WithLambda(const std::string& lambda_body) {
  return "functions:\n  aws:\n  - lambda:\n" + lambda_body;
}

// A minimal valid lambda body with one field replaced or added.
std::string Lambda(const std::string& extra) {
  return WithLambda("      name: f\n      script: echo hi\n" + extra);
}

Status Parse(const std::string& yaml, FdlDocument* document) { return ParseFdl(yaml, FdlParseOptions{}, document); }

std::string ErrorOf(const std::string& yaml) {
  FdlDocument document;
  Status s = Parse(yaml, &document);
  return s.ok() ? std::string("(ok)") : s.message();
}

bool HasWarning(const FdlDocument& document, const std::string& part) {
  for (const auto& warning : document.warnings) {
    if (warning.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a full SCAR definition with rcuda's gpu section", "[fdl]") {
  FdlDocument document;
  Status s = Parse(kFullDefinition, &document);
  INFO(s.message());
  REQUIRE(s.ok());
  REQUIRE(document.functions.size() == 1);
  const FunctionDefinition& f = document.functions[0];
  CHECK(f.name == "blast-gpu");
  CHECK(f.memory_mb == 2048);
  CHECK(f.timeout_s == 600);
  CHECK(f.log_level == "DEBUG");
  CHECK(f.environment.at("DB") == "/opt/blast/db");
  CHECK(f.environment.at("THREADS") == "4");
  CHECK(f.environment.at("EMPTY").empty());
  CHECK(f.script == "#!/bin/bash\necho \"$INPUT_FILE_PATH\"\n");
  REQUIRE(f.inputs.size() == 1);
  CHECK(f.inputs[0].bucket == "rcuda-in");
  CHECK(f.inputs[0].folder == "queries");  // the trailing '/' dropped
  REQUIRE(f.outputs.size() == 1);
  CHECK(f.outputs[0].path.storage_provider == "minio.local");
  CHECK(f.outputs[0].path.bucket == "rcuda-out");
  CHECK(f.outputs[0].path.folder == "results");
  CHECK(f.outputs[0].suffixes == std::vector<std::string>{".out", ".log"});
  CHECK(f.outputs[0].prefixes == std::vector<std::string>{"result-"});
  CHECK(f.gpu.count == 2);
  CHECK(f.gpu.memory_bytes == 1536ull << 20);
  CHECK(HasWarning(document, "lambda.region: ignored"));
  CHECK(HasWarning(document, "lambda.supervisor: ignored"));
  CHECK(HasWarning(document, "aws[0].iam: ignored"));
  CHECK(HasWarning(document, "storage_providers: ignored"));
}

TEST_CASE("defaults are SCAR's", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(Lambda(""), &document).ok());
  const FunctionDefinition& f = document.functions[0];
  CHECK(f.memory_mb == 512);
  CHECK(f.timeout_s == 300);
  CHECK(f.ephemeral_storage_mb == 512);
  CHECK(f.gpu.count == 0);
  CHECK(f.inputs.empty());
  CHECK(document.warnings.empty());
}

TEST_CASE("unknown keys are warnings naming their place", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(Lambda("      colour: blue\n      gpu: {count: 1, memory: 1G, kind: h100}\n"), &document).ok());
  CHECK(HasWarning(document, "functions.aws[0].lambda.colour: unknown key"));
  CHECK(HasWarning(document, "functions.aws[0].lambda.gpu.kind: unknown key"));
}

TEST_CASE("init_script is read relative to the definition file", "[fdl]") {
  std::string dir = std::filesystem::temp_directory_path() / ("fdl_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir + "/scripts");
  std::ofstream(dir + "/scripts/run.sh") << "echo from file\n";
  std::ofstream(dir + "/fn.yaml") << WithLambda("      name: f\n      init_script: scripts/run.sh\n");
  FdlDocument document;
  Status s = LoadFdlFile(dir + "/fn.yaml", &document);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(document.functions[0].script == "echo from file\n");

  // Over the network (no base directory) a file name is refused.
  CHECK(ErrorOf(WithLambda("      name: f\n      init_script: scripts/run.sh\n")).find("not accepted here") !=
        std::string::npos);
  std::ofstream(dir + "/missing.yaml") << WithLambda("      name: f\n      init_script: nope.sh\n");
  CHECK_FALSE(LoadFdlFile(dir + "/missing.yaml", &document).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("limits: memory, timeout, storage, gpus", "[fdl]") {
  CHECK(ErrorOf(Lambda("      memory: 64\n")).find("lambda.memory: 64 MB is outside 128 to 10240") != std::string::npos);
  CHECK(ErrorOf(Lambda("      memory: 10241\n")).find("memory") != std::string::npos);
  CHECK(ErrorOf(Lambda("      timeout: 901\n")).find("15 minutes") != std::string::npos);
  CHECK(ErrorOf(Lambda("      timeout: 0\n")).find("timeout") != std::string::npos);
  CHECK(ErrorOf(Lambda("      timeout: 1e3\n")).find("not an integer") != std::string::npos);
  CHECK(ErrorOf(Lambda("      timeout: [1]\n")).find("must be an integer") != std::string::npos);
  CHECK(ErrorOf(Lambda("      ephemeral_storage: 20000\n")).find("ephemeral_storage") != std::string::npos);
  CHECK(ErrorOf(Lambda("      gpu: {count: 17, memory: 1G}\n")).find("gpu.count: 17") != std::string::npos);
  CHECK(ErrorOf(Lambda("      gpu: {count: 1}\n")).find("gpu.memory: required") != std::string::npos);
  CHECK(ErrorOf(Lambda("      gpu: {count: 1, memory: 1024}\n")).find("needs a unit") != std::string::npos);
  CHECK(ErrorOf(Lambda("      gpu: {count: 1, memory: 1 parsec}\n")).find("unknown unit") != std::string::npos);
  CHECK(ErrorOf(Lambda("      gpu: {count: 0, memory: 1G}\n")).find("gpu.count is 0") != std::string::npos);
  CHECK(ErrorOf(Lambda("      memory: 128\n      timeout: 900\n")) == "(ok)");
}

TEST_CASE("names safe for paths and URLs", "[fdl]") {
  for (const char* bad : {"../etc", "a/b", "-f", "", "name with space", "f%2e", "ñame"}) {
    INFO(bad);
    CHECK(ErrorOf(WithLambda(std::string("      name: \"") + bad + "\"\n      script: x\n")).find("name") !=
          std::string::npos);
  }
  CHECK_FALSE(IsValidFunctionName(std::string(65, 'a')));
  CHECK(IsValidFunctionName(std::string(64, 'a')));
  CHECK(IsValidFunctionName("blast_gpu-2"));
}

TEST_CASE("storage paths: buckets and folders that stay in place", "[fdl]") {
  auto input = [](const std::string& provider, const std::string& path) {
    return ErrorOf(Lambda("      input: [{storage_provider: " + provider + ", path: '" + path + "'}]\n"));
  };
  CHECK(input("s3", "inb/a/b") == "(ok)");
  CHECK(input("s3.acct_1", "inb") == "(ok)");
  CHECK(input("onedata", "inb").find("not supported") != std::string::npos);
  CHECK(input("s3.", "inb").find("identifier") != std::string::npos);
  CHECK(input("s3", "In_Bucket").find("bucket") != std::string::npos);
  CHECK(input("s3", "in").find("bucket") != std::string::npos);  // S3: 3 characters at least
  CHECK(input("s3", "inb/../x").find("'..'") != std::string::npos);
  CHECK(input("s3", "inb/a//b").find("empty segment") != std::string::npos);
  CHECK(input("s3", "inb/a\\b").find("backslash") != std::string::npos);
  CHECK(input("s3", "192.168.0.1").find("bucket") != std::string::npos);
  CHECK(ErrorOf(Lambda("      input: [{path: inb}]\n")).find("storage_provider: required") != std::string::npos);
}

TEST_CASE("environment: names, reserved names, size", "[fdl]") {
  auto env = [](const std::string& variables) {
    return ErrorOf(Lambda("      environment: {Variables: {" + variables + "}}\n"));
  };
  CHECK(env("GOOD_1: x") == "(ok)");
  CHECK(env("1BAD: x").find("not a valid variable name") != std::string::npos);
  CHECK(env("RCUDA_TOKEN: x").find("set by rcuda-fn") != std::string::npos);
  CHECK(env("RCUDA_DEVICE_0: x").find("set by rcuda-fn") != std::string::npos);
  CHECK(env("LD_PRELOAD: x").find("set by rcuda-fn") != std::string::npos);
  CHECK(env("INPUT_FILE_PATH: x").find("set by rcuda-fn") != std::string::npos);
  CHECK(env("RCUDA_LOG_LEVEL: debug") == "(ok)");
  CHECK(env("BIG: " + std::string(5000, 'x')).find("4096") != std::string::npos);
  CHECK(env("NUL: \"a\\0b\"").find("NUL") != std::string::npos);
  CHECK(env("NESTED: {a: b}").find("must be a string") != std::string::npos);
}

TEST_CASE("what rcuda-fn cannot honour is an error", "[fdl]") {
  CHECK(ErrorOf(Lambda("      execution_mode: batch\n")).find("only lambda") != std::string::npos);
  CHECK(ErrorOf(Lambda("      container: {image: ubuntu}\n")).find("runs no containers") != std::string::npos);
  CHECK(ErrorOf(WithLambda("      name: f\n")).find("init_script or script is required") != std::string::npos);
  CHECK(ErrorOf(Lambda("      init_script: a.sh\n")).find("not both") != std::string::npos);
  CHECK(ErrorOf(WithLambda("      script: x\n")).find("name: required") != std::string::npos);
  CHECK(ErrorOf(WithLambda("      name: f\n      script: \"\"\n")).find("no script") != std::string::npos);
}

TEST_CASE("container environment joins lambda's", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(Lambda("      environment: {Variables: {A: lambda, B: lambda}}\n"
                       "      container: {environment: {Variables: {B: container}}, timeout_threshold: 10}\n"),
                &document)
              .ok());
  CHECK(document.functions[0].environment.at("A") == "lambda");
  CHECK(document.functions[0].environment.at("B") == "container");
  CHECK(HasWarning(document, "timeout_threshold: ignored"));
}

TEST_CASE("hostile documents are refused cleanly", "[fdl]") {
  // Not YAML, not a mapping, nothing in it.
  CHECK(ErrorOf("functions: [unclosed").find("YAML") != std::string::npos);
  CHECK(ErrorOf("- a list") != "(ok)");
  CHECK(ErrorOf("") != "(ok)");
  CHECK(ErrorOf(std::string("\x00\xff\xfe garbage", 12)) != "(ok)");
  CHECK(ErrorOf("functions: {aws: []}").find("no functions") != std::string::npos);
  CHECK(ErrorOf("functions: {oscar: []}").find("functions.aws: required") != std::string::npos);
  // A key given twice (yaml-cpp would keep both).
  CHECK(ErrorOf(Lambda("      timeout: 5\n      timeout: 900\n")).find("given twice") != std::string::npos);
  // A function defined twice.
  std::string twice = "functions:\n  aws:\n  - lambda: {name: f, script: x}\n  - lambda: {name: f, script: y}\n";
  CHECK(ErrorOf(twice).find("defined twice") != std::string::npos);
  // Deep nesting: yaml-cpp's depth guard, reported as an error.
  std::string deep = "functions: " + std::string(20000, '[') + std::string(20000, ']');
  CHECK(ErrorOf(deep) != "(ok)");
  // Larger than 1 MiB.
  CHECK(ErrorOf(Lambda("      description: \"" + std::string(kMaxFdlBytes, 'x') + "\"\n")).find("1 MiB") !=
        std::string::npos);
  // Aliases: a billion laughs costs nothing as we never expand them, and an
  // alias in a string field is still a string.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
                       Lambda("      description: *d\n");
  FdlDocument document;
  CHECK(Parse(laughs, &document).ok());
  // A script with a NUL byte.
  CHECK(ErrorOf(Lambda("      script: \"a\\0b\"\n")) != "(ok)");
}

TEST_CASE("JSON form round-trips and is validated", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(kFullDefinition, &document).ok());
  const FunctionDefinition& f = document.functions[0];
  nlohmann::json j = ToJson(f);
  CHECK(j["gpu"]["count"] == 2);
  CHECK(j["input"][0]["path"] == "rcuda-in/queries");
  FunctionDefinition back;
  Status s = FromJson(nlohmann::json::parse(j.dump()), &back);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(ToJson(back) == j);

  j["timeout"] = 100000;
  CHECK_FALSE(FromJson(j, &back).ok());
  j = ToJson(f);
  j["input"][0]["path"] = "in/../etc";
  CHECK_FALSE(FromJson(j, &back).ok());
  CHECK_FALSE(FromJson(nlohmann::json::array(), &back).ok());
  CHECK_FALSE(FromJson(nlohmann::json{{"name", 5}}, &back).ok());
}

TEST_CASE("ToFdlYaml writes what ParseFdl reads back", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(kFullDefinition, &document).ok());
  FunctionDefinition f = document.functions[0];
  f.environment["TRICKY"] = "~";  // YAML's null, must stay a string
  f.environment["COLON"] = "a: b";
  f.gpu.memory_bytes = 1331;  // not a whole KiB
  f.gpu.memory_bytes += 1 << 20;
  std::string yaml = ToFdlYaml(f);
  FdlDocument again;
  Status s = Parse(yaml, &again);
  INFO(yaml);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(ToJson(again.functions[0]) == ToJson(f));
}

TEST_CASE("object keys that stay in place", "[fdl]") {
  CHECK(CheckObjectKey("a/b.txt").ok());
  CHECK_FALSE(CheckObjectKey("../a").ok());
  CHECK_FALSE(CheckObjectKey("a/../../b").ok());
  CHECK_FALSE(CheckObjectKey("a/./b").ok());
  CHECK_FALSE(CheckObjectKey("/etc/passwd").ok());
  CHECK_FALSE(CheckObjectKey(std::string("a\0b", 3)).ok());
  CHECK_FALSE(CheckObjectKey("a\nb").ok());
  CHECK_FALSE(CheckObjectKey("").ok());
  CHECK_FALSE(CheckObjectKey(std::string(1025, 'a')).ok());
}

TEST_CASE("which input holds an object; which outputs take a file", "[fdl]") {
  FdlDocument document;
  REQUIRE(Parse(kFullDefinition, &document).ok());
  const FunctionDefinition& f = document.functions[0];
  CHECK(FindInputFor(f, "rcuda-in", "queries/a.fasta") != nullptr);
  CHECK(FindInputFor(f, "rcuda-in", "queries2/a.fasta") == nullptr);  // "queries/" is the prefix, not "queries"
  CHECK(FindInputFor(f, "rcuda-in", "other/a.fasta") == nullptr);
  CHECK(FindInputFor(f, "other", "queries/a.fasta") == nullptr);
  const OutputSpec& out = f.outputs[0];
  CHECK(out.Accepts("result-1.out"));
  CHECK(out.Accepts("result-1.log"));
  CHECK_FALSE(out.Accepts("result-1.txt"));
  CHECK_FALSE(out.Accepts("other.out"));
  CHECK(OutputSpec{}.Accepts("anything"));
}

TEST_CASE("sizes with units", "[fdl]") {
  uint64_t bytes = 0;
  REQUIRE(ParseSizeWithUnit("1GiB", &bytes).ok());
  CHECK(bytes == 1ull << 30);
  REQUIRE(ParseSizeWithUnit("512m", &bytes).ok());
  CHECK(bytes == 512ull << 20);
  REQUIRE(ParseSizeWithUnit("4096B", &bytes).ok());
  CHECK(bytes == 4096);
  CHECK_FALSE(ParseSizeWithUnit("1024", &bytes).ok());
  CHECK_FALSE(ParseSizeWithUnit("G", &bytes).ok());
  CHECK_FALSE(ParseSizeWithUnit("-1G", &bytes).ok());
  CHECK_FALSE(ParseSizeWithUnit("99999999999T", &bytes).ok());
}
