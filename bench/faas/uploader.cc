#include "bench/faas/uploader.h"

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/faas/bench_clock.h"

namespace rcuda::faas_bench {

namespace {

std::string KeyOf(const UploadOptions& o, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%06d", index);
  return o.prefix + o.name_prefix + number + ".job";
}

std::string ContentOf(const std::string& key, int size) {
  std::string content = "rcuda faas benchmark input " + key + "\n";
  if (int(content.size()) < size) content.append(size - content.size(), '.');
  return content;
}

}  // namespace

Status Upload(faas::ObjectStore& store, const UploadOptions& o) {
  if (o.count < 0 || o.threads < 1 || o.threads > 256 || o.size < 0 || o.size > (64 << 20)) {
    return Status::InvalidValue("upload: count >= 0, threads 1..256, size 0..64 MiB");
  }
  std::ofstream log(o.log_path, std::ios::app);
  if (!log) return Status::IoError("upload: cannot write " + o.log_path);
  std::mutex log_mutex;
  std::atomic<int> next{0}, failures{0};
  std::string first_error;
  const double t0 = UnixMs();

  auto one = [&](int index) {
    std::string key = KeyOf(o, index);
    std::string content = ContentOf(key, o.size);
    double start = UnixMs();
    Status s = store.Put(o.bucket, key, content);
    double done = UnixMs();
    nlohmann::json line = {{"key", key}, {"start_ms", start}, {"done_ms", done}, {"ok", s.ok()}};
    if (!s.ok()) line["error"] = s.ToString();
    std::lock_guard<std::mutex> lock(log_mutex);
    log << line.dump() << '\n';
    if (!s.ok() && failures++ == 0) first_error = key + ": " + s.ToString();
  };

  if (o.interval_ms > 0) {
    // Paced: upload i starts at t0 + i * interval (or at once when late).
    for (int i = 0; i < o.count; ++i) {
      double due = t0 + i * o.interval_ms;
      double now = UnixMs();
      if (due > now) std::this_thread::sleep_for(std::chrono::microseconds(int64_t((due - now) * 1000)));
      one(i);
    }
  } else {
    std::vector<std::thread> workers;
    for (int t = 0; t < std::min(o.threads, std::max(o.count, 1)); ++t) {
      workers.emplace_back([&] {
        for (int i = next++; i < o.count; i = next++) one(i);
      });
    }
    for (auto& worker : workers) worker.join();
  }
  log.flush();
  if (!log) return Status::IoError("upload: writing " + o.log_path + " failed");
  // The uploader's own CPU, for the benchmark's account of where CPU goes.
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    auto ms = [](const timeval& t) { return double(t.tv_sec) * 1000 + double(t.tv_usec) / 1000; };
    std::printf("{\"uploads\": %d, \"cpu_ms\": %.1f}\n", o.count, ms(usage.ru_utime) + ms(usage.ru_stime));
  }
  if (failures > 0) {
    return Status::Unavailable(std::to_string(failures.load()) + " upload(s) failed; first: " + first_error);
  }
  return Status::Ok();
}

}  // namespace rcuda::faas_bench
