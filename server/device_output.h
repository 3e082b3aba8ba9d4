// DeviceOutput: what the GPU driver writes to a session worker's standard
// output (a kernel's printf, a failed device assert's message), kept for the
// session's client instead of the server's log.
//
// The driver writes the device's printf buffer to the process's fd 1 at its
// synchronization points (cuCtxSynchronize, cuStreamSynchronize,
// cuEventSynchronize, blocking copies, module load and unload, launches).
// The worker process is the session, so its fd 1 is the session's: Capture
// points it at a pipe, and a thread drains the pipe into a buffer of at most
// `cap_bytes`. The session worker takes the buffer (Take) into each reply it
// sends, and the client writes it to the program's own stdout (docs/design.md,
// "Device output").
//
// Hostile sessions: a kernel may print without end, and the client may never
// read. The drain thread never waits for anything but the pipe, so the
// driver's writes never block for long; past the cap it reads and drops, and
// the next Take ends with one marker line that counts the dropped bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace rcuda {

class DeviceOutput {
 public:
  // rcuda-server --session-device-output-kib: its default and its largest
  // value (a reply carries at most that much, well under a frame's limit).
  static constexpr uint64_t kDefaultCapKib = 1024;  // CUDA's own printf FIFO is 1 MiB
  static constexpr uint64_t kMaxCapKib = 16 * 1024;

  // Redirects fd 1 into a pipe and starts the drain thread.
  static Status Capture(uint64_t cap_bytes, std::unique_ptr<DeviceOutput>* out);
  // Restores fd 1, stops and joins the drain thread, closes the pipe.
  ~DeviceOutput();
  DeviceOutput(const DeviceOutput&) = delete;
  DeviceOutput& operator=(const DeviceOutput&) = delete;

  // Everything written to fd 1 since the last Take (the process's C stdio
  // flushed first, and the pipe read to its end, so nothing written before
  // the call is left behind), with the marker line if bytes were dropped.
  std::string Take() EXCLUDES(mu_);

  // The marker line that replaces `dropped` bytes beyond a cap of `cap_bytes`.
  static std::string DroppedMarker(uint64_t dropped, uint64_t cap_bytes);

 private:
  DeviceOutput(uint64_t cap_bytes, int read_fd, int saved_stdout, int stop_read, int stop_write);
  void DrainLoop();
  // Reads what the pipe holds now (non-blocking) into buffer_.
  void ReadAvailable() REQUIRES(mu_);

  const uint64_t cap_bytes_;
  const int read_fd_;       // the pipe's read end (non-blocking)
  const int saved_stdout_;  // fd 1 as it was, restored at the end
  const int stop_read_;     // a second pipe: closing stop_write_ ends the drain thread
  const int stop_write_;
  Mutex mu_;
  std::string buffer_ GUARDED_BY(mu_);
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace rcuda
