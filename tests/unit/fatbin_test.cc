// The fatbinary container parser (common/fatbin.h) on real nvcc 13 output:
// every compression mode nvcc offers (none, ZSTD, LZ4, on cubins and on PTX),
// PTX-only and multi-architecture fatbinaries, then truncated and corrupted
// copies of them, which must give errors, never crashes.
#include <catch2/catch.hpp>

#include <zstd.h>

#include <cstring>
#include <map>
#include <set>

#include "common/fatbin.h"
#include "test_data.h"

namespace rcuda {
namespace {

using unit::ReadDataFile;

enum class Codec { kAbsent, kNone, kZstd, kLz4 };

const char* CodecName(Codec c) {
  switch (c) {
    case Codec::kAbsent: return "absent";
    case Codec::kNone: return "none";
    case Codec::kZstd: return "zstd";
    case Codec::kLz4: return "lz4";
  }
  return "?";
}

Codec CodecOf(const FatbinEntry& e) {
  if (e.zstd()) return Codec::kZstd;
  if (e.lz4()) return Codec::kLz4;
  return Codec::kNone;
}

// How nvcc 13.0 stores kernels.cu under each set of options (see
// tests/unit/CMakeLists.txt, which builds these files).
struct Variant {
  const char* file;
  Codec cubin;
  Codec ptx;
};
const Variant kVariants[] = {
    {"kernels_none.fatbin", Codec::kNone, Codec::kNone},          // --compress-mode=none
    {"kernels_default.fatbin", Codec::kNone, Codec::kZstd},       // nvcc's default: PTX always compressed
    {"kernels_speed.fatbin", Codec::kNone, Codec::kLz4},          // --compress-mode=speed
    {"kernels_size.fatbin", Codec::kZstd, Codec::kZstd},          // --compress-mode=size
    {"kernels_speed_all.fatbin", Codec::kLz4, Codec::kLz4},       // speed + -Xfatbin=-compress-all
    {"kernels_ptx.fatbin", Codec::kAbsent, Codec::kZstd},         // compute_90 only
    {"kernels_ptx_none.fatbin", Codec::kAbsent, Codec::kNone},    // compute_90 only, uncompressed
};

const FatbinEntry* FindEntry(const std::vector<FatbinEntry>& entries, FatbinEntry::Kind kind) {
  for (const auto& e : entries)
    if (e.kind == kind) return &e;
  return nullptr;
}

std::string Content(const FatbinEntry& e) {
  std::string content;
  Status s = EntryContent(e, &content);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return content;
}

// A comparable summary of a module: kernel -> [(offset, size)...].
std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> Layouts(const ModuleImage& image) {
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> out;
  for (const auto& k : image.kernels) {
    auto& v = out[k.name];
    for (const auto& p : k.params) v.emplace_back(p.offset, p.size);
  }
  return out;
}

}  // namespace

TEST_CASE("nvcc's compression modes give the expected entries and codecs", "[fatbin]") {
  for (const auto& variant : kVariants) {
    SECTION(variant.file) {
      std::string fatbin = ReadDataFile(variant.file);
      REQUIRE(FatbinarySize(fatbin.data()) == fatbin.size());
      std::vector<FatbinEntry> entries;
      Status s = ParseFatbinary(fatbin, &entries);
      INFO(s.ToString());
      REQUIRE(s.ok());
      const FatbinEntry* cubin = FindEntry(entries, FatbinEntry::kCubin);
      const FatbinEntry* ptx = FindEntry(entries, FatbinEntry::kPtx);
      CHECK(CodecName(cubin ? CodecOf(*cubin) : Codec::kAbsent) == std::string(CodecName(variant.cubin)));
      CHECK(CodecName(ptx ? CodecOf(*ptx) : Codec::kAbsent) == std::string(CodecName(variant.ptx)));
      for (const auto& e : entries) {
        CHECK(e.arch == 90);
        // A compressed entry knows its size once decompressed; a plain one
        // reports 0 there.
        std::string content = Content(e);
        if (CodecOf(e) == Codec::kNone) {
          CHECK(e.uncompressed_size == 0);
        } else {
          CHECK(e.uncompressed_size == content.size());
          CHECK(e.payload.size() < content.size());
        }
      }
    }
  }
}

TEST_CASE("decompressed entries are identical whatever the compression", "[fatbin]") {
  // The reference: nvcc's uncompressed fatbinary and its standalone cubin.
  std::vector<FatbinEntry> plain;
  std::string plain_fatbin = ReadDataFile("kernels_none.fatbin");
  REQUIRE(ParseFatbinary(plain_fatbin, &plain).ok());
  const std::string cubin = Content(*FindEntry(plain, FatbinEntry::kCubin));
  const std::string ptx = Content(*FindEntry(plain, FatbinEntry::kPtx));
  REQUIRE(cubin.compare(0, 4, "\x7f" "ELF") == 0);
  REQUIRE(ptx.find(".entry mixed") != std::string::npos);
  CHECK(cubin == ReadDataFile("kernels.cubin"));

  for (const auto& variant : kVariants) {
    INFO(variant.file);
    std::string fatbin = ReadDataFile(variant.file);
    std::vector<FatbinEntry> entries;
    REQUIRE(ParseFatbinary(fatbin, &entries).ok());
    for (const auto& e : entries) {
      if (e.kind == FatbinEntry::kCubin) CHECK(Content(e) == cubin);
      // PTX text may end with padding NULs in some modes; compare the text.
      if (e.kind == FatbinEntry::kPtx) {
        std::string text = Content(e);
        CHECK(std::string(text.c_str()) == std::string(ptx.c_str()));
      }
    }
  }
}

TEST_CASE("every variant loads as the same module", "[fatbin]") {
  ModuleImage reference;
  REQUIRE(ParseCubin(ReadDataFile("kernels.cubin"), &reference).ok());
  const auto want = Layouts(reference);
  REQUIRE(want.size() == 9);
  for (const auto& variant : kVariants) {
    INFO(variant.file);
    ModuleImage image;
    Status s = LoadModuleImage(ReadDataFile(variant.file), 90, &image);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(Layouts(image) == want);
  }
}

TEST_CASE("LoadModuleImage picks the best entry for the GPU's architecture", "[fatbin]") {
  // arch_select.cu defines built_for_sm90 when compiled for sm_90 and up,
  // built_for_sm80 for sm_80..sm_89: the kernel found tells the entry taken.
  auto kernel_for = [](const std::string& file, uint32_t arch, Status* status) {
    ModuleImage image;
    *status = LoadModuleImage(ReadDataFile(file), arch, &image);
    return image.kernels.size() == 1 ? image.kernels[0].name : std::string("(none)");
  };
  Status s;
  // sm_80 and sm_90 cubins, no PTX.
  CHECK(kernel_for("arch_cubins.fatbin", 80, &s) == "built_for_sm80");
  CHECK(kernel_for("arch_cubins.fatbin", 89, &s) == "built_for_sm80");
  CHECK(kernel_for("arch_cubins.fatbin", 90, &s) == "built_for_sm90");
  CHECK(kernel_for("arch_cubins.fatbin", 120, &s) == "built_for_sm90");
  kernel_for("arch_cubins.fatbin", 75, &s);
  CHECK(s.code() == 209);  // cudaErrorNoKernelImageForDevice
  // The same cubins plus compute_80 PTX, which is the fallback below sm_80.
  CHECK(kernel_for("arch_cubins_ptx.fatbin", 90, &s) == "built_for_sm90");
  CHECK(kernel_for("arch_cubins_ptx.fatbin", 75, &s) == "built_for_sm80");
  CHECK(s.ok());
}

TEST_CASE("a buffer without the fatbinary magic has no fatbinary size", "[fatbin]") {
  std::string fatbin = ReadDataFile("kernels_default.fatbin");
  fatbin[0] ^= 0x01;
  CHECK(FatbinarySize(fatbin.data()) == 0);
  std::vector<FatbinEntry> entries;
  Status s = ParseFatbinary(fatbin, &entries);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("magic"));
}

