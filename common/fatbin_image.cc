#include "common/fatbin_image.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "common/fatbin.h"

namespace rcuda {
namespace {

constexpr uint16_t kElfMachineCuda = 190;
constexpr uint16_t kFatbinVersion = 1;
constexpr uint16_t kFatbinHeaderSize = 16;
constexpr uint32_t kCubinEntryHeaderSize = 0x40;
constexpr uint32_t kPtxEntryHeaderSize = 0x50;
// What nvcc writes in every entry: u16 @2, and the flags (bit 0: 64-bit
// addresses; bit 4: a Linux host).
constexpr uint16_t kEntryVersion = 0x0101;
constexpr uint64_t kEntryFlags = 0x11;
// Payloads are padded to this (nvcc's do, compressed or not).
constexpr size_t kPayloadAlign = 16;

template <class T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void Store(std::string* out, size_t offset, T v) {
  std::memcpy(out->data() + offset, &v, sizeof v);
}

// Adds `a * b` to `*sum`, false on overflow.
bool AddProduct(uint64_t a, uint64_t b, uint64_t* sum) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return false;
  return !__builtin_add_overflow(*sum, product, sum);
}

// The number after `directive` in PTX text ("9.0" after ".version"), up to
// the end of its token; empty when absent.
std::string_view PtxDirective(std::string_view ptx, std::string_view directive) {
  for (size_t at = ptx.find(directive); at != std::string_view::npos; at = ptx.find(directive, at + 1)) {
    // A directive starts a line (after optional blanks).
    size_t line = ptx.rfind('\n', at);
    line = line == std::string_view::npos ? 0 : line + 1;
    if (ptx.find_first_not_of(" \t", line) != at) continue;
    size_t start = ptx.find_first_not_of(" \t", at + directive.size());
    if (start == std::string_view::npos || start == at + directive.size()) continue;
    size_t end = ptx.find_first_of(" \t\r\n,", start);
    return ptx.substr(start, end == std::string_view::npos ? ptx.size() - start : end - start);
  }
  return {};
}

bool ParseUint(std::string_view text, uint32_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end != text.data();
}

std::string Wrap(uint16_t kind, uint32_t header_size, uint16_t version_minor, uint16_t version_major,
                 uint32_t arch, std::string_view payload, bool nul_terminate) {
  size_t padded = (payload.size() + (nul_terminate ? 1 : 0) + kPayloadAlign - 1) / kPayloadAlign * kPayloadAlign;
  std::string out(kFatbinHeaderSize + header_size + padded, '\0');
  Store<uint32_t>(&out, 0, kFatbinMagic);
  Store<uint16_t>(&out, 4, kFatbinVersion);
  Store<uint16_t>(&out, 6, kFatbinHeaderSize);
  Store<uint64_t>(&out, 8, header_size + padded);
  const size_t e = kFatbinHeaderSize;
  Store<uint16_t>(&out, e + 0, kind);
  Store<uint16_t>(&out, e + 2, kEntryVersion);
  Store<uint32_t>(&out, e + 4, header_size);
  Store<uint64_t>(&out, e + 8, padded);
  Store<uint16_t>(&out, e + 24, version_minor);
  Store<uint16_t>(&out, e + 26, version_major);
  Store<uint32_t>(&out, e + 28, arch);
  Store<uint64_t>(&out, e + 40, kEntryFlags);
  if (kind == FatbinEntry::kPtx) {
    // nvcc's PTX entries point @20 at @64, which holds 0x48: an empty
    // options string at @72 (the compiler options the driver's JIT gets).
    Store<uint32_t>(&out, e + 20, 0x40);
    Store<uint32_t>(&out, e + 64, 0x48);
  }
  std::memcpy(out.data() + e + header_size, payload.data(), payload.size());
  return out;
}

}  // namespace

