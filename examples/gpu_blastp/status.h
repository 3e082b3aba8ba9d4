// A small Status type for gpu_blastp (LevelDB style): ok, or an error message.
// gpu_blastp is an ordinary CUDA application that rcuda carries, so it keeps
// its own Status rather than linking anything of rcuda.
#pragma once

#include <string>
#include <utility>

namespace gpu_blastp {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace gpu_blastp