TEST_CASE("every truncation of a fatbinary is an error", "[fatbin]") {
  for (const auto& variant : kVariants) {
    std::string fatbin = ReadDataFile(variant.file);
    size_t accepted = 0;
    for (size_t n = 0; n < fatbin.size(); ++n) {
      std::string_view prefix(fatbin.data(), n);
      std::vector<FatbinEntry> entries;
      ModuleImage image;
      if (ParseFatbinary(prefix, &entries).ok()) ++accepted;
      if (LoadModuleImage(prefix, 90, &image).ok()) ++accepted;
    }
    INFO(variant.file << ": " << accepted << " truncated copies accepted");
    CHECK(accepted == 0);
  }
}

TEST_CASE("inconsistent entry headers are errors", "[fatbin]") {
  const std::string original = ReadDataFile("kernels_none.fatbin");
  const size_t first_entry = 16;
  auto parse = [](const std::string& bytes) {
    std::vector<FatbinEntry> entries;
    return ParseFatbinary(bytes, &entries);
  };
  REQUIRE(parse(original).ok());

  SECTION("entry header size below the minimum") {
    std::string f = original;
    uint32_t header_size = 8;
    std::memcpy(&f[first_entry + 4], &header_size, 4);
    CHECK_FALSE(parse(f).ok());
  }
  SECTION("payload running past the fatbinary") {
    std::string f = original;
    uint64_t payload = f.size();
    std::memcpy(&f[first_entry + 8], &payload, 8);
    CHECK_FALSE(parse(f).ok());
  }
  SECTION("body size larger than the buffer") {
    std::string f = original;
    uint64_t body = f.size();
    std::memcpy(&f[8], &body, 8);
    CHECK_FALSE(parse(f).ok());
  }
  SECTION("fatbinary header size below 16") {
    std::string f = original;
    uint16_t header_size = 4;
    std::memcpy(&f[6], &header_size, 2);
    CHECK_FALSE(parse(f).ok());
  }
}

