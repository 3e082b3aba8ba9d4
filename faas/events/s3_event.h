// S3 event notifications: the JSON S3 (and MinIO, whose webhook target POSTs
// the same shape) sends when an object is created or removed, and the body of
// each queue message in the pipeline ({"Records":[one record]}).
//
//   {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
//     "eventTime":"2024-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",
//     "s3":{"bucket":{"name":"in"},"object":{"key":"jobs/a+b.fasta","size":1234,
//       "eTag":"...","versionId":"...","sequencer":"..."}}}]}
//
// Object keys are URL-encoded in events (a space as '+'); S3EventRecord holds
// them decoded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda::faas {

struct S3EventRecord {
  std::string event_version = "2.1";
  std::string event_source = "aws:s3";
  std::string aws_region;
  std::string event_time;  // ISO 8601
  std::string event_name;  // ObjectCreated:Put (MinIO: s3:ObjectCreated:Put)
  std::string bucket;
  std::string key;         // decoded
  uint64_t size = 0;
  std::string etag;        // without quotes
  std::string version_id;
  std::string sequencer;
};

struct S3EventLimits {
  size_t max_bytes = 1 << 20;  // the whole notification
  size_t max_records = 1000;
  size_t max_depth = 16;       // JSON nesting
};

// Parses a notification. A document without "Records" is an error, except
// S3's "s3:TestEvent" (sent when notifications are configured), which yields
// no records. Every error names the record and field at fault.
Status ParseS3EventNotification(std::string_view json, std::vector<S3EventRecord>* records,
                                const S3EventLimits& limits = S3EventLimits());

// {"Records":[...]}, keys URL-encoded as S3 does.
std::string S3EventNotificationJson(const std::vector<S3EventRecord>& records);

// True for ObjectCreated:* events (with or without MinIO's "s3:" prefix).
bool IsObjectCreatedEvent(const S3EventRecord& record);

// Event-key encoding: '+' for a space, %XX for bytes other than A-Z a-z 0-9
// - _ . ~ /; decoding fails on a malformed escape.
std::string EncodeEventKey(std::string_view key);
Status DecodeEventKey(std::string_view encoded, std::string* key);

}  // namespace rcuda::faas
