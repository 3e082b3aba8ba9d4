#include "faas/cli/cli_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "faas/function/names.h"
#include "faas/storage/s3_config.h"
#include "faas/storage/s3_object_store.h"

namespace rcuda::faas {

std::string DefaultFnUrl() {
  const char* url = std::getenv("RCUDA_FN_URL");
  return url && *url ? url : "http://127.0.0.1:9000";
}

std::string ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "rcuda-faas: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  return key;
}

Status ParseS3Url(const std::string& url, StoragePath* path) {
  if (url.rfind("s3://", 0) != 0) return Status::InvalidValue("'" + url + "' is not an s3://BUCKET[/PREFIX] URL");
  std::string rest = url.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t slash = rest.find('/');
  path->storage_provider = "s3";
  path->bucket = rest.substr(0, slash);
  path->folder = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!IsStrictBucketName(path->bucket)) return Status::InvalidValue("'" + path->bucket + "' is not a bucket name");
  Status folder = CheckFolder(path->folder);
  if (!folder.ok()) return Status::InvalidValue(url + ": " + folder.message());
  return Status::Ok();
}

Status OpenStore(std::unique_ptr<ObjectStore>* store) {
  S3Config config;
  RCUDA_RETURN_IF_ERROR(LoadS3Config(&config));
  std::unique_ptr<S3ObjectStore> s3;
  RCUDA_RETURN_IF_ERROR(S3ObjectStore::Create(config, &s3));
  *store = std::move(s3);
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("create " + tmp + ": " + std::strerror(errno));
  bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::IoError("write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status FnClient::Request(const std::string& method, const std::string& path, const std::string& body, int* status,
                         nlohmann::json* reply) const {
  httplib::Client client(url_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(60, 0);
  httplib::Headers headers;
  if (!key_.empty()) headers.emplace("Authorization", "Bearer " + key_);
  httplib::Result result = method == "PUT"  ? client.Put(path.c_str(), headers, body, "application/yaml")
                           : method == "GET" ? client.Get(path.c_str(), headers)
                                             : client.Delete(path.c_str(), headers);
  if (!result) return Status::Unavailable("no answer from rcuda-fn at " + url_ + " (" + httplib::to_string(result.error()) + ")");
  *status = result->status;
  *reply = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (result->status / 100 != 2) {
    std::string message = reply->is_object() && reply->contains("message") && (*reply)["message"].is_string()
                              ? (*reply)["message"].get<std::string>()
                              : result->body;
    return Status::InvalidValue("rcuda-fn answered " + std::to_string(result->status) + ": " + message);
  }
  if (reply->is_discarded()) *reply = nlohmann::json::object();
  return Status::Ok();
}

}  // namespace rcuda::faas
