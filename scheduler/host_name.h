// The host a node advertises to clients (rcuda-gpu-monitor --advertise-host).
// It travels from the monitor through ssgmd into every ssgm output that
// shells evaluate (RCUDA_DEVICE_i=<host>@<port>:<gpu>), so it is held to
// what a host can be and nothing more: an RFC 1123 host name, an IPv4
// address in dotted-quad form, or an IPv6 address (bare, or in brackets as
// written on command lines). Checked by the monitor at start, by ssgmd on
// every report and journal record, and by ssgm before it prints.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda::sched {

// Checks `text` and gives the form stored and sent (IPv6 without brackets:
// the endpoint syntax adds them, "[::1]@8308:0").
Status NormalizeAdvertisedHost(std::string_view text, std::string* host);

// Whether `host` is already in the stored form.
bool IsValidAdvertisedHost(std::string_view host);

}  // namespace rcuda::sched
