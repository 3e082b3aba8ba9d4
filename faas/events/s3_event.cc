#include "faas/events/s3_event.h"

#include <nlohmann/json.hpp>

namespace rcuda::faas {

namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads record[index] field by field; every failure says where.
class RecordReader {
 public:
  RecordReader(const json& record, size_t index) : record_(record), where_("Records[" + std::to_string(index) + "]") {}

  // Finds an object member along a path of names; nullptr when absent.
  Status Find(std::initializer_list<const char*> path, const json** out) const {
    const json* node = &record_;
    std::string at = where_;
    for (const char* name : path) {
      if (!node->is_object()) return Status::InvalidValue("s3 event: " + at + " is not an object");
      auto it = node->find(name);
      at += std::string(".") + name;
      if (it == node->end()) {
        *out = nullptr;
        return Status::Ok();
      }
      node = &*it;
    }
    *out = node;
    return Status::Ok();
  }

  Status String(std::initializer_list<const char*> path, bool required, std::string* out) const {
    const json* value = nullptr;
    RCUDA_RETURN_IF_ERROR(Find(path, &value));
    if (!value) return required ? Status::InvalidValue("s3 event: " + Name(path) + " is missing") : Status::Ok();
    if (!value->is_string()) return Status::InvalidValue("s3 event: " + Name(path) + " is not a string");
    *out = value->get<std::string>();
    return Status::Ok();
  }

  Status Size(std::initializer_list<const char*> path, uint64_t* out) const {
    const json* value = nullptr;
    RCUDA_RETURN_IF_ERROR(Find(path, &value));
    if (!value) return Status::Ok();
    if (!value->is_number_unsigned() && !(value->is_number_integer() && value->get<int64_t>() >= 0)) {
      return Status::InvalidValue("s3 event: " + Name(path) + " is not a non-negative integer");
    }
    *out = value->get<uint64_t>();
    return Status::Ok();
  }

  std::string Name(std::initializer_list<const char*> path) const {
    std::string name = where_;
    for (const char* part : path) name += std::string(".") + part;
    return name;
  }

 private:
  const json& record_;
  std::string where_;
};

Status ReadRecord(const json& record, size_t index, S3EventRecord* out) {
  if (!record.is_object()) return Status::InvalidValue("s3 event: Records[" + std::to_string(index) + "] is not an object");
  RecordReader r(record, index);
  RCUDA_RETURN_IF_ERROR(r.String({"eventName"}, true, &out->event_name));
  RCUDA_RETURN_IF_ERROR(r.String({"eventVersion"}, false, &out->event_version));
  RCUDA_RETURN_IF_ERROR(r.String({"eventSource"}, false, &out->event_source));
  RCUDA_RETURN_IF_ERROR(r.String({"awsRegion"}, false, &out->aws_region));
  RCUDA_RETURN_IF_ERROR(r.String({"eventTime"}, false, &out->event_time));
  RCUDA_RETURN_IF_ERROR(r.String({"s3", "bucket", "name"}, true, &out->bucket));
  std::string encoded_key;
  RCUDA_RETURN_IF_ERROR(r.String({"s3", "object", "key"}, true, &encoded_key));
  Status s = DecodeEventKey(encoded_key, &out->key);
  if (!s.ok()) return Status::InvalidValue(s.message() + " in " + r.Name({"s3", "object", "key"}));
  if (out->bucket.empty() || out->key.empty()) {
    return Status::InvalidValue("s3 event: Records[" + std::to_string(index) + "] has an empty bucket or key");
  }
  RCUDA_RETURN_IF_ERROR(r.Size({"s3", "object", "size"}, &out->size));
  RCUDA_RETURN_IF_ERROR(r.String({"s3", "object", "eTag"}, false, &out->etag));
  RCUDA_RETURN_IF_ERROR(r.String({"s3", "object", "versionId"}, false, &out->version_id));
  RCUDA_RETURN_IF_ERROR(r.String({"s3", "object", "sequencer"}, false, &out->sequencer));
  return Status::Ok();
}

}  // namespace

