// The cubin (CUDA ELF) and PTX parsers (common/fatbin.h) on real nvcc 13
// output. The reference for parameter layouts is the host compiler: a CUDA
// kernel's parameters are laid out like the members of a host struct, each
// at the next offset aligned to its type (data/param_types.h is shared by
// both compilers).
#include <catch2/catch.hpp>

#include <elf.h>

#include <cstring>
#include <map>

#include "common/fatbin.h"
#include "data/param_types.h"
#include "test_data.h"

namespace rcuda {
namespace {

using unit::ReadDataFile;
using Layout = std::vector<std::pair<uint32_t, uint32_t>>;  // (offset, size) per parameter

struct Param {
  uint32_t size, align;
};
template <class T>
Param P() {
  return Param{sizeof(T), alignof(T)};
}

// Lays out parameters as the CUDA ABI does.
Layout HostLayout(std::initializer_list<Param> params) {
  Layout out;
  uint32_t offset = 0;
  for (const auto& p : params) {
    offset = (offset + p.align - 1) / p.align * p.align;
    out.emplace_back(offset, p.size);
    offset += p.size;
  }
  return out;
}

// Every kernel of data/kernels.cu with its expected layout.
std::map<std::string, Layout> ExpectedKernels() {
  return {
      {"no_params", {}},
      {"mixed", HostLayout({P<char>(), P<short>(), P<int>(), P<long long>(), P<float>(), P<double>(), P<int*>(),
                            P<Bytes32>()})},
      {"structs", HostLayout({P<Pair>(), P<Odd>(), P<Vec4>(), P<int*>()})},
      {"big4000", HostLayout({P<Big4000>(), P<int*>()})},
      {"big5000", HostLayout({P<Big5000>(), P<int*>()})},
      {"big20000", HostLayout({P<int>(), P<Big20000>(), P<int*>()})},
      {"_Z5scaleIfEvPT_S0_i", HostLayout({P<float*>(), P<float>(), P<int>()})},
      {"_Z5scaleIdEvPT_S0_i", HostLayout({P<double*>(), P<double>(), P<int>()})},
      {"touch_variables", HostLayout({P<double*>()})},
  };
}

Layout LayoutOf(const CubinKernel& k) {
  Layout out;
  for (const auto& p : k.params) out.emplace_back(p.offset, p.size);
  return out;
}

ModuleImage ParseOk(std::string_view cubin) {
  ModuleImage image;
  Status s = ParseCubin(cubin, &image);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return image;
}

template <class T>
std::string Bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

// The section header of `name` in an ELF image, for tests that damage one.
Elf64_Shdr* FindSection(std::string& elf, const std::string& name) {
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(elf.data());
  auto* sh = reinterpret_cast<Elf64_Shdr*>(elf.data() + eh->e_shoff);
  const char* names = elf.data() + sh[eh->e_shstrndx].sh_offset;
  for (int i = 0; i < eh->e_shnum; ++i)
    if (name == names + sh[i].sh_name) return &sh[i];
  return nullptr;
}

}  // namespace

TEST_CASE("the layout of each kernel's parameters matches the host ABI", "[cubin]") {
  // The figures the driver reported on an H100 for `mixed`, written out, in
  // case the host-layout helper and the parser ever agree on a mistake.
  REQUIRE(ExpectedKernels()["mixed"] ==
          Layout{{0, 1}, {2, 2}, {4, 4}, {8, 8}, {16, 4}, {24, 8}, {32, 8}, {40, 32}});

  ModuleImage image = ParseOk(ReadDataFile("kernels.cubin"));
  const auto expected = ExpectedKernels();
  std::map<std::string, Layout> found;
  for (const auto& k : image.kernels) found[k.name] = LayoutOf(k);
  CHECK(found.size() == image.kernels.size());  // no kernel reported twice
  for (const auto& [name, layout] : expected) {
    INFO(name);
    REQUIRE(found.count(name));
    CHECK(found.at(name) == layout);
  }
  CHECK(found.size() == expected.size());
  CHECK(image.FindKernel("mixed") != nullptr);
  CHECK(image.FindKernel("not_a_kernel") == nullptr);
}

TEST_CASE("parameters above 4 KiB come from the large parameter records", "[cubin]") {
  // nvcc writes EIATTR_KPARAM_INFO (0x17) records up to 4000-byte
  // parameters and the large form (0x45) above; data/kernels.cu has both.
  ModuleImage image = ParseOk(ReadDataFile("kernels.cubin"));
  REQUIRE(image.FindKernel("big4000"));
  REQUIRE(image.FindKernel("big5000"));
  REQUIRE(image.FindKernel("big20000"));
  CHECK(LayoutOf(*image.FindKernel("big5000")) == Layout{{0, 5000}, {5000, 8}});
  CHECK(LayoutOf(*image.FindKernel("big20000")) == Layout{{0, 4}, {4, 20000}, {20008, 8}});
}

TEST_CASE("module variables have their sizes, kinds and initial values", "[cubin]") {
  ModuleImage image = ParseOk(ReadDataFile("kernels.cubin"));
  std::map<std::string, const CubinVariable*> vars;
  for (const auto& v : image.variables) vars[v.name] = &v;
  // Exactly the program's variables: no kernel parameter banks, no
  // compiler-internal symbols.
  std::vector<std::string> names;
  for (const auto& [name, v] : vars) names.push_back(name);
  CHECK(names == std::vector<std::string>{"answer", "coeffs", "constant_pair", "table", "zeros"});
  CHECK(vars.size() == image.variables.size());

  REQUIRE(image.FindVariable("answer"));
  const CubinVariable& answer = *image.FindVariable("answer");
  CHECK(answer.size == 4);
  CHECK_FALSE(answer.constant);
  CHECK(answer.init == Bytes(int{42}));

  const CubinVariable& table = *vars.at("table");
  const double table_init[5] = {0.5, 1.5, 2.5, 3.5, 4.5};
  CHECK(table.size == sizeof table_init);
  CHECK(table.init == Bytes(table_init));

  const CubinVariable& zeros = *vars.at("zeros");
  CHECK(zeros.size == 400);
  CHECK_FALSE(zeros.constant);
  // No initializer: nothing stored (zero-filled), or stored zeros.
  CHECK((zeros.init.empty() || zeros.init == std::string(400, '\0')));

  const CubinVariable& coeffs = *vars.at("coeffs");
  const float coeffs_init[4] = {1.f, 2.f, 3.f, 4.f};
  CHECK(coeffs.constant);
  CHECK(coeffs.size == sizeof coeffs_init);
  CHECK(coeffs.init == Bytes(coeffs_init));

  const CubinVariable& pair = *vars.at("constant_pair");
  CHECK(pair.constant);
  REQUIRE(pair.size == sizeof(Pair));
  REQUIRE(pair.init.size() == sizeof(Pair));
  Pair value;
  std::memcpy(&value, pair.init.data(), sizeof value);
  CHECK(value.a == 7);
  CHECK(value.b == 8.25);
}

TEST_CASE("files that are not CUDA ELF images are refused", "[cubin]") {
  ModuleImage image;
  CHECK_FALSE(ParseCubin("", &image).ok());
  CHECK_FALSE(ParseCubin("this is not an ELF file at all, just text", &image).ok());
  // A host ELF: this test program itself.
  std::string host_elf;
  {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    host_elf = ss.str();
  }
  Status s = ParseCubin(host_elf, &image);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("not a CUDA ELF"));
}

