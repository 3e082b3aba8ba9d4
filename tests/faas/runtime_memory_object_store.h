// TEST EQUIPMENT: an ObjectStore held in memory, for the runtime's tests.
// It is not an S3 client and stores nothing durably; it exists so that the
// invocation runner and rcuda-fn's API can be tested without an S3 server.
// It honours the interface's size caps and the GetFile .part-then-rename
// rule, and can be told to fail (a store that is down) to test how the
// runtime reports that.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "faas/storage/object_store.h"

namespace rcuda::faas::testing {

class MemoryObjectStore : public ObjectStore {
 public:
  Status CreateBucket(const std::string& bucket) override {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_[bucket];
    return Status::Ok();
  }

  Status Put(const std::string& bucket, const std::string& key, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) return Status::IoError("MemoryObjectStore: told to fail");
    auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return Status::InvalidValue("MemoryObjectStore: no bucket " + bucket);
    it->second[key] = std::string(data);
    return Status::Ok();
  }

  Status PutFile(const std::string& bucket, const std::string& key, const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IoError("MemoryObjectStore: cannot read " + path);
    std::ostringstream data;
    data << in.rdbuf();
    return Put(bucket, key, data.str());
  }

  Status Get(const std::string& bucket, const std::string& key, std::string* data, uint64_t max_bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) return Status::IoError("MemoryObjectStore: told to fail");
    const std::string* object = Find(bucket, key);
    if (!object) return Status::InvalidValue("MemoryObjectStore: no object " + bucket + "/" + key);
    if (object->size() > max_bytes) return Status::InvalidValue("MemoryObjectStore: object larger than the cap");
    *data = *object;
    return Status::Ok();
  }

  Status GetFile(const std::string& bucket, const std::string& key, const std::string& path,
                 uint64_t max_bytes) override {
    std::string data;
    RCUDA_RETURN_IF_ERROR(Get(bucket, key, &data, max_bytes));
    std::string part = path + ".part";
    {
      std::ofstream out(part, std::ios::binary | std::ios::trunc);
      out << data;
      if (!out) return Status::IoError("MemoryObjectStore: cannot write " + part);
    }
    if (std::rename(part.c_str(), path.c_str()) != 0) return Status::IoError("MemoryObjectStore: rename failed");
    return Status::Ok();
  }

  Status Head(const std::string& bucket, const std::string& key, ObjectInfo* info, bool* exists) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) return Status::IoError("MemoryObjectStore: told to fail");
    const std::string* object = Find(bucket, key);
    *exists = object != nullptr;
    if (object) {
      info->key = key;
      info->size = object->size();
    }
    return Status::Ok();
  }

  Status Delete(const std::string& bucket, const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buckets_.find(bucket);
    if (it != buckets_.end()) it->second.erase(key);
    return Status::Ok();
  }

  Status List(const std::string& bucket, const std::string& prefix, const std::string& continuation_token,
              int max_keys, ListPage* page) override {
    std::lock_guard<std::mutex> lock(mu_);
    page->objects.clear();
    page->next_continuation_token.clear();
    auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return Status::InvalidValue("MemoryObjectStore: no bucket " + bucket);
    for (auto object = it->second.upper_bound(continuation_token); object != it->second.end(); ++object) {
      if (object->first.rfind(prefix, 0) != 0) continue;
      if (int(page->objects.size()) == max_keys) {
        page->next_continuation_token = page->objects.back().key;
        break;
      }
      ObjectInfo info;
      info.key = object->first;
      info.size = object->second.size();
      page->objects.push_back(info);
    }
    return Status::Ok();
  }

  // Test controls.
  void SetFailing(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = fail;
  }
  std::map<std::string, std::string> Objects(const std::string& bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    return buckets_[bucket];
  }

 private:
  const std::string* Find(const std::string& bucket, const std::string& key) const {
    auto it = buckets_.find(bucket);
    if (it == buckets_.end()) return nullptr;
    auto object = it->second.find(key);
    return object == it->second.end() ? nullptr : &object->second;
  }

  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> buckets_;  // guarded by mu_
  bool fail_ = false;                                                   // guarded by mu_
};

}  // namespace rcuda::faas::testing
