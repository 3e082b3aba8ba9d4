#include "faas/runtime/output_plan.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "faas/function/names.h"

namespace rcuda::faas {

namespace fs = std::filesystem;

Status PlanOutputs(const FunctionDefinition& function, const std::string& request_id, const std::string& output_dir,
                   const OutputLimits& limits, OutputPlan* plan) {
  struct File {
    std::string relative;
    std::string path;
    uint64_t bytes;
  };
  std::vector<File> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(output_dir, fs::directory_options::none, ec), end;
  if (ec) return Status::InvalidValue("cannot read the output directory: " + ec.message());
  uint64_t total = 0;
  size_t entries = 0;
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::InvalidValue("cannot read the output directory: " + ec.message());
    // Bound the walk itself, not only the files kept (a million empty
    // directories cost as much to walk).
    if (++entries > limits.max_files * 4 + 100) {
      return Status::InvalidValue("the output directory holds too many entries");
    }
    fs::file_status status = it->symlink_status(ec);
    if (ec) return Status::InvalidValue("cannot read the output directory: " + ec.message());
    // Lexically: fs::relative would resolve links.
    std::string relative = it->path().lexically_relative(output_dir).generic_string();
    if (fs::is_directory(status)) continue;
    if (!fs::is_regular_file(status)) {
      plan->skipped.push_back(relative);
      continue;
    }
    uint64_t bytes = it->file_size(ec);
    if (ec) return Status::InvalidValue("cannot read the output directory: " + ec.message());
    total += bytes;
    if (files.size() >= limits.max_files) {
      return Status::InvalidValue("more than " + std::to_string(limits.max_files) + " output files");
    }
    if (limits.max_total_bytes && total > limits.max_total_bytes) {
      return Status::InvalidValue("output files add up to more than " + std::to_string(limits.max_total_bytes) +
                                  " bytes");
    }
    files.push_back({relative, it->path().string(), bytes});
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.relative < b.relative; });
  for (const auto& output : function.outputs) {
    for (const auto& file : files) {
      if (!output.Accepts(file.relative)) continue;
      std::string key = output.path.folder.empty()
                            ? function.name + "/output/" + request_id + "/" + file.relative
                            : output.path.folder + "/" + file.relative;
      Status s = CheckObjectKey(key);
      if (!s.ok()) return Status::InvalidValue("output file '" + file.relative + "': " + s.message());
      plan->uploads.push_back({file.path, output.path.bucket, key, file.bytes});
    }
  }
  return Status::Ok();
}

}  // namespace rcuda::faas
