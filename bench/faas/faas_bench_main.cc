// faas_bench: the serverless pipeline benchmark's own programs (run.sh runs
// them; bench/faas/README.md):
//
//   faas_bench upload  --bucket B --prefix P --count N [--threads T | --interval-ms I] --log F
//   faas_bench outputs --bucket B --prefix P --out F
//   faas_bench serial  --function-file F --count N --redis H:P --ssgmd H:P --invoke-endpoint URL --job-log F
//
// S3: the AWS variables (docs/faas.md, "S3 configuration").
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "bench/faas/output_reader.h"
#include "bench/faas/serial_orchestrator.h"
#include "bench/faas/uploader.h"
#include "faas/queue/redis_connection.h"
#include "faas/storage/s3_config.h"
#include "faas/storage/s3_object_store.h"
#include "scheduler/line_client.h"
#include "scheduler/wire.h"

namespace {

using namespace rcuda;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "faas_bench %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

Status OpenStore(std::unique_ptr<faas::S3ObjectStore>* store) {
  faas::S3Config config;
  Status s = faas::LoadS3Config(&config);
  if (!s.ok()) return s;
  return faas::S3ObjectStore::Create(config, store);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faas_bench: uploads, outputs and the serial baseline of the serverless pipeline benchmark"};
  app.require_subcommand(1);

  faas_bench::UploadOptions upload;
  auto* up = app.add_subcommand("upload", "put COUNT small inputs into the bucket, logging each upload's times");
  up->add_option("--bucket", upload.bucket)->required();
  up->add_option("--prefix", upload.prefix, "key prefix (the function's input folder, with its /)");
  up->add_option("--name-prefix", upload.name_prefix, "names: this, then the index");
  up->add_option("--count", upload.count)->required();
  up->add_option("--threads", upload.threads, "uploads in flight at once (a burst)")->capture_default_str();
  up->add_option("--interval-ms", upload.interval_ms, "paced: one upload every this many ms (one thread)");
  up->add_option("--size", upload.size, "bytes per input")->capture_default_str();
  up->add_option("--log", upload.log_path, "JSON lines: key, start_ms, done_ms, ok")->required();

  faas_bench::OutputReadOptions outputs;
  auto* out = app.add_subcommand("outputs", "list and read every output under the prefix");
  out->add_option("--bucket", outputs.bucket)->required();
  out->add_option("--prefix", outputs.prefix);
  out->add_option("--threads", outputs.threads)->capture_default_str();
  out->add_option("--out", outputs.out_path, "JSON lines: key, size, content")->required();

  faas_bench::SerialOptions serial;
  std::string redis = "127.0.0.1:6379", ssgmd = "127.0.0.1";
  auto* ser = app.add_subcommand("serial", "the serial (orchGPU-style) baseline: one job at a time");
  ser->add_option("--function-file", serial.function_file, "FDL file; its first function")->required();
  ser->add_option("--count", serial.count, "acknowledged jobs to do, then exit")->required();
  ser->add_option("--redis", redis)->capture_default_str();
  ser->add_option("--ssgmd", ssgmd)->capture_default_str();
  ser->add_option("--invoke-endpoint", serial.invoke_endpoint)->required();
  ser->add_option("--give-up-ms", serial.give_up_ms)->capture_default_str();
  ser->add_option("--job-log", serial.job_log)->required();
  CLI11_PARSE(app, argc, argv);

  if (up->parsed() || out->parsed()) {
    std::unique_ptr<faas::S3ObjectStore> store;
    Status s = OpenStore(&store);
    if (!s.ok()) return Fail("S3", s);
    if (up->parsed()) {
      s = faas_bench::Upload(*store, upload);
      return s.ok() ? 0 : Fail("upload", s);
    }
    int count = 0;
    s = faas_bench::ReadOutputs(*store, outputs, &count);
    if (!s.ok()) return Fail("outputs", s);
    std::printf("%d outputs read\n", count);
    return 0;
  }
  Status s = faas::ParseRedisAddress(redis, &serial.queue.redis);
  if (s.ok()) s = sched::ParseHostPort(ssgmd, sched::kDefaultSsgmdPort, &serial.ssgmd.host, &serial.ssgmd.port);
  if (!s.ok()) return Fail("serial", s);
  serial.queue.consumer = "serial-baseline";
  faas_bench::SerialSummary summary;
  s = faas_bench::RunSerial(serial, &summary);
  std::printf("serial baseline: %d succeeded, %d failed\n", summary.succeeded, summary.failed);
  return s.ok() ? 0 : Fail("serial", s);
}
