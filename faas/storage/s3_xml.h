// The XML S3 answers with, read with expat: ListObjectsV2 results and error
// documents. Sizes are capped before parsing; anything malformed is an error.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas {

// <ListBucketResult>: Contents (Key, Size, ETag, LastModified, VersionId),
// IsTruncated, NextContinuationToken. At most max_objects entries accepted.
Status ParseListObjectsV2(std::string_view xml, size_t max_objects, ListPage* page);

struct S3ErrorDocument {
  std::string code;     // e.g. NoSuchKey, SlowDown
  std::string message;
};
// <Error><Code>..</Code><Message>..</Message></Error>; false when the text is
// not such a document.
bool ParseS3Error(std::string_view xml, S3ErrorDocument* error);

// An ETag as S3 sends it ("..." with quotes, or &quot;...&quot; decoded by
// the XML parser), without the quotes.
std::string TrimEtag(std::string_view etag);

}  // namespace rcuda::faas
