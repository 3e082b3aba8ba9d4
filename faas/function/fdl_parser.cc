#include "faas/function/fdl_parser.h"

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "faas/function/names.h"

namespace rcuda::faas {
namespace {

namespace fs = std::filesystem;

// The entries of a YAML mapping, in order, with duplicate keys refused
// (yaml-cpp keeps both silently, and a reader could see either).
struct Entries {
  std::vector<std::pair<std::string, YAML::Node>> items;

  const YAML::Node* Find(const std::string& key) const {
    for (const auto& item : items) {
      if (item.first == key) return &item.second;
    }
    return nullptr;
  }
};

class Parser {
 public:
  Parser(const FdlParseOptions& options, FdlDocument* document) : options_(options), document_(document) {}

  Status Root(const YAML::Node& root);

 private:
  Status MapEntries(const YAML::Node& node, const std::string& where, Entries* entries);
  Status String(const YAML::Node& node, const std::string& where, std::string* out);
  Status Int(const YAML::Node& node, const std::string& where, int* out);
  Status StringOrList(const YAML::Node& node, const std::string& where, std::vector<std::string>* out);
  Status Environment(const YAML::Node& node, const std::string& where, std::map<std::string, std::string>* env);
  Status Path(const YAML::Node& node, const std::string& where, bool output, OutputSpec* spec);
  Status Paths(const YAML::Node& node, const std::string& where, bool output, std::vector<OutputSpec>* specs);
  Status Container(const YAML::Node& node, const std::string& where, FunctionDefinition* d);
  Status Gpu(const YAML::Node& node, const std::string& where, GpuRequirement* gpu);
  Status ReadScriptFile(const std::string& relative, const std::string& where, std::string* script);
  Status Lambda(const YAML::Node& node, const std::string& where, FunctionDefinition* d);

  void Warn(const std::string& message) { document_->warnings.push_back(message); }
  void Unknown(const std::string& where, const std::string& key) {
    Warn(where + "." + key + ": unknown key, ignored");
  }

  const FdlParseOptions& options_;
  FdlDocument* document_;
};

Status Parser::MapEntries(const YAML::Node& node, const std::string& where, Entries* entries) {
  if (!node.IsMap()) return Status::InvalidValue(where + ": must be a mapping");
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) return Status::InvalidValue(where + ": a key is not a plain name");
    std::string key = it->first.Scalar();
    if (!seen.insert(key).second) return Status::InvalidValue(where + "." + key + ": given twice");
    entries->items.emplace_back(key, it->second);
  }
  return Status::Ok();
}

Status Parser::String(const YAML::Node& node, const std::string& where, std::string* out) {
  if (!node.IsScalar()) return Status::InvalidValue(where + ": must be a string");
  *out = node.Scalar();
  return Status::Ok();
}

Status Parser::Int(const YAML::Node& node, const std::string& where, int* out) {
  if (!node.IsScalar()) return Status::InvalidValue(where + ": must be an integer");
  const std::string& text = node.Scalar();
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidValue(where + ": '" + text + "' is not an integer");
  }
  *out = value;
  return Status::Ok();
}

