// Bare images wrapped in a fatbinary (common/fatbin_image.h), against what
// nvcc 13 itself writes for the same module uncompressed: the entry headers
// must agree field by field, the payload must be the image, and the parser
// the runtime and the server use must read the wrapped module as it reads
// the bare one. Then inputs that are neither a cubin nor PTX, and cubins
// whose headers point past their end.
#include <catch2/catch.hpp>

#include <cstring>

#include "common/fatbin.h"
#include "common/fatbin_image.h"
#include "test_data.h"

namespace rcuda {
namespace {

using unit::ReadDataFile;

template <class T>
T At(const std::string& bytes, size_t offset) {
  REQUIRE(offset + sizeof(T) <= bytes.size());
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

template <class T>
void Put(std::string* bytes, size_t offset, T v) {
  std::memcpy(bytes->data() + offset, &v, sizeof v);
}

// The fatbinary's only entry's header, without its payload size (@8), which
// differs where nvcc stored the PTX compacted.
std::string EntryHeaderWithoutSize(const std::string& fatbin) {
  uint32_t header_size = At<uint32_t>(fatbin, 16 + 4);
  REQUIRE(16 + header_size <= fatbin.size());
  std::string header = fatbin.substr(16, header_size);
  std::memset(header.data() + 8, 0, 8);
  return header;
}

std::vector<std::string> KernelNames(const ModuleImage& image) {
  std::vector<std::string> names;
  for (const auto& k : image.kernels) names.push_back(k.name);
  return names;
}

TEST_CASE("a cubin wrapped as nvcc wraps it", "[fatbin_image]") {
  std::string cubin = ReadDataFile("kernels.cubin");
  std::string nvcc = ReadDataFile("kernels_cubin_none.fatbin");
  REQUIRE(CudaElfSize(cubin.data(), cubin.size()) == cubin.size());

  std::string wrapped;
  Status s = WrapInFatbinary(cubin, &wrapped);
  REQUIRE(s.ok());
  REQUIRE(FatbinarySize(wrapped.data()) == wrapped.size());
  CHECK(wrapped.substr(0, 8) == nvcc.substr(0, 8));  // magic, version, header size
  CHECK(EntryHeaderWithoutSize(wrapped) == EntryHeaderWithoutSize(nvcc));
  CHECK(At<uint64_t>(wrapped, 16 + 8) % 16 == 0);

  std::vector<FatbinEntry> entries;
  REQUIRE(ParseFatbinary(wrapped, &entries).ok());
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].kind == FatbinEntry::kCubin);
  CHECK(entries[0].arch == 90);
  std::string content;
  REQUIRE(EntryContent(entries[0], &content).ok());
  CHECK(content.substr(0, cubin.size()) == cubin);

  ModuleImage bare, from_wrapped;
  REQUIRE(ParseCubin(cubin, &bare).ok());
  REQUIRE(LoadModuleImage(wrapped, 90, &from_wrapped).ok());
  CHECK(KernelNames(from_wrapped) == KernelNames(bare));
  CHECK(from_wrapped.variables.size() == bare.variables.size());
}

TEST_CASE("PTX text wrapped as nvcc wraps it", "[fatbin_image]") {
  std::string ptx = ReadDataFile("kernels.ptx");
  std::string nvcc = ReadDataFile("kernels_ptx_none.fatbin");

  std::string wrapped;
  REQUIRE(WrapInFatbinary(ptx, &wrapped).ok());
  CHECK(EntryHeaderWithoutSize(wrapped) == EntryHeaderWithoutSize(nvcc));
  std::vector<FatbinEntry> entries;
  REQUIRE(ParseFatbinary(wrapped, &entries).ok());
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].kind == FatbinEntry::kPtx);
  CHECK(entries[0].arch == 90);
  std::string content;
  REQUIRE(EntryContent(entries[0], &content).ok());
  // The text, NUL-terminated (the driver reads PTX up to its NUL).
  REQUIRE(content.size() > ptx.size());
  CHECK(content.substr(0, ptx.size()) == ptx);
  CHECK(content[ptx.size()] == '\0');

  // A terminating NUL in the input (as cuModuleLoadData's callers pass it)
  // changes nothing.
  std::string with_nul = ptx + std::string(1, '\0') + "ignored";
  std::string wrapped_again;
  REQUIRE(WrapInFatbinary(with_nul, &wrapped_again).ok());
  CHECK(wrapped_again == wrapped);

  ModuleImage bare, from_wrapped;
  REQUIRE(ParsePtx(ptx, &bare).ok());
  REQUIRE(LoadModuleImage(wrapped, 90, &from_wrapped).ok());
  CHECK(KernelNames(from_wrapped) == KernelNames(bare));
  REQUIRE(!bare.kernels.empty());
}

