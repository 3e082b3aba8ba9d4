// Reads SCAR's function definition language (YAML):
//
//   functions:
//     aws:
//     - lambda:
//         name: blast
//         memory: 1024            # MB, 128 to 10240
//         timeout: 300            # s, 1 to 900
//         init_script: blast.sh   # a file, relative to the definition file
//         environment: {Variables: {KEY: value}}
//         input:  [{storage_provider: s3, path: in-bucket/queries}]
//         output: [{storage_provider: s3, path: out-bucket/results, suffix: [.out]}]
//         gpu: {count: 1, memory: 2GiB}   # rcuda's addition
//
// Every definition is validated (function_definition.h). Keys SCAR knows and
// rcuda-fn does not use, and keys nobody knows, are warnings, not errors;
// what would change the meaning of a definition rcuda-fn cannot honour
// (another execution mode, a container image) is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "faas/function/function_definition.h"

namespace rcuda::faas {

struct FdlParseOptions {
  // Where init_script paths are relative to. Empty: init_script is refused
  // (a definition that arrives over the network names no file of ours).
  std::string base_dir;
};

struct FdlDocument {
  std::vector<FunctionDefinition> functions;
  std::vector<std::string> warnings;  // "functions.aws[0].lambda.region: ignored by rcuda-fn"
};

inline constexpr size_t kMaxFdlBytes = 1 << 20;

// Parses one YAML document. On error nothing is returned; the message names
// the place ("functions.aws[1].lambda.timeout: ...").
Status ParseFdl(std::string_view yaml, const FdlParseOptions& options, FdlDocument* document);

// Reads and parses a file (at most kMaxFdlBytes); init_script is relative to
// the file's directory.
Status LoadFdlFile(const std::string& path, FdlDocument* document);

// One function as an FDL document with its script inline (`script:`), as
// rcuda-faas deploys it to rcuda-fn.
std::string ToFdlYaml(const FunctionDefinition& definition);

}  // namespace rcuda::faas
