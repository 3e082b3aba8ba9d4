// URI encoding as S3's Signature V4 canonical request expects it, and the
// query strings built from it. libcurl 7.88 signs the path and the query
// exactly as given (it neither re-encodes nor sorts), so what is sent must
// already be canonical: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper
// case hex), '/' kept in paths, parameters sorted by name.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rcuda::faas {

std::string S3UriEncode(std::string_view text, bool keep_slash);

// name=value pairs, encoded and sorted (the canonical query string).
std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// Bucket names S3 and its look-alikes may accept: 1 to 255 characters of
// A-Z a-z 0-9 . - _ (AWS's rules for new buckets are stricter, 3 to 63 of
// a-z 0-9 . -; the service itself says no to what it refuses). Anything else
// (a '/', a space) never reaches a URL.
bool IsValidBucketName(std::string_view bucket);
// A bucket name usable as a DNS label: 3 to 63 of a-z 0-9 -, not starting
// or ending with '-' (no dots, so that TLS certificates match).
bool IsVirtualHostBucket(std::string_view bucket);

}  // namespace rcuda::faas