TEST_CASE("damaged compressed payloads fail to decompress", "[fatbin]") {
  for (const char* file : {"kernels_size.fatbin", "kernels_speed_all.fatbin"}) {
    INFO(file);
    std::string fatbin = ReadDataFile(file);
    std::vector<FatbinEntry> entries;
    REQUIRE(ParseFatbinary(fatbin, &entries).ok());
    const FatbinEntry* cubin = FindEntry(entries, FatbinEntry::kCubin);
    REQUIRE(cubin);
    REQUIRE(CodecOf(*cubin) != Codec::kNone);
    // Overwrite the start of the compressed stream.
    size_t at = cubin->payload.data() - fatbin.data();
    for (size_t i = 0; i < 16; ++i) fatbin[at + i] = static_cast<char>(0xff - i);
    REQUIRE(ParseFatbinary(fatbin, &entries).ok());
    std::string content;
    CHECK_FALSE(EntryContent(*FindEntry(entries, FatbinEntry::kCubin), &content).ok());
    ModuleImage image;
    CHECK_FALSE(LoadModuleImage(fatbin, 90, &image).ok());
  }
}

namespace {

// Rewrites the decompressed size of the fatbinary's cubin entry by `delta`
// and returns what EntryContent makes of it.
Status ContentWithSizeOff(const char* file, int64_t delta) {
  std::string fatbin = ReadDataFile(file);
  std::vector<FatbinEntry> entries;
  REQUIRE(ParseFatbinary(fatbin, &entries).ok());
  const FatbinEntry* cubin = FindEntry(entries, FatbinEntry::kCubin);
  REQUIRE(cubin);
  REQUIRE(cubin->uncompressed_size > 0);
  size_t header_at = (cubin->payload.data() - fatbin.data()) - 64;
  uint64_t size = cubin->uncompressed_size + delta;
  std::memcpy(&fatbin[header_at + 56], &size, 8);
  REQUIRE(ParseFatbinary(fatbin, &entries).ok());
  std::string content;
  return EntryContent(*FindEntry(entries, FatbinEntry::kCubin), &content);
}

}  // namespace

TEST_CASE("a ZSTD entry that claims the wrong decompressed size is an error", "[fatbin]") {
  for (int64_t delta : {-1, +1, -100, +4096}) {
    INFO("delta " << delta);
    CHECK_FALSE(ContentWithSizeOff("kernels_size.fatbin", delta).ok());
  }
}

TEST_CASE("an LZ4 entry that claims a larger decompressed size is an error", "[fatbin]") {
  for (int64_t delta : {+1, +4096}) {
    INFO("delta " << delta);
    CHECK_FALSE(ContentWithSizeOff("kernels_speed_all.fatbin", delta).ok());
  }
}

// Regression (CTest unit.regression.lz4-short-size): EntryContent used to
// decode LZ4 entries up to the claimed size only, returning a silently
// truncated cubin when the claim was short.
TEST_CASE("an LZ4 entry that claims a smaller decompressed size is an error", "[lz4-short-size]") {
  for (int64_t delta : {-1, -100}) {
    INFO("delta " << delta);
    CHECK_FALSE(ContentWithSizeOff("kernels_speed_all.fatbin", delta).ok());
  }
}

