#include "scheduler/ssgmd_status.h"

#include "scheduler/wire.h"

namespace rcuda::sched {

namespace {

Json GpuJson(int index, const GpuState& gpu) {
  Json g = Json::Object();
  g.Set("index", int64_t(index));
  g.Set("name", gpu.report.name);
  g.Set("present", gpu.present);
  g.Set("total", gpu.report.total_bytes);
  g.Set("capacity", gpu.capacity_bytes);
  g.Set("allocated", gpu.allocated_bytes);
  g.Set("free_reported", gpu.report.free_bytes);
  g.Set("util", int64_t(gpu.report.utilization_percent));
  g.Set("leases", int64_t(gpu.leases));
  g.Set("sessions", int64_t(gpu.sessions));
  return g;
}

}  // namespace

Json BuildStatusReply(const Scheduler& scheduler, const StatusView& view, int64_t now_ms) {
  Json reply = Json::Object();
  reply.Set("error", int64_t(kSsgmOk));
  reply.Set("policy", PolicyName(scheduler.options().policy));
  reply.Set("now_ms", now_ms);
  reply.Set("tokens", view.tokens);
  Json nodes = Json::Array();
  for (const auto& [name, node] : scheduler.nodes()) {
    Json n = Json::Object();
    n.Set("node", name);
    n.Set("host", node.report.host);
    n.Set("port", int64_t(node.report.port));
    n.Set("source", node.report.source);
    n.Set("server", ServerStateName(node.report.server));
    n.Set("live", scheduler.NodeIsLive(node, now_ms));
    n.Set("reported", node.reported);
    if (node.reported) n.Set("last_report_ms_ago", now_ms - node.last_report_ms);
    Json gpus = Json::Array();
    for (const auto& [index, gpu] : node.gpus) gpus.Push(GpuJson(index, gpu));
    n.Set("gpus", std::move(gpus));
    nodes.Push(std::move(n));
  }
  reply.Set("nodes", std::move(nodes));
  reply.Set("lease_count", uint64_t(scheduler.leases().size()));
  if (view.with_leases) {
    Json leases = Json::Array();
    for (const auto& [id, lease] : scheduler.leases()) leases.Push(EncodeLeaseSummary(lease, view.identity));
    reply.Set("leases", std::move(leases));
    reply.Set("lease_ids", view.identity);
  }
  reply.Set("queue", uint64_t(scheduler.queue_length()));
  Status invariants = scheduler.CheckInvariants();
  reply.Set("invariants", invariants.ok() ? std::string("ok") : invariants.message());
  return reply;
}

Json SchedulerCountersJson(const SchedulerCounters& c) {
  Json counters = Json::Object();
  counters.Set("granted", c.granted);
  counters.Set("granted_after_wait", c.granted_after_wait);
  counters.Set("repeated", c.repeated);
  counters.Set("busy", c.busy);
  counters.Set("refused", c.refused);
  counters.Set("timed_out", c.timed_out);
  counters.Set("released", c.released);
  counters.Set("expired", c.expired);
  counters.Set("renewed", c.renewed);
  return counters;
}

Json JournalStatsJson(const Journal& journal) {
  Journal::Stats js = journal.stats();
  Json out = Json::Object();
  out.Set("enabled", true);
  out.Set("path", journal.path());
  out.Set("batches", js.batches);
  out.Set("records", js.records);
  out.Set("rewrites", js.rewrites);
  out.Set("avg_sync_us", js.batches ? js.sync_ns_total / js.batches / 1000 : 0);
  out.Set("max_sync_us", js.sync_ns_max / 1000);
  out.Set("p50_sync_us", js.sync_ns_p50 / 1000);
  out.Set("p99_sync_us", js.sync_ns_p99 / 1000);
  out.Set("writer_pickup_p99_us", js.pickup_ns_p99 / 1000);
  return out;
}

}  // namespace rcuda::sched