std::string EncodeEventKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '~' || c == '/';
    if (keep) {
      out.push_back(char(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status DecodeEventKey(std::string_view encoded, std::string* key) {
  key->clear();
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '+') {
      key->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= encoded.size()) {
        return Status::InvalidValue("s3 event: truncated %-escape at byte " + std::to_string(i));
      }
      int high = HexValue(encoded[i + 1]);
      int low = HexValue(encoded[i + 2]);
      if (high < 0 || low < 0) return Status::InvalidValue("s3 event: malformed %-escape at byte " + std::to_string(i));
      key->push_back(char(high * 16 + low));
      i += 2;
    } else {
      key->push_back(c);
    }
  }
  return Status::Ok();
}

bool IsObjectCreatedEvent(const S3EventRecord& record) {
  std::string_view name = record.event_name;
  if (name.substr(0, 3) == "s3:") name.remove_prefix(3);
  return name.substr(0, 14) == "ObjectCreated:";
}

Status ParseS3EventNotification(std::string_view text, std::vector<S3EventRecord>* records,
                                const S3EventLimits& limits) {
  records->clear();
  if (text.size() > limits.max_bytes) {
    return Status::InvalidValue("s3 event: notification of " + std::to_string(text.size()) + " bytes (limit " +
                                std::to_string(limits.max_bytes) + ")");
  }
  bool too_deep = false;
  json::parser_callback_t depth_check = [&](int depth, json::parse_event_t, json&) {
    if (size_t(depth) > limits.max_depth) too_deep = true;
    return !too_deep;  // nothing deeper is kept
  };
  json doc = json::parse(text.begin(), text.end(), depth_check, /*allow_exceptions=*/false);
  if (too_deep) return Status::InvalidValue("s3 event: JSON nested deeper than " + std::to_string(limits.max_depth));
  if (doc.is_discarded()) return Status::InvalidValue("s3 event: not valid JSON");
  if (!doc.is_object()) return Status::InvalidValue("s3 event: the notification is not a JSON object");
  auto it = doc.find("Records");
  if (it == doc.end()) {
    auto event = doc.find("Event");
    if (event != doc.end() && event->is_string() && event->get<std::string>() == "s3:TestEvent") return Status::Ok();
    return Status::InvalidValue("s3 event: no Records");
  }
  if (!it->is_array()) return Status::InvalidValue("s3 event: Records is not an array");
  if (it->size() > limits.max_records) {
    return Status::InvalidValue("s3 event: " + std::to_string(it->size()) + " records (limit " +
                                std::to_string(limits.max_records) + ")");
  }
  records->resize(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    Status s = ReadRecord((*it)[i], i, &(*records)[i]);
    if (!s.ok()) {
      records->clear();
      return s;
    }
  }
  return Status::Ok();
}

std::string S3EventNotificationJson(const std::vector<S3EventRecord>& records) {
  json list = json::array();
  for (const S3EventRecord& r : records) {
    json object = {{"key", EncodeEventKey(r.key)}, {"size", r.size}};
    if (!r.etag.empty()) object["eTag"] = r.etag;
    if (!r.version_id.empty()) object["versionId"] = r.version_id;
    if (!r.sequencer.empty()) object["sequencer"] = r.sequencer;
    json record = {{"eventVersion", r.event_version},
                   {"eventSource", r.event_source},
                   {"eventName", r.event_name},
                   {"s3", {{"s3SchemaVersion", "1.0"}, {"bucket", {{"name", r.bucket}}}, {"object", object}}}};
    if (!r.aws_region.empty()) record["awsRegion"] = r.aws_region;
    if (!r.event_time.empty()) record["eventTime"] = r.event_time;
    list.push_back(std::move(record));
  }
  // Replacement characters for invalid UTF-8 in keys, instead of throwing.
  return json{{"Records", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace rcuda::faas
