// The serial baseline: the paper's orchGPU loop, one reservation at a time,
// over the same queue, ssgmd and function runtime as rcuda-orchestrator:
//
//   receive one message -> request a lease (wait for it) -> invoke the
//   function (RequestResponse: wait for it) -> release -> acknowledge
//
// BENCHMARK BASELINE, not a deployable orchestrator: no heartbeats, no
// retries beyond "a failed job is not acknowledged" (its message comes back
// after the visibility timeout), no dead letters. It talks to ssgmd and the
// queue through the same libraries as rcuda-orchestrator (orchGPU ran the
// ssgm command for each step), so what it measures is the cost of doing
// one job at a time, not of slower clients.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "faas/queue/redis_streams_queue.h"
#include "scheduler/ssgm_client.h"

namespace rcuda::faas_bench {

struct SerialOptions {
  std::string function_file;    // an FDL file; its first function is the one invoked
  faas::RedisQueueOptions queue;
  sched::SsgmClientOptions ssgmd;
  std::string invoke_endpoint;  // rcuda-fn
  int count = 0;                // stop after this many acknowledged jobs
  int64_t give_up_ms = 600'000; // stop (failing) when they are not all done by then
  std::string job_log;          // one JSON line per job, the orchestrator's field names
};

struct SerialSummary {
  int succeeded = 0;
  int failed = 0;
};

Status RunSerial(const SerialOptions& options, SerialSummary* summary);

}  // namespace rcuda::faas_bench