// Regression (CTest unit.regression.fatbin-huge-size): EntryContent used to
// allocate whatever decompressed size an entry header claimed, so a damaged
// fatbinary made it throw std::bad_alloc instead of returning an error.
TEST_CASE("an absurd decompressed size is refused without allocating it", "[fatbin-huge-size]") {
  for (const char* file : {"kernels_size.fatbin", "kernels_speed_all.fatbin"}) {
    for (uint64_t size : {uint64_t{1} << 62, uint64_t{1} << 40, (uint64_t{1} << 32) + 100}) {
      INFO(file << " claiming " << size << " bytes");
      std::string fatbin = ReadDataFile(file);
      std::vector<FatbinEntry> entries;
      REQUIRE(ParseFatbinary(fatbin, &entries).ok());
      const FatbinEntry* cubin = FindEntry(entries, FatbinEntry::kCubin);
      size_t header_at = (cubin->payload.data() - fatbin.data()) - 64;
      std::memcpy(&fatbin[header_at + 56], &size, 8);
      REQUIRE(ParseFatbinary(fatbin, &entries).ok());
      std::string content;
      Status s;
      REQUIRE_NOTHROW(s = EntryContent(*FindEntry(entries, FatbinEntry::kCubin), &content));
      CHECK_FALSE(s.ok());
    }
  }
}

// Regression (CTest unit.regression.zstd-claim-bound; found reviewing what
// the fatbin fuzz target reaches): a ZSTD frame that does not state its
// content size let the entry header claim up to the 1 GiB cap, which
// EntryContent allocated (and zero-filled) before decompressing a few bytes.
TEST_CASE("a ZSTD frame without a size cannot claim more than it can hold", "[zstd-claim-bound]") {
  const std::string data(1000, 'x');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx);
  REQUIRE_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
  std::string frame(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  REQUIRE_FALSE(ZSTD_isError(n));
  frame.resize(n);
  REQUIRE(ZSTD_getFrameContentSize(frame.data(), frame.size()) == ZSTD_CONTENTSIZE_UNKNOWN);

  FatbinEntry entry{};
  entry.kind = FatbinEntry::kCubin;
  entry.flags = 0x8000;
  entry.compressed_size = static_cast<uint32_t>(n);
  entry.payload = frame;
  entry.uncompressed_size = data.size();
  std::string content;
  Status s = EntryContent(entry, &content);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(content == data);

  entry.uncompressed_size = uint64_t{900} << 20;  // under the 1 GiB cap, far beyond the frame
  s = EntryContent(entry, &content);
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("cannot hold") != std::string::npos);
}

TEST_CASE("randomly corrupted fatbinaries give errors or sane modules, never crashes", "[fatbin][corrupt]") {
  // Flip a few bytes, many times: the parser must answer with an error or a
  // usable module, never throw (and, in the sanitizer build, never read out
  // of bounds): any kernel it reports has parameters inside CUDA's
  // 32764-byte limit, since someone packs a buffer from them.
  unit::Rng rng(0x5eed1234);
  int errors = 0, loaded = 0;
  for (const char* file : {"kernels_default.fatbin", "kernels_size.fatbin", "kernels_speed_all.fatbin",
                           "kernels_ptx_none.fatbin"}) {
    const std::string original = ReadDataFile(file);
    for (int trial = 0; trial < 1500; ++trial) {
      std::string fatbin = original;
      int flips = 1 + static_cast<int>(rng.Below(4));
      for (int i = 0; i < flips; ++i) {
        // Mostly in the headers, where the sizes and offsets are.
        size_t at = rng.Below(4) == 0 ? rng.Below(fatbin.size()) : rng.Below(std::min<size_t>(fatbin.size(), 256));
        fatbin[at] = static_cast<char>(fatbin[at] ^ (1u << rng.Below(8)));
      }
      ModuleImage image;
      Status s;
      INFO(file << " trial " << trial);
      REQUIRE_NOTHROW(s = LoadModuleImage(fatbin, 90, &image));
      if (s.ok()) {
        ++loaded;
        for (const auto& k : image.kernels)
          for (const auto& p : k.params) REQUIRE(uint64_t{p.offset} + p.size <= 32764);
      } else {
        ++errors;
        CHECK_FALSE(s.message().empty());
      }
    }
  }
  // Both outcomes happen: the corruption reached the parser's checks.
  CHECK(errors > 0);
  CHECK(loaded > 0);
}

}  // namespace rcuda
