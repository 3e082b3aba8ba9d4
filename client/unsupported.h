// What an export that rcuda does not support does: log its name (once per
// process) and fail with cudaErrorNotSupported, which also becomes the
// thread's last error. Never a silent success.
#pragma once

#include "client/export.h"

namespace rcuda::client {

int Unsupported(const char* name);

}  // namespace rcuda::client