TEST_CASE("every truncation of a cubin that cuts its section headers is an error", "[cubin]") {
  const std::string cubin = ReadDataFile("kernels.cubin");
  Elf64_Ehdr eh;
  std::memcpy(&eh, cubin.data(), sizeof eh);
  const size_t headers_end = eh.e_shoff + size_t{eh.e_shnum} * eh.e_shentsize;
  REQUIRE(headers_end <= cubin.size());
  size_t accepted = 0, survived = 0;
  for (size_t n = 0; n < cubin.size(); ++n) {
    ModuleImage image;
    Status s = ParseCubin(std::string_view(cubin.data(), n), &image);
    if (n < headers_end && s.ok()) ++accepted;
    ++survived;
  }
  CHECK(accepted == 0);
  CHECK(survived == cubin.size());
}

TEST_CASE("damaged .nv.info records are errors", "[cubin]") {
  const std::string original = ReadDataFile("kernels.cubin");
  REQUIRE(ParseOk(original).FindKernel("mixed"));

  SECTION("a record longer than its section") {
    std::string cubin = original;
    Elf64_Shdr* info = FindSection(cubin, ".nv.info.mixed");
    REQUIRE(info);
    // The first record: u8 format 4, u8 attribute, u16 length.
    REQUIRE(static_cast<uint8_t>(cubin[info->sh_offset]) == 4);
    uint16_t length = 0xfff0;
    std::memcpy(&cubin[info->sh_offset + 2], &length, 2);
    ModuleImage image;
    Status s = ParseCubin(cubin, &image);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains(".nv.info"));
  }
  SECTION("an unknown record format") {
    std::string cubin = original;
    Elf64_Shdr* info = FindSection(cubin, ".nv.info.mixed");
    REQUIRE(info);
    cubin[info->sh_offset] = 9;
    ModuleImage image;
    CHECK_FALSE(ParseCubin(cubin, &image).ok());
  }
  SECTION("a gap in the parameter ordinals") {
    std::string cubin = original;
    Elf64_Shdr* info = FindSection(cubin, ".nv.info.mixed");
    REQUIRE(info);
    // Find the KPARAM_INFO record of ordinal 0 and renumber it 9.
    bool changed = false;
    for (size_t pos = info->sh_offset; pos + 16 <= info->sh_offset + info->sh_size;) {
      uint8_t format = cubin[pos], attribute = cubin[pos + 1];
      uint16_t length;
      std::memcpy(&length, &cubin[pos + 2], 2);
      if (format != 4) {
        pos += 4;
        continue;
      }
      uint16_t ordinal;
      std::memcpy(&ordinal, &cubin[pos + 8], 2);
      if (attribute == 0x17 && ordinal == 0) {
        uint16_t nine = 9;
        std::memcpy(&cubin[pos + 8], &nine, 2);
        changed = true;
        break;
      }
      pos += 4 + length;
    }
    REQUIRE(changed);
    ModuleImage image;
    Status s = ParseCubin(cubin, &image);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("ordinal"));
  }
  SECTION("section headers pointing past the file") {
    std::string cubin = original;
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(cubin.data());
    eh->e_shoff = cubin.size() - 8;
    ModuleImage image;
    CHECK_FALSE(ParseCubin(cubin, &image).ok());
  }
  SECTION("a section name table index out of range") {
    std::string cubin = original;
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(cubin.data());
    eh->e_shstrndx = eh->e_shnum + 3;
    ModuleImage image;
    CHECK_FALSE(ParseCubin(cubin, &image).ok());
  }
}

