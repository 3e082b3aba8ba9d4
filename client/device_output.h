// The device's output (a kernel's printf, a failed device assert's message)
// that the session worker captured from the GPU driver and sent with a reply
// (wire::Reply.device_output; server/device_output.h): written to the
// program's own stdout, where the driver writes it natively.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rcuda::client {

// Writes `bytes` to fd 1 whole, after the program's own buffered stdout
// (fflush first), so that the program's host output before the
// synchronization comes first, as natively. A failed write (stdout closed)
// drops the rest, as the driver would.
void WriteDeviceOutput(const uint8_t* bytes, size_t size);

}  // namespace rcuda::client