TEST_CASE("PTX targets and versions are read from their directives", "[fatbin_image]") {
  const char* ptx =
      "//\n// .target sm_10 in a comment does not count\n//\n"
      ".version 8.7\n  .target sm_100a, texmode_independent\n.address_size 64\n"
      ".visible .entry k(.param .u64 p)\n{\nret;\n}\n";
  std::string wrapped;
  REQUIRE(WrapInFatbinary(ptx, &wrapped).ok());
  CHECK(At<uint16_t>(wrapped, 16 + 24) == 7);  // minor
  CHECK(At<uint16_t>(wrapped, 16 + 26) == 8);  // major
  CHECK(At<uint32_t>(wrapped, 16 + 28) == 100);
}

TEST_CASE("what is neither a cubin nor PTX is refused", "[fatbin_image]") {
  std::string out = "untouched";
  CHECK(WrapInFatbinary("", &out).code() == Status::Code::kInvalidArgument);
  CHECK(WrapInFatbinary("hello, world", &out).code() == Status::Code::kInvalidArgument);
  CHECK(WrapInFatbinary(".version 9.0\n.address_size 64\n", &out).code() == Status::Code::kInvalidArgument);
  CHECK(WrapInFatbinary(".version x\n.target sm_90\n", &out).code() == Status::Code::kInvalidArgument);
  CHECK(WrapInFatbinary(".version 9.0\n.target sm_x\n", &out).code() == Status::Code::kInvalidArgument);
  CHECK(out == "untouched");
}

TEST_CASE("a cubin whose headers point past its end has no size", "[fatbin_image]") {
  std::string cubin = ReadDataFile("kernels.cubin");
  REQUIRE(cubin.size() > 64);
  // Truncated: the section headers (at the end) are cut off.
  CHECK(CudaElfSize(cubin.data(), cubin.size() - 1) == 0);
  CHECK(CudaElfSize(cubin.data(), 63) == 0);
  // A section header table beyond 64-bit arithmetic.
  std::string bad = cubin;
  Put<uint64_t>(&bad, 0x28, ~uint64_t{0} - 8);
  CHECK(CudaElfSize(bad.data(), bad.size()) == 0);
  // Not CUDA's machine.
  bad = cubin;
  Put<uint16_t>(&bad, 0x12, 62);  // x86-64
  CHECK(CudaElfSize(bad.data(), bad.size()) == 0);
  std::string out;
  CHECK(WrapInFatbinary(bad, &out).code() == Status::Code::kInvalidArgument);
  // A section whose contents lie past the end.
  bad = cubin;
  uint64_t shoff = At<uint64_t>(bad, 0x28);
  uint16_t shentsize = At<uint16_t>(bad, 0x3A), shnum = At<uint16_t>(bad, 0x3C);
  bool changed = false;
  for (uint16_t i = 0; i < shnum && !changed; ++i) {
    size_t sh = shoff + size_t(i) * shentsize;
    if (At<uint32_t>(bad, sh + 4) == 8 /* SHT_NOBITS */ || At<uint64_t>(bad, sh + 0x20) == 0) continue;
    Put<uint64_t>(&bad, sh + 0x20, bad.size());
    changed = true;
  }
  REQUIRE(changed);
  CHECK(CudaElfSize(bad.data(), bad.size()) == 0);
}

}  // namespace
}  // namespace rcuda
