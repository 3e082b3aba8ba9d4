#include "scheduler/json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace rcuda::sched {

namespace {

constexpr int kMaxDepth = 64;
// Members of one object. Json::Set looks a member up linearly (objects here
// are small), so an object of 100,000 members in a 1 MiB request line would
// cost the event loop minutes of comparisons; no message has more than a few
// dozen members.
constexpr size_t kMaxObjectMembers = 1024;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status ParseDocument(Json* value) {
    SkipSpace();
    RCUDA_RETURN_IF_ERROR(ParseValue(value, 0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the value");
    return Status::Ok();
  }

 private:
  Status Error(std::string what) const {
    return Status::InvalidValue("JSON: " + what + " at offset " + std::to_string(pos_));
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  Status ParseValue(Json* value, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (pos_ >= text_.size()) return Error("unexpected end");
    char c = text_[pos_];
    if (c == '{') return ParseObject(value, depth);
    if (c == '[') return ParseArray(value, depth);
    if (c == '"') {
      std::string s;
      RCUDA_RETURN_IF_ERROR(ParseString(&s));
      *value = Json(std::move(s));
      return Status::Ok();
    }
    if (Consume("true")) { *value = Json(true); return Status::Ok(); }
    if (Consume("false")) { *value = Json(false); return Status::Ok(); }
    if (Consume("null")) { *value = Json(); return Status::Ok(); }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(value);
    return Error(std::string("unexpected character '") + c + "'");
  }

  Status ParseObject(Json* value, int depth) {
    ++pos_;  // {
    Json object = Json::Object();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *value = std::move(object);
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a member name");
      std::string key;
      RCUDA_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      SkipSpace();
      Json member;
      RCUDA_RETURN_IF_ERROR(ParseValue(&member, depth + 1));
      object.Set(std::move(key), std::move(member));
      if (object.members().size() > kMaxObjectMembers) return Error("an object with too many members");
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == '}') { ++pos_; break; }
      return Error("expected ',' or '}'");
    }
    *value = std::move(object);
    return Status::Ok();
  }

  Status ParseArray(Json* value, int depth) {
    ++pos_;  // [
    Json array = Json::Array();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      *value = std::move(array);
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      Json item;
      RCUDA_RETURN_IF_ERROR(ParseValue(&item, depth + 1));
      array.Push(std::move(item));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == ']') { ++pos_; break; }
      return Error("expected ',' or ']'");
    }
    *value = std::move(array);
    return Status::Ok();
  }

  bool ParseHex4(uint32_t* out) {
    if (pos_ + 4 > text_.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return false;
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += char(cp);
    } else if (cp < 0x800) {
      *out += char(0xC0 | (cp >> 6));
      *out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += char(0xE0 | (cp >> 12));
      *out += char(0x80 | ((cp >> 6) & 0x3F));
      *out += char(0x80 | (cp & 0x3F));
    } else {
      *out += char(0xF0 | (cp >> 18));
      *out += char(0x80 | ((cp >> 12) & 0x3F));
      *out += char(0x80 | ((cp >> 6) & 0x3F));
      *out += char(0x80 | (cp & 0x3F));
    }
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return Status::Ok();
      if (uint8_t(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= text_.size()) return Error("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return Error("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low;
            if (!Consume("\\u") || !ParseHex4(&low) || low < 0xDC00 || low >= 0xE000) {
              return Error("unpaired surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
  }

  Status ParseNumber(Json* value) {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return Error("bad number");
    }
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) return Error("bad number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Error("bad number");
    }
    std::string literal(text_.substr(start, pos_ - start));
    if (integral) {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(literal.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') {
        *value = Json(int64_t(v));
        return Status::Ok();
      }
    }
    *value = Json(std::strtod(literal.c_str(), nullptr));
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

const Json* Json::Find(std::string_view key) const {
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

Json& Json::Set(std::string key, Json value) {
  type_ = Type::kObject;
  for (auto& [name, existing] : members_) {
    if (name == key) {
      existing = std::move(value);
      return *this;
    }
  }
  members_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  type_ = Type::kArray;
  items_.push_back(std::move(value));
  return *this;
}

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += '"';
  size_t plain_from = 0;  // runs of bytes that need no escape are appended at once
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '"' && c != '\\' && uint8_t(c) >= 0x20) continue;
    out->append(text.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        *out += "\\u00";
        *out += kHex[uint8_t(c) >> 4];
        *out += kHex[uint8_t(c) & 15];
    }
  }
  out->append(text.data() + plain_from, text.size() - plain_from);
  *out += '"';
}

void Json::DumpTo(std::string* out) const {
  switch (type_) {
    case Type::kNull: *out += "null"; break;
    case Type::kBool: *out += bool_ ? "true" : "false"; break;
    case Type::kNumber:
      if (is_integer_) {
        *out += std::to_string(integer_);
      } else if (!std::isfinite(double_)) {
        *out += "null";
      } else {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.17g", double_);
        *out += buffer;
      }
      break;
    case Type::kString: AppendJsonString(string_, out); break;
    case Type::kArray: {
      *out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) *out += ',';
        items_[i].DumpTo(out);
      }
      *out += ']';
      break;
    }
    case Type::kObject: {
      *out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) *out += ',';
        AppendJsonString(members_[i].first, out);
        *out += ':';
        members_[i].second.DumpTo(out);
      }
      *out += '}';
      break;
    }
  }
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

Status ParseJson(std::string_view text, Json* value) { return Parser(text).ParseDocument(value); }

Status GetInt(const Json& object, std::string_view key, int64_t* value) {
  const Json* member = object.Find(key);
  if (!member) return Status::InvalidValue("missing '" + std::string(key) + "'");
  if (!member->is_integer()) return Status::InvalidValue("'" + std::string(key) + "' must be an integer");
  *value = member->AsInt();
  return Status::Ok();
}

Status GetString(const Json& object, std::string_view key, std::string* value) {
  const Json* member = object.Find(key);
  if (!member) return Status::InvalidValue("missing '" + std::string(key) + "'");
  if (!member->is_string()) return Status::InvalidValue("'" + std::string(key) + "' must be a string");
  *value = member->AsString();
  return Status::Ok();
}

Status GetOptionalInt(const Json& object, std::string_view key, int64_t* value) {
  return object.Find(key) ? GetInt(object, key, value) : Status::Ok();
}

Status GetOptionalString(const Json& object, std::string_view key, std::string* value) {
  return object.Find(key) ? GetString(object, key, value) : Status::Ok();
}

Status GetOptionalBool(const Json& object, std::string_view key, bool* value) {
  const Json* member = object.Find(key);
  if (!member) return Status::Ok();
  if (!member->is_bool()) return Status::InvalidValue("'" + std::string(key) + "' must be true or false");
  *value = member->AsBool();
  return Status::Ok();
}

}  // namespace rcuda::sched