TEST_CASE("randomly corrupted cubins give errors or sane modules, never crashes", "[cubin][corrupt]") {
  const std::string original = ReadDataFile("kernels.cubin");
  Elf64_Ehdr eh;
  std::memcpy(&eh, original.data(), sizeof eh);
  unit::Rng rng(0xc0b1);
  int errors = 0, loaded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string cubin = original;
    int flips = 1 + static_cast<int>(rng.Below(4));
    for (int i = 0; i < flips; ++i) {
      // Aim at what the parser reads: the ELF header, the section headers,
      // and anywhere (sections' contents).
      size_t at;
      switch (rng.Below(3)) {
        case 0: at = rng.Below(sizeof eh); break;
        case 1: at = eh.e_shoff + rng.Below(size_t{eh.e_shnum} * eh.e_shentsize); break;
        default: at = rng.Below(cubin.size()); break;
      }
      cubin[at] = static_cast<char>(cubin[at] ^ (1u << rng.Below(8)));
    }
    ModuleImage image;
    Status s;
    INFO("trial " << trial);
    REQUIRE_NOTHROW(s = ParseCubin(cubin, &image));
    if (!s.ok()) {
      ++errors;
      continue;
    }
    ++loaded;
    // Layouts inside CUDA's parameter limit; initial values are the
    // variable's bytes, or none.
    for (const auto& k : image.kernels)
      for (const auto& p : k.params) REQUIRE(uint64_t{p.offset} + p.size <= 32764);
    for (const auto& v : image.variables) REQUIRE((v.init.empty() || v.init.size() == v.size));
  }
  CHECK(errors > 0);
  CHECK(loaded > 0);
}

