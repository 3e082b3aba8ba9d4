// S3Config: where an S3ObjectStore connects and how it signs, read from the
// usual AWS environment variables and an optional JSON file of our own
// (docs/faas.md, "S3 configuration").
#pragma once

#include <string>

#include "common/status.h"

namespace rcuda::faas {

enum class S3Addressing {
  kAuto,         // virtual host on AWS (DNS-safe bucket names), path elsewhere
  kPath,         // http://endpoint/bucket/key (MinIO, Ceph RGW, s3rver)
  kVirtualHost,  // http://bucket.endpoint/key
};

struct S3Config {
  // scheme://host[:port][/base path]. Empty: https://s3.REGION.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  // Empty access key: requests go unsigned (anonymous).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // sent as x-amz-security-token when set
  S3Addressing addressing = S3Addressing::kAuto;

  // Retries of 5xx answers and connection errors: at most max_attempts tries
  // in all, with exponential backoff from backoff_initial_ms, capped at
  // backoff_max_ms, with jitter.
  int max_attempts = 4;
  int backoff_initial_ms = 100;
  int backoff_max_ms = 2000;
  int connect_timeout_ms = 5000;
  // A transfer slower than 1 byte/s for this long is abandoned (and retried).
  int stall_timeout_ms = 30000;
  bool verify_tls = true;
  std::string ca_file;  // empty: the system's CA bundle
};

// Defaults, then the JSON file named by RCUDA_S3_CONFIG (when set), then the
// environment: AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL), AWS_REGION (else
// AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, RCUDA_S3_ADDRESSING (auto|path|virtual).
Status LoadS3Config(S3Config* config);

// Applies a JSON object's fields to *config (the RCUDA_S3_CONFIG format):
// endpoint, region, access_key_id, secret_access_key, session_token,
// addressing, max_attempts, connect_timeout_ms, verify_tls, ca_file.
// Unknown fields are an error (a misspelt key must not pass silently).
Status ApplyS3ConfigJson(const std::string& text, S3Config* config);

Status ParseS3Addressing(const std::string& text, S3Addressing* addressing);

}  // namespace rcuda::faas