Status Parser::StringOrList(const YAML::Node& node, const std::string& where, std::vector<std::string>* out) {
  if (node.IsScalar()) {
    out->push_back(node.Scalar());
    return Status::Ok();
  }
  if (!node.IsSequence()) return Status::InvalidValue(where + ": must be a list of strings");
  if (node.size() > kMaxFilters) return Status::InvalidValue(where + ": more than 64 entries");
  for (size_t i = 0; i < node.size(); ++i) {
    std::string item;
    RCUDA_RETURN_IF_ERROR(String(node[i], where + "[" + std::to_string(i) + "]", &item));
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

Status Parser::Environment(const YAML::Node& node, const std::string& where,
                           std::map<std::string, std::string>* env) {
  Entries entries;
  RCUDA_RETURN_IF_ERROR(MapEntries(node, where, &entries));
  for (const auto& [key, value] : entries.items) {
    if (key != "Variables") {
      Unknown(where, key);
      continue;
    }
    Entries variables;
    RCUDA_RETURN_IF_ERROR(MapEntries(value, where + ".Variables", &variables));
    for (const auto& [name, text] : variables.items) {
      // Lambda's environment values are strings; YAML's numbers and booleans
      // arrive here as their text ("1", "true").
      if (text.IsNull()) {  // "KEY:" with nothing after it
        (*env)[name] = "";
        continue;
      }
      RCUDA_RETURN_IF_ERROR(String(text, where + ".Variables." + name, &(*env)[name]));
    }
  }
  return Status::Ok();
}

Status Parser::Path(const YAML::Node& node, const std::string& where, bool output, OutputSpec* spec) {
  Entries entries;
  RCUDA_RETURN_IF_ERROR(MapEntries(node, where, &entries));
  bool have_provider = false, have_path = false;
  for (const auto& [key, value] : entries.items) {
    if (key == "storage_provider") {
      RCUDA_RETURN_IF_ERROR(String(value, where + "." + key, &spec->path.storage_provider));
      have_provider = true;
    } else if (key == "path") {
      std::string text;
      RCUDA_RETURN_IF_ERROR(String(value, where + "." + key, &text));
      while (!text.empty() && text.back() == '/') text.pop_back();
      size_t slash = text.find('/');
      spec->path.bucket = text.substr(0, slash);
      spec->path.folder = slash == std::string::npos ? "" : text.substr(slash + 1);
      have_path = true;
    } else if (output && key == "prefix") {
      RCUDA_RETURN_IF_ERROR(StringOrList(value, where + "." + key, &spec->prefixes));
    } else if (output && key == "suffix") {
      RCUDA_RETURN_IF_ERROR(StringOrList(value, where + "." + key, &spec->suffixes));
    } else {
      Unknown(where, key);
    }
  }
  if (!have_provider) return Status::InvalidValue(where + ".storage_provider: required");
  if (!have_path) return Status::InvalidValue(where + ".path: required");
  return Status::Ok();
}

Status Parser::Paths(const YAML::Node& node, const std::string& where, bool output,
                     std::vector<OutputSpec>* specs) {
  if (!node.IsSequence()) return Status::InvalidValue(where + ": must be a list");
  if (node.size() > (output ? kMaxOutputs : kMaxInputs)) return Status::InvalidValue(where + ": more than 16 entries");
  for (size_t i = 0; i < node.size(); ++i) {
    OutputSpec spec;
    RCUDA_RETURN_IF_ERROR(Path(node[i], where + "[" + std::to_string(i) + "]", output, &spec));
    specs->push_back(std::move(spec));
  }
  return Status::Ok();
}

Status Parser::Container(const YAML::Node& node, const std::string& where, FunctionDefinition* d) {
  Entries entries;
  RCUDA_RETURN_IF_ERROR(MapEntries(node, where, &entries));
  for (const auto& [key, value] : entries.items) {
    if (key == "image") {
      return Status::InvalidValue(where + ".image: rcuda-fn runs no containers: the script runs on the rcuda-fn "
                                  "host (in its sandbox); remove the image and install the programs there");
    } else if (key == "environment") {
      // SCAR gives these to the script; so does rcuda-fn (after lambda's).
      std::map<std::string, std::string> env;
      RCUDA_RETURN_IF_ERROR(Environment(value, where + ".environment", &env));
      for (auto& [name, text] : env) d->environment[name] = std::move(text);
    } else if (key == "timeout_threshold") {
      Warn(where + ".timeout_threshold: ignored by rcuda-fn (uploads are not counted in the timeout)");
    } else {
      Unknown(where, key);
    }
  }
  return Status::Ok();
}

Status Parser::Gpu(const YAML::Node& node, const std::string& where, GpuRequirement* gpu) {
  Entries entries;
  RCUDA_RETURN_IF_ERROR(MapEntries(node, where, &entries));
  for (const auto& [key, value] : entries.items) {
    if (key == "count") {
      RCUDA_RETURN_IF_ERROR(Int(value, where + ".count", &gpu->count));
    } else if (key == "memory") {
      std::string text;
      RCUDA_RETURN_IF_ERROR(String(value, where + ".memory", &text));
      Status s = ParseSizeWithUnit(text, &gpu->memory_bytes);
      if (!s.ok()) return Status::InvalidValue(where + ".memory: " + s.message());
    } else {
      Unknown(where, key);
    }
  }
  return Status::Ok();
}

Status Parser::ReadScriptFile(const std::string& relative, const std::string& where, std::string* script) {
  if (options_.base_dir.empty()) {
    return Status::InvalidValue(where + ": a file name is not accepted here; give the script's text as `script:` "
                                "(rcuda-faas deploy inlines init_script)");
  }
  fs::path path = fs::path(relative).is_absolute() ? fs::path(relative) : fs::path(options_.base_dir) / relative;
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidValue(where + ": " + path.string() + " is not a readable file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxScriptBytes) {
    return Status::InvalidValue(where + ": " + path.string() + " is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::InvalidValue(where + ": cannot read " + path.string());
  *script = text.str();
  if (script->size() > kMaxScriptBytes) return Status::InvalidValue(where + ": larger than 1 MiB");
  return Status::Ok();
}

Status Parser::Lambda(const YAML::Node& node, const std::string& where, FunctionDefinition* d) {
  static const std::set<std::string> kIgnored = {
      "boto_profile", "region", "layers", "supervisor", "runtime", "handler", "description", "tags",
      "asynchronous", "invocation_type", "log_type", "file_system", "vpc", "deployment", "alias", "role"};
  Entries entries;
  RCUDA_RETURN_IF_ERROR(MapEntries(node, where, &entries));
  bool have_name = false, have_init_script = false, have_script = false;
  std::string init_script;
  for (const auto& [key, value] : entries.items) {
    std::string at = where + "." + key;
    if (key == "name") {
      RCUDA_RETURN_IF_ERROR(String(value, at, &d->name));
      have_name = true;
    } else if (key == "memory") {
      RCUDA_RETURN_IF_ERROR(Int(value, at, &d->memory_mb));
    } else if (key == "timeout") {
      RCUDA_RETURN_IF_ERROR(Int(value, at, &d->timeout_s));
    } else if (key == "ephemeral_storage") {
      RCUDA_RETURN_IF_ERROR(Int(value, at, &d->ephemeral_storage_mb));
    } else if (key == "log_level") {
      RCUDA_RETURN_IF_ERROR(String(value, at, &d->log_level));
    } else if (key == "execution_mode") {
      std::string mode;
      RCUDA_RETURN_IF_ERROR(String(value, at, &mode));
      if (mode != "lambda") return Status::InvalidValue(at + ": '" + mode + "' is not supported (only lambda)");
    } else if (key == "environment") {
      RCUDA_RETURN_IF_ERROR(Environment(value, at, &d->environment));
    } else if (key == "init_script") {
      RCUDA_RETURN_IF_ERROR(String(value, at, &init_script));
      have_init_script = true;
    } else if (key == "script") {
      RCUDA_RETURN_IF_ERROR(String(value, at, &d->script));
      have_script = true;
    } else if (key == "container") {
      RCUDA_RETURN_IF_ERROR(Container(value, at, d));
    } else if (key == "input" || key == "output") {
      std::vector<OutputSpec> specs;
      RCUDA_RETURN_IF_ERROR(Paths(value, at, key == "output", &specs));
      for (auto& spec : specs) {
        if (key == "input") d->inputs.push_back(std::move(spec.path));
        else d->outputs.push_back(std::move(spec));
      }
    } else if (key == "gpu") {
      RCUDA_RETURN_IF_ERROR(Gpu(value, at, &d->gpu));
    } else if (kIgnored.count(key)) {
      Warn(at + ": ignored by rcuda-fn");
    } else {
      Unknown(where, key);
    }
  }
  if (!have_name) return Status::InvalidValue(where + ".name: required");
  if (have_init_script && have_script) return Status::InvalidValue(where + ": give init_script or script, not both");
  if (!have_init_script && !have_script) return Status::InvalidValue(where + ": init_script or script is required");
  if (have_init_script) RCUDA_RETURN_IF_ERROR(ReadScriptFile(init_script, where + ".init_script", &d->script));
  Status valid = Validate(*d);
  if (!valid.ok()) return Status::InvalidValue(where + "." + valid.message());
  return Status::Ok();
}

Status Parser::Root(const YAML::Node& root) {
  Entries top;
  RCUDA_RETURN_IF_ERROR(MapEntries(root, "(document)", &top));
  const YAML::Node* functions = top.Find("functions");
  if (!functions) return Status::InvalidValue("functions: required");
  for (const auto& [key, value] : top.items) {
    if (key == "storage_providers") {
      Warn("storage_providers: ignored; rcuda-fn uses its own object store settings (no credentials in definitions)");
    } else if (key != "functions") {
      Unknown("(document)", key);
    }
  }
  Entries providers;
  RCUDA_RETURN_IF_ERROR(MapEntries(*functions, "functions", &providers));
  for (const auto& [key, value] : providers.items) {
    if (key == "oscar") Warn("functions.oscar: ignored by rcuda-fn (only aws lambda definitions)");
    else if (key != "aws") Unknown("functions", key);
  }
  const YAML::Node* aws = providers.Find("aws");
  if (!aws) return Status::InvalidValue("functions.aws: required (a list of `- lambda:` entries)");
  if (!aws->IsSequence()) return Status::InvalidValue("functions.aws: must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < aws->size(); ++i) {
    std::string where = "functions.aws[" + std::to_string(i) + "]";
    Entries services;
    RCUDA_RETURN_IF_ERROR(MapEntries((*aws)[i], where, &services));
    const YAML::Node* lambda = services.Find("lambda");
    if (!lambda) return Status::InvalidValue(where + ".lambda: required");
    for (const auto& [key, value] : services.items) {
      if (key == "iam" || key == "api_gateway" || key == "cloudwatch" || key == "batch") {
        Warn(where + "." + key + ": ignored by rcuda-fn");
      } else if (key != "lambda") {
        Unknown(where, key);
      }
    }
    FunctionDefinition definition;
    RCUDA_RETURN_IF_ERROR(Lambda(*lambda, where + ".lambda", &definition));
    if (!names.insert(definition.name).second) {
      return Status::InvalidValue(where + ".lambda.name: '" + definition.name + "' is defined twice");
    }
    document_->functions.push_back(std::move(definition));
  }
  if (document_->functions.empty()) return Status::InvalidValue("functions.aws: no functions");
  return Status::Ok();
}

}  // namespace

Status ParseFdl(std::string_view yaml, const FdlParseOptions& options, FdlDocument* document) {
  if (yaml.size() > kMaxFdlBytes) return Status::InvalidValue("definition is larger than 1 MiB");
  FdlDocument parsed;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    Parser parser(options, &parsed);
    RCUDA_RETURN_IF_ERROR(parser.Root(root));
  } catch (const YAML::Exception& e) {
    return Status::InvalidValue("YAML: " + std::string(e.what()));
  } catch (const std::exception& e) {
    return Status::InvalidValue("definition: " + std::string(e.what()));
  }
  *document = std::move(parsed);
  return Status::Ok();
}

Status LoadFdlFile(const std::string& path, FdlDocument* document) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidValue(path + ": not a readable file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFdlBytes) return Status::InvalidValue(path + ": larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  FdlParseOptions options;
  options.base_dir = fs::absolute(fs::path(path)).parent_path().string();
  Status s = ParseFdl(text.str(), options, document);
  if (!s.ok()) return Status::InvalidValue(path + ": " + s.message());
  return Status::Ok();
}

std::string ToFdlYaml(const FunctionDefinition& d) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "functions" << YAML::Value << YAML::BeginMap << YAML::Key << "aws"
      << YAML::Value << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "lambda" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << d.name;
  out << YAML::Key << "memory" << YAML::Value << d.memory_mb;
  out << YAML::Key << "timeout" << YAML::Value << d.timeout_s;
  out << YAML::Key << "ephemeral_storage" << YAML::Value << d.ephemeral_storage_mb;
  out << YAML::Key << "log_level" << YAML::Value << YAML::DoubleQuoted << d.log_level;
  if (!d.environment.empty()) {
    out << YAML::Key << "environment" << YAML::Value << YAML::BeginMap << YAML::Key << "Variables" << YAML::Value
        << YAML::BeginMap;
    for (const auto& [name, value] : d.environment) out << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << value;
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::Key << "script" << YAML::Value << YAML::Literal << d.script;
  auto paths = [&](const char* key, const std::vector<OutputSpec>& specs) {
    if (specs.empty()) return;
    out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const auto& spec : specs) {
      out << YAML::BeginMap << YAML::Key << "storage_provider" << YAML::Value << spec.path.storage_provider
          << YAML::Key << "path" << YAML::Value << spec.path.ToPath();
      for (const auto& [name, filters] : {std::pair{"prefix", &spec.prefixes}, std::pair{"suffix", &spec.suffixes}}) {
        if (filters->empty()) continue;
        out << YAML::Key << name << YAML::Value << YAML::BeginSeq;
        for (const auto& filter : *filters) out << YAML::DoubleQuoted << filter;
        out << YAML::EndSeq;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  };
  std::vector<OutputSpec> inputs;
  for (const auto& input : d.inputs) inputs.push_back(OutputSpec{input, {}, {}});
  paths("input", inputs);
  paths("output", d.outputs);
  if (d.gpu.count > 0) {
    out << YAML::Key << "gpu" << YAML::Value << YAML::BeginMap << YAML::Key << "count" << YAML::Value << d.gpu.count
        << YAML::Key << "memory" << YAML::Value << (std::to_string(d.gpu.memory_bytes) + "B") << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace rcuda::faas
