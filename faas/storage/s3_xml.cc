#include "faas/storage/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <functional>
#include <memory>
#include <vector>

namespace rcuda::faas {

namespace {

constexpr size_t kMaxXmlBytes = 16 * 1024 * 1024;
constexpr size_t kMaxTextBytes = 64 * 1024;  // a key is at most 1024 bytes

// Collects the text of elements by their path from the root
// ("ListBucketResult/Contents/Key") and hands each finished element to a
// callback. Depth and text sizes are capped.
class ElementReader {
 public:
  using OnElement = std::function<void(const std::string& path, const std::string& text)>;
  using OnStart = std::function<void(const std::string& path)>;

  // strict: an undeclared entity (s3rver writes HTML ones, &uuml;, for
  // non-ASCII characters) is an error; else it is kept as written.
  ElementReader(OnStart on_start, OnElement on_end, bool strict)
      : on_start_(std::move(on_start)), on_end_(std::move(on_end)), strict_(strict) {}

  Status Parse(std::string_view xml) {
    if (xml.size() > kMaxXmlBytes) return Status::InvalidValue("s3: XML answer larger than 16 MiB");
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"), XML_ParserFree);
    if (!parser) return Status::OutOfMemory("s3: cannot create an XML parser");
    XML_SetUserData(parser.get(), this);
    XML_SetElementHandler(parser.get(), &ElementReader::Start, &ElementReader::End);
    XML_SetCharacterDataHandler(parser.get(), &ElementReader::Text);
    // An external subset that is never loaded (no external entity handler):
    // undeclared entities then reach Skipped instead of failing the parse.
    XML_UseForeignDTD(parser.get(), XML_TRUE);
    XML_SetSkippedEntityHandler(parser.get(), &ElementReader::Skipped);
    if (XML_Parse(parser.get(), xml.data(), int(xml.size()), XML_TRUE) == XML_STATUS_ERROR) {
      return Status::InvalidValue(std::string("s3: malformed XML: ") + XML_ErrorString(XML_GetErrorCode(parser.get())) +
                                  " at line " + std::to_string(XML_GetCurrentLineNumber(parser.get())));
    }
    if (!error_.empty()) return Status::InvalidValue("s3: " + error_);
    return Status::Ok();
  }

 private:
  static void Start(void* data, const XML_Char* name, const XML_Char**) {
    auto* self = static_cast<ElementReader*>(data);
    if (self->stack_.size() >= 16) {
      self->error_ = "XML nested too deeply";
      return;
    }
    self->stack_.push_back(self->path_.size());
    if (!self->path_.empty()) self->path_ += '/';
    self->path_ += name;
    self->text_.clear();
    self->on_start_(self->path_);
  }
  static void End(void* data, const XML_Char*) {
    auto* self = static_cast<ElementReader*>(data);
    if (self->stack_.empty()) return;
    self->on_end_(self->path_, self->text_);
    self->path_.resize(self->stack_.back());
    self->stack_.pop_back();
    self->text_.clear();
  }
  static void Text(void* data, const XML_Char* text, int length) {
    auto* self = static_cast<ElementReader*>(data);
    if (self->text_.size() + size_t(length) > kMaxTextBytes) {
      self->error_ = "XML element text longer than 64 KiB";
      return;
    }
    self->text_.append(text, size_t(length));
  }

  static void Skipped(void* data, const XML_Char* name, int is_parameter_entity) {
    auto* self = static_cast<ElementReader*>(data);
    if (self->strict_) {
      self->error_ = std::string("undeclared XML entity &") + name + "; (the server's XML is not well-formed)";
    } else if (!is_parameter_entity) {
      self->text_ += std::string("&") + name + ";";
    }
  }

  OnStart on_start_;
  OnElement on_end_;
  bool strict_;
  std::string path_;
  std::vector<size_t> stack_;
  std::string text_;
  std::string error_;
};

}  // namespace

std::string TrimEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

Status ParseListObjectsV2(std::string_view xml, size_t max_objects, ListPage* page) {
  page->objects.clear();
  page->next_continuation_token.clear();
  bool truncated = false;
  bool saw_root = false;
  std::string error;
  ObjectInfo current;
  const std::string contents = "ListBucketResult/Contents";
  ElementReader reader(
      [&](const std::string& path) {
        if (path == "ListBucketResult") saw_root = true;
        if (path == contents) current = ObjectInfo();
      },
      [&](const std::string& path, const std::string& text) {
        if (path == contents) {
          if (current.key.empty()) {
            error = "ListObjectsV2: an entry without a Key";
          } else if (page->objects.size() >= max_objects) {
            error = "ListObjectsV2: more than " + std::to_string(max_objects) + " entries in one page";
          } else {
            page->objects.push_back(std::move(current));
          }
          current = ObjectInfo();
        } else if (path == contents + "/Key") {
          current.key = text;
        } else if (path == contents + "/Size") {
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), current.size);
          if (ec != std::errc() || end != text.data() + text.size()) error = "ListObjectsV2: bad Size '" + text + "'";
        } else if (path == contents + "/ETag") {
          current.etag = TrimEtag(text);
        } else if (path == contents + "/LastModified") {
          current.last_modified = text;
        } else if (path == contents + "/VersionId") {
          current.version_id = text;
        } else if (path == "ListBucketResult/IsTruncated") {
          truncated = text == "true";
        } else if (path == "ListBucketResult/NextContinuationToken") {
          page->next_continuation_token = text;
        }
      },
      /*strict=*/true);
  RCUDA_RETURN_IF_ERROR(reader.Parse(xml));
  if (!saw_root) return Status::InvalidValue("s3: ListObjectsV2 answer without <ListBucketResult>");
  if (!error.empty()) return Status::InvalidValue("s3: " + error);
  if (truncated && page->next_continuation_token.empty()) {
    return Status::InvalidValue("s3: ListObjectsV2 answer truncated without a NextContinuationToken");
  }
  if (!truncated) page->next_continuation_token.clear();
  return Status::Ok();
}

bool ParseS3Error(std::string_view xml, S3ErrorDocument* error) {
  bool saw_root = false;
  ElementReader reader([&](const std::string& path) { saw_root = saw_root || path == "Error"; },
                       [&](const std::string& path, const std::string& text) {
                         if (path == "Error/Code") error->code = text;
                         if (path == "Error/Message") error->message = text;
                       },
                       /*strict=*/false);
  return reader.Parse(xml).ok() && saw_root;
}

}  // namespace rcuda::faas
