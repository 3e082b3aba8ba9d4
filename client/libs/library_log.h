// What a replaced math library's export that rcuda does not forward does
// besides returning the library's "not supported" status: log its name, once
// per process, so that the refusal is never silent.
#pragma once

namespace rcuda::libs {

void LogNotForwarded(const char* library, const char* function);

}  // namespace rcuda::libs
