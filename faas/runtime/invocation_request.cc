#include "faas/runtime/invocation_request.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/endpoint.h"
#include "faas/events/s3_event.h"
#include "faas/function/names.h"

namespace rcuda::faas {
namespace {

using nlohmann::json;

bool StartsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

bool AllOf(const std::string& text, const char* extra) {
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr(extra, c)) return false;
  }
  return true;
}

bool IsDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

const json* Member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// The record, as faas/events parsed it, checked for what rcuda-fn does with
// it: an object created in a valid bucket, whose key can name a local file.
Status CheckRecord(const S3EventRecord& record, EventObject* object) {
  if (record.event_source != "aws:s3" && record.event_source != "minio:s3") {
    return Status::InvalidValue("Records[0].eventSource: '" + record.event_source +
                                "' is not an S3 event (aws:s3 or minio:s3)");
  }
  if (!IsObjectCreatedEvent(record)) {
    return Status::InvalidValue("Records[0].eventName: '" + record.event_name + "' is not an ObjectCreated event");
  }
  if (!IsStrictBucketName(record.bucket)) {
    return Status::InvalidValue("Records[0].s3.bucket.name: not a valid bucket name");
  }
  Status key = CheckObjectKey(record.key);
  if (!key.ok()) return Status::InvalidValue("Records[0].s3.object.key: " + key.message());
  if (record.key.back() == '/') return Status::InvalidValue("Records[0].s3.object.key: a folder, not an object");
  object->bucket = record.bucket;
  object->key = record.key;
  object->event_name = record.event_name;
  object->size = record.size;
  return Status::Ok();
}

// A value of "rcuda": a string, or for the count a number.
Status LeaseValue(const std::string& name, const json& value, std::string* out) {
  if (value.is_string()) {
    *out = value.get<std::string>();
  } else if (value.is_number_unsigned()) {
    *out = std::to_string(value.get<uint64_t>());
  } else {
    return Status::InvalidValue("rcuda." + name + " must be a string");
  }
  return Status::Ok();
}

Status ParseLease(const json& rcuda, LeaseContext* lease) {
  if (!rcuda.is_object()) return Status::InvalidValue("rcuda must be an object of ssgm's variables");
  std::string job, count_text, token;
  std::vector<std::pair<int, std::string>> devices;
  for (const auto& [name, value] : rcuda.items()) {
    std::string text;
    RCUDA_RETURN_IF_ERROR(LeaseValue(name, value, &text));
    if (name == "SSGM_JOB_ID") {
      if (text.empty() || text.size() > 128 || !AllOf(text, "._:-")) {
        return Status::InvalidValue("rcuda.SSGM_JOB_ID: 1 to 128 of [A-Za-z0-9._:-]");
      }
      job = text;
    } else if (name == "RCUDA_DEVICE_COUNT") {
      count_text = text;
    } else if (name == "RCUDA_TOKEN") {
      if (text.empty() || text.size() > 16384 || !AllOf(text, "._-")) {
        return Status::InvalidValue("rcuda.RCUDA_TOKEN: 1 to 16384 of [A-Za-z0-9._-]");
      }
      token = text;
    } else if (StartsWith(name, "RCUDA_DEVICE_")) {
      std::string index = name.substr(13);
      if (!IsDigits(index) || index.size() > 2 || (index.size() > 1 && index[0] == '0')) {
        return Status::InvalidValue("rcuda." + name + ": not a device variable");
      }
      // ParseEndpoint takes any text for a host; a host name or address
      // has only these characters.
      Endpoint endpoint;
      Status s = ParseEndpoint(text, &endpoint);
      if (!s.ok() || text.size() > 300 || !AllOf(endpoint.host, ".-:%")) {
        return Status::InvalidValue("rcuda." + name + ": not host[@port][:gpu]");
      }
      devices.emplace_back(std::stoi(index), text);
    } else {
      return Status::InvalidValue("rcuda." + name + ": unknown (only SSGM_JOB_ID, RCUDA_DEVICE_COUNT, "
                                  "RCUDA_DEVICE_<i>, RCUDA_TOKEN)");
    }
  }
  if (count_text.empty()) return Status::InvalidValue("rcuda.RCUDA_DEVICE_COUNT: required");
  if (!IsDigits(count_text) || count_text.size() > 2 || count_text[0] == '0' ||
      std::stoi(count_text) > kMaxGpus) {
    return Status::InvalidValue("rcuda.RCUDA_DEVICE_COUNT: 1 to " + std::to_string(kMaxGpus));
  }
  int count = std::stoi(count_text);
  std::sort(devices.begin(), devices.end());
  if (int(devices.size()) != count) {
    return Status::InvalidValue("rcuda: RCUDA_DEVICE_COUNT is " + count_text + " but " +
                                std::to_string(devices.size()) + " RCUDA_DEVICE_<i> were given");
  }
  for (int i = 0; i < count; ++i) {
    if (devices[size_t(i)].first != i) return Status::InvalidValue("rcuda: RCUDA_DEVICE_" + std::to_string(i) + " missing");
  }
  lease->device_count = count;
  if (!job.empty()) lease->variables.emplace_back("SSGM_JOB_ID", job);
  lease->variables.emplace_back("RCUDA_DEVICE_COUNT", count_text);
  for (auto& [index, endpoint] : devices) lease->variables.emplace_back("RCUDA_DEVICE_" + std::to_string(index), endpoint);
  if (!token.empty()) lease->variables.emplace_back("RCUDA_TOKEN", token);
  return Status::Ok();
}

}  // namespace

Status ParseInvocationBody(std::string_view body, InvocationRequest* request) {
  InvocationRequest parsed;
  if (body.empty()) {
    *request = parsed;
    return Status::Ok();
  }
  json document = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Status::InvalidValue("the body is not JSON");
  if (!document.is_object()) return Status::InvalidValue("the body must be a JSON object");
  if (Member(document, "Records")) {
    S3EventLimits limits;
    limits.max_bytes = body.size();
    limits.max_records = 1;  // S3 sends one record per notification
    std::vector<S3EventRecord> records;
    Status parsed_records = ParseS3EventNotification(body, &records, limits);
    if (!parsed_records.ok()) return Status::InvalidValue(parsed_records.message() + " (one record per invocation)");
    if (records.size() == 1) {
      EventObject object;
      RCUDA_RETURN_IF_ERROR(CheckRecord(records[0], &object));
      parsed.object = std::move(object);
    }
  }
  if (const json* rcuda = Member(document, "rcuda")) RCUDA_RETURN_IF_ERROR(ParseLease(*rcuda, &parsed.lease));
  *request = std::move(parsed);
  return Status::Ok();
}

Status CheckRequestForFunction(const InvocationRequest& request, const FunctionDefinition& function) {
  if (request.object && !FindInputFor(function, request.object->bucket, request.object->key)) {
    return Status::InvalidValue("s3://" + request.object->bucket + "/" + request.object->key +
                                " is not under any input of function " + function.name);
  }
  if (function.gpu.count > 0 && request.lease.device_count == 0) {
    return Status::InvalidValue("function " + function.name + " needs " + std::to_string(function.gpu.count) +
                                " GPU(s): the invocation carries no lease (rcuda.RCUDA_DEVICE_*)");
  }
  if (request.lease.device_count != 0 && request.lease.device_count != function.gpu.count) {
    return Status::InvalidValue("the lease has " + std::to_string(request.lease.device_count) +
                                " device(s); function " + function.name + " needs " +
                                std::to_string(function.gpu.count));
  }
  return Status::Ok();
}

}  // namespace rcuda::faas
