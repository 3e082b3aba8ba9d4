#include "bench/micro/frame_workload.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace rcuda::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kSmall = 64;  // header + message of a small call
constexpr size_t kBulk = 64 << 20;
constexpr size_t kChunk = 8 << 20;  // the CUDA executor's staging chunk

}  // namespace

void PinToCpu(int cpu, const char* program) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) std::fprintf(stderr, "%s: sched_setaffinity failed\n", program);
}

void CheckOrExit(const Status& s, const char* program, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s: %s\n", program, what, s.message().c_str());
    std::exit(1);
  }
}

Status WriteBytes(Connection& c, const void* data, size_t n) {
  ConstBuffer b{data, n};
  return c.WriteAll(std::span(&b, 1));
}

void ServeFrameWorkload(Connection& c, const FramePlan& plan, const char* program) {
  auto Check = [program](const Status& s, const char* what) { CheckOrExit(s, program, what); };
  std::vector<char> source(kBulk, 's'), chunk(kChunk, 0);
  char small[kSmall];
  for (int i = 0; i < plan.rounds; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    Check(WriteBytes(c, small, kSmall), "server write");
  }
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    for (size_t at = 0; at < kBulk; at += kChunk) Check(c.ReadExact(chunk.data(), kChunk), "server read bulk");
  }
  Check(WriteBytes(c, small, 1), "server write");  // uploads done
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(c.ReadExact(small, kSmall), "server read");
    ConstBuffer parts[2] = {{small, kSmall}, {source.data(), kChunk}};
    Check(c.WriteAll(parts), "server write");
    for (size_t at = kChunk; at < kBulk; at += kChunk) Check(WriteBytes(c, source.data() + at, kChunk), "server write");
  }
}

void MeasureFrameWorkload(Connection& c, const std::string& name, const FramePlan& plan, const char* program) {
  auto Check = [program](const Status& s, const char* what) { CheckOrExit(s, program, what); };
  char small[kSmall] = {};
  std::vector<double> rt;
  for (int i = 0; i < plan.rounds; ++i) {
    auto t = Clock::now();
    Check(WriteBytes(c, small, kSmall), "client write");
    Check(c.ReadExact(small, kSmall), "client read");
    rt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(rt.begin(), rt.end());
  std::printf("METRIC %s_rt_p50 %.3f us\n", name.c_str(), rt[rt.size() / 2]);
  std::printf("METRIC %s_rt_p99 %.3f us\n", name.c_str(), rt[rt.size() * 99 / 100]);
  std::vector<char> data(kBulk, 'c');
  auto t = Clock::now();
  for (int i = 0; i < plan.bulk_frames; ++i) {
    ConstBuffer parts[2] = {{small, kSmall}, {data.data(), data.size()}};
    Check(c.WriteAll(parts), "client write bulk");
  }
  Check(c.ReadExact(small, 1), "client read");
  double seconds = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("METRIC %s_upload %.3f GB/s\n", name.c_str(), plan.bulk_frames * double(kBulk) / seconds / 1e9);
  t = Clock::now();
  for (int i = 0; i < plan.bulk_frames; ++i) {
    Check(WriteBytes(c, small, kSmall), "client write");
    Check(c.ReadExact(small, kSmall), "client read");
    Check(c.ReadExact(data.data(), data.size()), "client read bulk");
  }
  seconds = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("METRIC %s_download %.3f GB/s\n", name.c_str(), plan.bulk_frames * double(kBulk) / seconds / 1e9);
}

}  // namespace rcuda::bench
