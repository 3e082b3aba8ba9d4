// spdlog's out-of-line code, compiled once into rcuda_spdlog.
//
// Header-only spdlog put about 9 s of compile time into every file that
// logs, in every build (CI builds the project twice). Debian ships spdlog
// only as a shared library, which a build carried to a GPU machine without
// the package could not load; so rcuda builds spdlog's compiled mode itself:
// SPDLOG_COMPILED_LIB (set for every user by rcuda_spdlog) makes the headers
// declare, and this file includes the definitions (spdlog's *-inl.h) and
// instantiates the templates rcuda and spdlog's registry use. fmt stays
// header-only: compiling it separately saved little.
#ifndef SPDLOG_COMPILED_LIB
#error "common/spdlog_compiled.cc is built with SPDLOG_COMPILED_LIB (rcuda_spdlog)"
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

// The logger constructor from a list of sinks.
template spdlog::logger::logger(std::string name, spdlog::sinks_init_list::iterator begin,
                                spdlog::sinks_init_list::iterator end);

namespace spdlog::sinks {
template class base_sink<std::mutex>;
template class base_sink<details::null_mutex>;
// stderr_sink_mt: rcuda's own sink (common/log.cc).
template class stdout_sink_base<details::console_mutex>;
template class stdout_sink_base<details::console_nullmutex>;
template class stdout_sink<details::console_mutex>;
template class stdout_sink<details::console_nullmutex>;
template class stderr_sink<details::console_mutex>;
template class stderr_sink<details::console_nullmutex>;
// The registry's default logger writes to a colour sink on stdout.
template class ansicolor_sink<details::console_mutex>;
template class ansicolor_sink<details::console_nullmutex>;
template class ansicolor_stdout_sink<details::console_mutex>;
template class ansicolor_stdout_sink<details::console_nullmutex>;
template class ansicolor_stderr_sink<details::console_mutex>;
template class ansicolor_stderr_sink<details::console_nullmutex>;
}  // namespace spdlog::sinks
