// The benchmark's uploads: COUNT small objects put into the input bucket,
// either all at once (a burst: THREADS uploads in flight at a time) or paced
// (one every INTERVAL, from one thread). Each upload's start and completion
// (its PUT's answer read) go to a JSON-lines log, so that "upload to
// function start" is measured from the moment the uploader knew its upload
// was stored.
#pragma once

#include <string>

#include "common/status.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas_bench {

struct UploadOptions {
  std::string bucket;
  std::string prefix;       // keys: prefix + name_prefix + index (6 digits) + ".job"
  std::string name_prefix;  // tells this phase's inputs apart from another's
  int count = 0;
  int threads = 4;          // a burst's uploads in flight at once
  double interval_ms = 0;   // > 0: paced, one upload every interval
  int size = 64;            // bytes per object
  std::string log_path;     // {"key", "start_ms", "done_ms", "ok", "error"?} per upload
};

// Fails when any upload failed (every one is still attempted and logged).
Status Upload(faas::ObjectStore& store, const UploadOptions& options);

}  // namespace rcuda::faas_bench
