// What the *_not_forwarded tests of the replacement libraries share
// (not_forwarded_test.cc, curand_not_forwarded_test.cc, ...): the
// libraries log to stderr, so a test captures it, makes its calls, then
// counts what was logged. Each check prints what failed; Finish() prints
// the log and the verdict and gives the exit code.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace rcuda::libs {

class NotForwardedCheck {
 public:
  // Starts capturing stderr.
  NotForwardedCheck() : log_(std::tmpfile()) {
    std::fflush(stderr);
    if (log_ != nullptr) {
      saved_ = dup(2);
      dup2(fileno(log_), 2);
    }
  }
  NotForwardedCheck(const NotForwardedCheck&) = delete;
  NotForwardedCheck& operator=(const NotForwardedCheck&) = delete;

  void Expect(bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stdout, "FAILED: %s\n", what);
      ++failures_;
    }
  }

  // Stops capturing; from now on Logged() counts in what was captured.
  void StopCapture() {
    if (log_ == nullptr || saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
    std::rewind(log_);
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, log_)) > 0;) text_.append(buffer, n);
  }

  // How many times `needle` was logged.
  int Logged(const std::string& needle) const {
    int c = 0;
    for (size_t at = text_.find(needle); at != std::string::npos; at = text_.find(needle, at + 1)) ++c;
    return c;
  }

  // Prints the captured log and the verdict; the exit code (2: stderr
  // could not be captured).
  int Finish() {
    StopCapture();
    if (log_ == nullptr) return 2;
    std::fputs(text_.c_str(), stdout);
    std::printf("%s\n", failures_ == 0 ? "PASSED" : "FAILED");
    return failures_ == 0 ? 0 : 1;
  }

 private:
  std::FILE* log_;
  int saved_ = -1;
  std::string text_;
  int failures_ = 0;
};

}  // namespace rcuda::libs
