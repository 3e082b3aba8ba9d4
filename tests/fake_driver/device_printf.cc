#include "tests/fake_driver/device_printf.h"

#include <unistd.h>

#include <cerrno>

namespace fake {

void DevicePrintf(const void* ctx, const char* text, size_t bytes) {
  auto* context = static_cast<Context*>(const_cast<void*>(ctx));
  std::lock_guard lock(D().mu);
  const size_t fifo = context->limits[CU_LIMIT_PRINTF_FIFO_SIZE];
  if (context->printf_fifo.size() >= fifo) return;
  context->printf_fifo.append(text, std::min(bytes, fifo - context->printf_fifo.size()));
}

std::string TakeDevicePrintf(Context* ctx) {
  std::string out;
  if (ctx) out.swap(ctx->printf_fifo);
  return out;
}

void WriteDevicePrintf(const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

CUresult FlushedAt(std::unique_lock<std::mutex>& lock, Context* ctx, CUresult result) {
  std::string out = TakeDevicePrintf(ctx);
  if (!out.empty()) {
    lock.unlock();
    WriteDevicePrintf(out);
    lock.lock();
  }
  return result;
}

}  // namespace fake
