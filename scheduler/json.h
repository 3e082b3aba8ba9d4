// A small JSON value, parser and writer: the wire format between ssgm, the
// monitor and ssgmd, the journal's records, ssgm's --format json and
// rcuda-server's status file all use it. No JSON library is among the
// project's dependencies, and this much is short.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rcuda::sched {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  Json(bool value) : type_(Type::kBool), bool_(value) {}
  Json(int value) : Json(int64_t(value)) {}
  Json(int64_t value) : type_(Type::kNumber), is_integer_(true), integer_(value), double_(double(value)) {}
  Json(uint64_t value) : Json(int64_t(value)) {}
  // A double beyond int64_t's range (1e300, inf, NaN: from any number
  // ParseJson reads) has no integer value; converting it would be undefined.
  Json(double value)
      : type_(Type::kNumber), integer_(value >= -0x1p63 && value < 0x1p63 ? int64_t(value) : 0), double_(value) {}
  Json(std::string value) : type_(Type::kString), string_(std::move(value)) {}
  Json(std::string_view value) : Json(std::string(value)) {}
  Json(const char* value) : Json(std::string(value)) {}

  static Json Array() { Json j; j.type_ = Type::kArray; return j; }
  static Json Object() { Json j; j.type_ = Type::kObject; return j; }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_integer() const { return type_ == Type::kNumber && is_integer_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool AsBool() const { return bool_; }
  int64_t AsInt() const { return integer_; }
  double AsDouble() const { return double_; }
  const std::string& AsString() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Object member lookup; nullptr when absent or when this is not an object.
  const Json* Find(std::string_view key) const;

  // Builders. Set() adds or replaces an object member; Push() appends to an array.
  Json& Set(std::string key, Json value);
  Json& Push(Json value);

  std::string Dump() const;
  void DumpTo(std::string* out) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  int64_t integer_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses one JSON value (surrounding whitespace allowed, nothing else).
Status ParseJson(std::string_view text, Json* value);

// Appends `text` as a JSON string literal (quoted, escaped).
void AppendJsonString(std::string_view text, std::string* out);

// Typed member access for decoders: each fails with a message naming the
// member when it is missing or of the wrong type.
Status GetInt(const Json& object, std::string_view key, int64_t* value);
Status GetString(const Json& object, std::string_view key, std::string* value);
// Optional members: leave *value unchanged when absent, fail on a wrong type.
Status GetOptionalInt(const Json& object, std::string_view key, int64_t* value);
Status GetOptionalString(const Json& object, std::string_view key, std::string* value);
Status GetOptionalBool(const Json& object, std::string_view key, bool* value);

}  // namespace rcuda::sched
