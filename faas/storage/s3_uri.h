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

// Bucket names as S3 and its look-alikes accept them: 3 to 63 characters of
// a-z 0-9 . - (and, for older buckets, A-Z _).
bool IsValidBucketName(std::string_view bucket);
// A bucket name usable as a DNS label under HTTPS (no dots, lower case).
bool IsVirtualHostBucket(std::string_view bucket);

}  // namespace rcuda::faas
