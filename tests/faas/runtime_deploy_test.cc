// Deploying, listing, getting and deleting functions through rcuda-fn's API.
#include "faas/function/fdl_parser.h"
#include "runtime_fixture.h"

using namespace rcuda::faas;
using namespace rcuda::faas::testing;
using nlohmann::json;

namespace {

const char* kFileFunctions = R"(
functions:
  aws:
  - lambda: {name: from-file, script: "echo file"}
)";

std::string Deployable(const std::string& name, const std::string& script) {
  return "functions:\n  aws:\n  - lambda:\n      name: " + name + "\n      memory: 256\n      script: \"" + script +
         "\"\n      gpu: {count: 1, memory: 2GiB}\n";
}

httplib::Headers Admin() { return {{"Authorization", "Bearer admin-secret-0123456789"}}; }

}  // namespace

TEST_CASE("deploying needs an admin key and a state directory", "[deploy]") {
  FixtureOptions options;
  options.functions_yaml = kFileFunctions;
  RuntimeFixture rt(options);
  auto result = rt.Client().Put("/rcuda-fn/v1/functions/f1", Deployable("f1", "echo hi"), "application/yaml");
  REQUIRE(result);
  CHECK(result->status == 403);
  CHECK(result->get_header_value("X-Amzn-ErrorType") == "AccessDeniedException");
  result = rt.Client().Delete("/2015-03-31/functions/from-file");
  REQUIRE(result);
  CHECK(result->status == 403);
}

TEST_CASE("deploy, invoke, replace, list, get and delete", "[deploy]") {
  FixtureOptions options;
  options.functions_yaml = kFileFunctions;
  options.admin_key = "admin-secret-0123456789";
  options.state_dir = true;
  RuntimeFixture rt(options);
  httplib::Client client = rt.Client();

  // Without the key, with a wrong one: refused.
  auto result = client.Put("/rcuda-fn/v1/functions/f1", Deployable("f1", "echo one"), "application/yaml");
  REQUIRE(result);
  CHECK(result->status == 403);

  result = client.Put("/rcuda-fn/v1/functions/f1", Admin(), Deployable("f1", "echo one"), "application/yaml");
  REQUIRE(result);
  INFO(result->body);
  CHECK(result->status == 201);
  json lease = {{"RCUDA_DEVICE_COUNT", "1"}, {"RCUDA_DEVICE_0", "127.0.0.1@8308:0"}};
  json body = BodyJson(rt.Invoke("f1", json{{"rcuda", lease}}.dump()));
  CHECK(body["logTail"] == "one\n");
  // The file it is kept in.
  CHECK(ReadWhole(rt.dir() + "/state/f1.yaml") == Deployable("f1", "echo one"));

  result = client.Put("/rcuda-fn/v1/functions/f1", Admin(), Deployable("f1", "echo two"), "application/yaml");
  REQUIRE(result);
  CHECK(result->status == 200);
  body = BodyJson(rt.Invoke("f1", json{{"rcuda", lease}}.dump()));
  CHECK(body["logTail"] == "two\n");

  json list = BodyJson(client.Get("/2015-03-31/functions/"));
  REQUIRE(list["Functions"].size() == 2);
  json got = BodyJson(client.Get("/2015-03-31/functions/f1"));
  CHECK(got["Configuration"]["MemorySize"] == 256);
  CHECK(got["Configuration"]["Gpu"]["Count"] == 1);
  CHECK(got["Definition"]["script"] == "echo two");
  FunctionDefinition definition;
  CHECK(FromJson(got["Definition"], &definition).ok());

  // Functions from --functions-dir are the operator's: 409.
  result = client.Put("/rcuda-fn/v1/functions/from-file", Admin(), Deployable("from-file", "x"), "application/yaml");
  REQUIRE(result);
  CHECK(result->status == 409);
  result = client.Delete("/2015-03-31/functions/from-file", Admin());
  REQUIRE(result);
  CHECK(result->status == 409);

  result = client.Delete("/2015-03-31/functions/f1", Admin());
  REQUIRE(result);
  CHECK(result->status == 204);
  CHECK_FALSE(std::filesystem::exists(rt.dir() + "/state/f1.yaml"));
  result = rt.Invoke("f1", "{}");
  REQUIRE(result);
  CHECK(result->status == 404);
  result = client.Delete("/2015-03-31/functions/f1", Admin());
  REQUIRE(result);
  CHECK(result->status == 404);
}

TEST_CASE("deployments that are wrong or hostile are refused", "[deploy]") {
  FixtureOptions options;
  options.functions_yaml = kFileFunctions;
  options.admin_key = "admin-secret-0123456789";
  options.state_dir = true;
  RuntimeFixture rt(options);
  httplib::Client client = rt.Client();
  auto status_of = [&](const std::string& name, const std::string& yaml) {
    auto result = client.Put(("/rcuda-fn/v1/functions/" + name).c_str(), Admin(), yaml, "application/yaml");
    REQUIRE(result);
    return result->status;
  };
  // A file name of the server's is not a script.
  CHECK(status_of("f2", "functions:\n  aws:\n  - lambda: {name: f2, init_script: /etc/shadow}\n") == 400);
  // The name in the path and in the document differ.
  CHECK(status_of("f2", Deployable("f3", "x")) == 400);
  CHECK(status_of("..", Deployable("f2", "x")) >= 400);
  CHECK(status_of("f2", "not: [yaml") == 400);
  CHECK(status_of("f2", Deployable("f2", "x") + "      timeout: 100000\n") == 400);
  CHECK(status_of("f2", "functions:\n  aws:\n  - lambda: {name: f2, script: x}\n  - lambda: {name: f4, script: y}\n") ==
        400);
  CHECK(std::filesystem::is_empty(rt.dir() + "/state"));
  json list = BodyJson(client.Get("/2015-03-31/functions/"));
  CHECK(list["Functions"].size() == 1);
}

TEST_CASE("deployed functions survive a restart", "[deploy]") {
  TempDir state;
  {
    FunctionRegistry registry;
    std::vector<std::string> warnings;
    REQUIRE(registry.SetStateDirectory(state.path(), &warnings).ok());
    FunctionRegistry::DeployResult result;
    REQUIRE(registry.Deploy("kept", Deployable("kept", "echo kept"), &result, &warnings).ok());
    CHECK(result == FunctionRegistry::DeployResult::kCreated);
  }
  FunctionRegistry again;
  std::vector<std::string> warnings;
  REQUIRE(again.SetStateDirectory(state.path(), &warnings).ok());
  auto definition = again.Find("kept");
  REQUIRE(definition);
  CHECK(definition->script == "echo kept");
  CHECK(definition->gpu.memory_bytes == 2ull << 30);
}
