// What rcuda-faas's subcommands share: rcuda-fn's HTTP API as a client,
// s3:// URLs, the object store from the S3 configuration, key files.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "faas/function/function_definition.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas {

// $RCUDA_FN_URL, else http://127.0.0.1:9000.
std::string DefaultFnUrl();

// A key file's content without trailing whitespace; exits the program with a
// message when it cannot be read.
std::string ReadKeyFile(const std::string& path);

// "s3://bucket" or "s3://bucket/folder/..." (a trailing '/' allowed).
Status ParseS3Url(const std::string& url, StoragePath* path);

// S3ObjectStore from LoadS3Config (the AWS variables, RCUDA_S3_CONFIG).
Status OpenStore(std::unique_ptr<ObjectStore>* store);

Status WriteFileAtomically(const std::string& path, const std::string& text);

// rcuda-fn's API: one request, JSON back; a non-2xx answer is an error that
// carries rcuda-fn's message.
class FnClient {
 public:
  FnClient(std::string url, std::string key) : url_(std::move(url)), key_(std::move(key)) {}
  Status Request(const std::string& method, const std::string& path, const std::string& body, int* status,
                 nlohmann::json* reply) const;
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string key_;
};

}  // namespace rcuda::faas
