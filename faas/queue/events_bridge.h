// The webhook bridge's core (rcuda-faas-events): an S3 or MinIO event
// notification in, one queue message per record out, each message body a
// notification of that one record ({"Records":[record]}).
#pragma once

#include <string>

#include "faas/events/s3_event.h"
#include "faas/queue/queue.h"

namespace rcuda::faas {

struct BridgeResult {
  int http_status = 200;  // 200 all published; 400 bad notification; 503 queue unavailable
  std::string message;    // for the answer's body and the log
  int published = 0;
  int skipped = 0;        // records not of a kind asked for
};

// Publishes the records of `notification`; only ObjectCreated:* ones unless
// all_events. A failure part-way answers 503 so that the sender retries the
// whole notification: records published before are then published again
// (at-least-once, as the queue).
BridgeResult BridgeNotification(const std::string& notification, bool all_events, Queue* queue,
                                const S3EventLimits& limits = S3EventLimits());

}  // namespace rcuda::faas
