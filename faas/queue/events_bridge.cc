#include "faas/queue/events_bridge.h"

#include <vector>

namespace rcuda::faas {

BridgeResult BridgeNotification(const std::string& notification, bool all_events, Queue* queue,
                                const S3EventLimits& limits) {
  BridgeResult result;
  std::vector<S3EventRecord> records;
  Status s = ParseS3EventNotification(notification, &records, limits);
  if (!s.ok()) {
    result.http_status = 400;
    result.message = s.message();
    return result;
  }
  for (const S3EventRecord& record : records) {
    if (!all_events && !IsObjectCreatedEvent(record)) {
      ++result.skipped;
      continue;
    }
    std::string id;
    s = queue->Publish(S3EventNotificationJson({record}), &id);
    if (!s.ok()) {
      result.http_status = s.ToCudaError() == kCudaErrorDevicesUnavailable ? 503 : 500;
      result.message = s.message();
      return result;
    }
    ++result.published;
  }
  result.message = "published " + std::to_string(result.published) + ", skipped " + std::to_string(result.skipped);
  return result;
}

}  // namespace rcuda::faas
