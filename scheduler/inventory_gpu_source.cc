#include <fstream>
#include <sstream>

#include "scheduler/gpu_source.h"
#include "scheduler/units.h"

namespace rcuda::sched {

namespace {

class InventoryGpuSource : public GpuSource {
 public:
  explicit InventoryGpuSource(std::string path) : path_(std::move(path)) {}

  Status Read(std::vector<GpuReport>* gpus) override {
    std::ifstream file(path_);
    if (!file) return Status::IoError("cannot read inventory file " + path_);
    std::ostringstream text;
    text << file.rdbuf();
    Status s = ParseInventory(text.str(), gpus);
    if (!s.ok()) return Status::InvalidValue(path_ + ": " + s.message());
    return Status::Ok();
  }

  std::string Describe() const override { return "inventory:" + path_; }

 private:
  std::string path_;
};

}  // namespace

Status ParseInventory(std::string_view text, std::vector<GpuReport>* gpus) {
  gpus->clear();
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string index_text, total_text, free_text, util_text;
    if (!(fields >> index_text)) continue;  // blank or comment
    auto fail = [&](const std::string& why) {
      return Status::InvalidValue("inventory line " + std::to_string(number) + ": " + why);
    };
    if (!(fields >> total_text >> free_text >> util_text)) return fail("expected: index total free utilization name");
    GpuReport gpu;
    try {
      size_t used = 0;
      int index = std::stoi(index_text, &used);
      if (used != index_text.size() || index < 0) return fail("bad index '" + index_text + "'");
      gpu.index = index;
      int util = std::stoi(util_text, &used);
      if (used != util_text.size() || util < 0 || util > 100) return fail("bad utilization '" + util_text + "'");
      gpu.utilization_percent = util;
    } catch (const std::exception&) {
      return fail("bad number");
    }
    if (!ParseBytes(total_text, &gpu.total_bytes).ok()) return fail("bad total '" + total_text + "'");
    if (!ParseBytes(free_text, &gpu.free_bytes).ok()) return fail("bad free '" + free_text + "'");
    if (gpu.free_bytes > gpu.total_bytes) return fail("free exceeds total");
    std::getline(fields >> std::ws, gpu.name);
    while (!gpu.name.empty() && (gpu.name.back() == ' ' || gpu.name.back() == '\r')) gpu.name.pop_back();
    if (gpu.name.empty()) gpu.name = "GPU " + index_text;
    for (const auto& seen : *gpus) {
      if (seen.index == gpu.index) return fail("GPU index " + index_text + " listed twice");
    }
    gpus->push_back(std::move(gpu));
  }
  return Status::Ok();
}

std::unique_ptr<GpuSource> NewInventoryGpuSource(std::string path) {
  return std::make_unique<InventoryGpuSource>(std::move(path));
}

}  // namespace rcuda::sched