size_t CudaElfSize(const void* data, size_t limit) {
  const auto* p = static_cast<const uint8_t*>(data);
  constexpr size_t kElfHeaderSize = 64;
  // Byte by byte, stopping at the first mismatch: with no limit known (a
  // pointer from cuModuleLoadData), `data` may be a short NUL-terminated
  // PTX string.
  if (limit < kElfHeaderSize || p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F' ||
      p[4] != 2 /* ELFCLASS64 */ || p[5] != 1 /* little-endian */ || Load<uint16_t>(p + 0x12) != kElfMachineCuda) {
    return 0;
  }
  uint64_t phoff = Load<uint64_t>(p + 0x20), shoff = Load<uint64_t>(p + 0x28);
  uint16_t phentsize = Load<uint16_t>(p + 0x36), phnum = Load<uint16_t>(p + 0x38);
  uint16_t shentsize = Load<uint16_t>(p + 0x3A), shnum = Load<uint16_t>(p + 0x3C);
  uint64_t ph_end = phoff, sh_end = shoff;
  if (!AddProduct(phentsize, phnum, &ph_end) || !AddProduct(shentsize, shnum, &sh_end)) return 0;
  uint64_t end = std::max<uint64_t>(kElfHeaderSize, std::max(ph_end, sh_end));
  if (end > limit || (shnum > 0 && shentsize < 0x28)) return 0;
  for (uint16_t i = 0; i < shnum; ++i) {
    const uint8_t* sh = p + shoff + uint64_t(i) * shentsize;
    if (Load<uint32_t>(sh + 4) == 8 /* SHT_NOBITS: no bytes in the file */) continue;
    uint64_t section_end = Load<uint64_t>(sh + 0x18);
    if (__builtin_add_overflow(section_end, Load<uint64_t>(sh + 0x20), &section_end) || section_end > limit) return 0;
    end = std::max(end, section_end);
  }
  return end;
}

Status WrapInFatbinary(std::string_view image, std::string* fatbin) {
  if (size_t elf = CudaElfSize(image.data(), image.size())) {
    const auto* p = reinterpret_cast<const uint8_t*>(image.data());
    // e_flags bits 8-15: the SM (0x5a: sm_90); e_ident[EI_ABIVERSION] is
    // what nvcc copies to @24 (with 1 @26).
    uint32_t arch = (Load<uint32_t>(p + 0x30) >> 8) & 0xff;
    if (arch == 0) return Status::InvalidValue("cubin: no SM architecture in its ELF flags");
    *fatbin = Wrap(FatbinEntry::kCubin, kCubinEntryHeaderSize, p[8], 1, arch, image.substr(0, elf), false);
    return Status::Ok();
  }
  std::string_view ptx = image.substr(0, std::min(image.size(), image.find('\0')));
  std::string_view version = PtxDirective(ptx, ".version"), target = PtxDirective(ptx, ".target");
  if (version.empty() || target.empty()) {
    return Status::InvalidValue("neither a CUDA ELF cubin nor PTX text (no .version and .target)");
  }
  uint32_t major = 0, minor = 0, arch = 0;
  size_t dot = version.find('.');
  if (dot == std::string_view::npos || !ParseUint(version.substr(0, dot), &major) ||
      !ParseUint(version.substr(dot + 1), &minor) || major > 0xffff || minor > 0xffff) {
    return Status::InvalidValue("PTX: unreadable .version " + std::string(version));
  }
  // ".target sm_90", "sm_90a", "sm_100f": the number after "sm_" (or
  // "compute_").
  std::string_view sm = target.substr(0, target.find(','));
  size_t underscore = sm.find('_');
  if (underscore == std::string_view::npos || !ParseUint(sm.substr(underscore + 1), &arch) || arch == 0) {
    return Status::InvalidValue("PTX: unreadable .target " + std::string(target));
  }
  *fatbin = Wrap(FatbinEntry::kPtx, kPtxEntryHeaderSize, static_cast<uint16_t>(minor), static_cast<uint16_t>(major),
                 arch, ptx, true);
  return Status::Ok();
}

}  // namespace rcuda
