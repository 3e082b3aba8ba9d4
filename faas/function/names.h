// What counts as a safe name in the serverless parts: function names (which
// appear in URLs and file names), bucket names and object keys (which come
// from events anyone who can upload may shape), environment variable names,
// and the sizes definitions write ("1GiB").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rcuda::faas {

// 1 to 64 of [A-Za-z0-9_-], starting with a letter or digit (Lambda's
// characters; safe in a URL path segment and as a file name).
bool IsValidFunctionName(std::string_view name);

// S3's rules for new buckets: 3 to 63 of [a-z0-9.-], starting and ending
// with a letter or digit, no "..", not an IP address. (faas/storage's
// IsValidBucketName also lets through legacy names with capitals and '_'.)
bool IsStrictBucketName(std::string_view bucket);

// An object key safe to turn into a local file name and back: 1 to 1024
// bytes, no NUL or other control character, no leading '/', no segment that
// is "." or "..", no backslash. Empty segments ("a//b") are refused too.
Status CheckObjectKey(std::string_view key);

// A folder inside a bucket as definitions write it (no leading or trailing
// '/'): the same rules as a key; may be empty.
Status CheckFolder(std::string_view folder);

// [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes.
bool IsValidEnvironmentName(std::string_view name);

// A size with a unit, binary as ssgm reads them: "1GiB", "1G", "512MiB",
// "512M", "1.5GiB", "64KiB", "1TiB", "4096B" (case does not matter). A bare
// number is refused: definitions state their unit.
Status ParseSizeWithUnit(std::string_view text, uint64_t* bytes);

}  // namespace rcuda::faas