// Regression (CTest unit.regression.cubin-param-limit): ParseKernelInfo used
// to take offsets and sizes as they came, so a damaged record (the large
// form has a plain 32-bit size) gave a layout far beyond CUDA's 32764-byte
// parameter limit, which the client then allocated and packed.
TEST_CASE("parameter records beyond CUDA's 32764-byte limit are errors", "[cubin-param-limit]") {
  for (uint32_t size : {0xfffffff0u, 40000u}) {
    INFO("size " << size);
    std::string cubin = ReadDataFile("kernels.cubin");
    Elf64_Shdr* info = FindSection(cubin, ".nv.info.big20000");
    REQUIRE(info);
    bool changed = false;
    for (size_t pos = info->sh_offset; pos + 16 <= info->sh_offset + info->sh_size;) {
      uint8_t format = cubin[pos], attribute = cubin[pos + 1];
      uint16_t length;
      std::memcpy(&length, &cubin[pos + 2], 2);
      if (format != 4) {
        pos += 4;
        continue;
      }
      if (attribute == 0x45) {  // u16 ordinal @+8, u16 offset @+10, u32 size @+12
        std::memcpy(&cubin[pos + 12], &size, 4);
        changed = true;
        break;
      }
      pos += 4 + length;
    }
    REQUIRE(changed);
    ModuleImage image;
    CHECK_FALSE(ParseCubin(cubin, &image).ok());
  }
}

// ---- PTX ------------------------------------------------------------------

TEST_CASE("PTX-only fatbinaries give the same kernel layouts as the cubin", "[ptx]") {
  ModuleImage reference = ParseOk(ReadDataFile("kernels.cubin"));
  for (const char* file : {"kernels_ptx.fatbin", "kernels_ptx_none.fatbin"}) {
    INFO(file);
    ModuleImage image;
    Status s = LoadModuleImage(ReadDataFile(file), 90, &image);
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE(image.kernels.size() == reference.kernels.size());
    for (const auto& k : reference.kernels) {
      INFO(k.name);
      const CubinKernel* from_ptx = image.FindKernel(k.name);
      REQUIRE(from_ptx);
      CHECK(LayoutOf(*from_ptx) == LayoutOf(k));
    }
  }
}

TEST_CASE("PTX parameter declarations", "[ptx]") {
  ModuleImage image;
  const char* ptx = R"(
.version 9.0
.target sm_90
.address_size 64
.visible .entry first(
	.param .u8 first_param_0,
	.param .align 16 .b8 first_param_1[48],
	.param .f64 first_param_2,
	.param .pred first_param_3
)
{ ret; }
.visible .entry second()
{ ret; }
.visible .entry third
{ ret; }
)";
  Status s = ParsePtx(ptx, &image);
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(image.kernels.size() == 3);
  CHECK(image.kernels[0].name == "first");
  CHECK(LayoutOf(image.kernels[0]) == Layout{{0, 1}, {16, 48}, {64, 8}, {72, 1}});
  CHECK(image.kernels[1].name == "second");
  CHECK(image.kernels[1].params.empty());
  CHECK(image.kernels[2].name == "third");

  CHECK_FALSE(ParsePtx(".visible .entry broken(\n .param .u32 x,\n", &image).ok());
  CHECK_FALSE(ParsePtx(".visible .entry odd(.param .weird x)\n{ ret; }", &image).ok());
}

