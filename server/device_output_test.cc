// server/device_output.h: the worker's fd 1 captured into a bounded buffer.
// Each case checks after the capture ended: while it runs, fd 1 (where
// Catch2 reports) is the capture's pipe.
#include "server/device_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

namespace rcuda {
namespace {

void WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

ino_t StdoutInode() {
  struct stat st {};
  fstat(STDOUT_FILENO, &st);
  return st.st_ino;
}

TEST_CASE("device output: what fd 1 and C stdio got, in order, once", "[server_device_output]") {
  const ino_t before = StdoutInode();
  std::string first, second;
  Status capture;
  {
    std::unique_ptr<DeviceOutput> output;
    capture = DeviceOutput::Capture(1024, &output);
    if (capture.ok()) {
      WriteAll("raw line\n");
      std::printf("stdio line %d\n", 7);  // buffered: Take flushes it
      first = output->Take();
      second = output->Take();
    }
  }
  REQUIRE(capture.ok());
  CHECK(first == "raw line\nstdio line 7\n");
  CHECK(second.empty());
  CHECK(StdoutInode() == before);  // fd 1 restored
}

TEST_CASE("device output: beyond the cap, dropped and counted once; the writer never blocks",
          "[server_device_output]") {
  std::string first, second;
  Status capture;
  {
    std::unique_ptr<DeviceOutput> output;
    capture = DeviceOutput::Capture(1000, &output);
    if (capture.ok()) {
      // 4 MiB, far beyond a pipe's capacity: it returns because the drain
      // thread reads on, whatever the cap.
      WriteAll(std::string(4 << 20, 'x'));
      first = output->Take();
      WriteAll("after\n");
      second = output->Take();
    }
  }
  REQUIRE(capture.ok());
  // The kept part ends mid-line: the marker starts a line of its own.
  CHECK(first == std::string(1000, 'x') + "\n" + DeviceOutput::DroppedMarker((4 << 20) - 1000, 1000));
  CHECK(first.find("4193304 bytes of device output dropped") != std::string::npos);
  CHECK(second == "after\n");
}

TEST_CASE("device output: the capture ends with output never taken", "[server_device_output]") {
  Status capture;
  {
    std::unique_ptr<DeviceOutput> output;
    capture = DeviceOutput::Capture(64, &output);
    if (capture.ok()) WriteAll(std::string(100000, 'y'));
  }  // joins the drain thread and closes the pipe without a Take
  REQUIRE(capture.ok());
}

}  // namespace
}  // namespace rcuda
