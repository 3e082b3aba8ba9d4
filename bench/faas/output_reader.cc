#include "bench/faas/output_reader.h"

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace rcuda::faas_bench {

Status ReadOutputs(faas::ObjectStore& store, const OutputReadOptions& o, int* count) {
  constexpr size_t kMaxObjects = 1'000'000;
  std::vector<faas::ObjectInfo> objects;
  std::string token;
  do {
    faas::ListPage page;
    Status s = store.List(o.bucket, o.prefix, token, 1000, &page);
    if (!s.ok()) return s;
    for (auto& object : page.objects) objects.push_back(std::move(object));
    if (objects.size() > kMaxObjects) return Status::InvalidValue("more than a million outputs");
    token = page.next_continuation_token;
  } while (!token.empty());

  std::ofstream out(o.out_path);
  if (!out) return Status::IoError("cannot write " + o.out_path);
  std::mutex mutex;
  std::atomic<size_t> next{0};
  Status first_failure;
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, o.threads); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < objects.size(); i = next++) {
        std::string content;
        Status s = store.Get(o.bucket, objects[i].key, &content, uint64_t(o.max_content_bytes));
        nlohmann::json line = {{"key", objects[i].key}, {"size", objects[i].size}};
        if (s.ok()) line["content"] = content;
        else line["error"] = s.ToString();
        std::lock_guard<std::mutex> lock(mutex);
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        if (!s.ok() && first_failure.ok()) first_failure = s;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  *count = int(objects.size());
  out.flush();
  if (!out) return Status::IoError("writing " + o.out_path + " failed");
  return first_failure;
}

}  // namespace rcuda::faas_bench