// Regression (CTest unit.regression.ptx-variables): ParsePtx used to read no
// variables, so on the test backend a PTX-only program's __device__ and
// __constant__ variables were not found.
TEST_CASE("PTX-only fatbinaries list the module's variables", "[ptx-variables]") {
  ModuleImage image;
  REQUIRE(LoadModuleImage(ReadDataFile("kernels_ptx_none.fatbin"), 90, &image).ok());
  const CubinVariable* answer = image.FindVariable("answer");
  const CubinVariable* coeffs = image.FindVariable("coeffs");
  REQUIRE(answer);
  REQUIRE(coeffs);
  CHECK(answer->size == 4);
  CHECK_FALSE(answer->constant);
  CHECK(coeffs->size == 16);
  CHECK(coeffs->constant);
  CHECK(image.variables.size() == 5);
}

// Regression (CTest unit.regression.ptx-hostile-sizes; found by the ptx
// fuzz target, tests/fuzz): ParsePtx took sizes and counts as they came. A
// variable of a trillion bytes with a one-value initializer made it allocate
// the whole variable; a 128-bit element's initializer was copied out of a
// 64-bit integer (a read past it); counts were read with atoi (undefined
// beyond int) and multiplied in 32 bits, so a parameter array of 2^30 + 1
// words came out 4 bytes long.
TEST_CASE("PTX sizes from a hostile module are bounded or refused", "[ptx-hostile-sizes]") {
  ModuleImage image;
  // The initial bytes are what the text gives; the rest of the variable is zero.
  Status s = ParsePtx(".visible .global .align 1 .b8 big[1000000000000] = {7, 8};\n", &image);
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(image.variables.size() == 1);
  CHECK(image.variables[0].size == 1000000000000ull);
  CHECK(image.variables[0].init == std::string("\x07\x08", 2));

  CHECK_FALSE(ParsePtx(".global .align 4 .u32 wraps[4611686018427387905] = {1};\n", &image).ok());
  CHECK_FALSE(ParsePtx(".global .align 4 .u32 huge[99999999999999999999999];\n", &image).ok());
  CHECK_FALSE(ParsePtx(".global .align 16 .b128 wide = 5;\n", &image).ok());
  CHECK_FALSE(ParsePtx(".global .b99999999999 odd;\n", &image).ok());

  // Parameters: a size that wrapped, one beyond CUDA's limit, an alignment beyond it.
  CHECK_FALSE(ParsePtx(".visible .entry k(.param .b32 p[1073741825], .param .u64 q)\n{ ret; }", &image).ok());
  CHECK_FALSE(ParsePtx(".visible .entry k(.param .b8 p[40000])\n{ ret; }", &image).ok());
  CHECK_FALSE(ParsePtx(".visible .entry k(.param .b8 a[20000], .param .b8 b[20000])\n{ ret; }", &image).ok());
  CHECK_FALSE(ParsePtx(".visible .entry k(.param .align 4294967296 .b8 p[4])\n{ ret; }", &image).ok());
  // The largest parameters CUDA allows still parse.
  s = ParsePtx(".visible .entry k(.param .u32 a, .param .align 4 .b8 b[32760])\n{ ret; }", &image);
  INFO(s.ToString());
  REQUIRE(s.ok());
  REQUIRE(image.kernels.size() == 1);
  CHECK(LayoutOf(image.kernels[0]) == Layout{{0, 4}, {4, 32760}});
}

}  // namespace rcuda
