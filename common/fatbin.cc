#include "common/fatbin.h"

#include <elf.h>
#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

namespace rcuda {
namespace {

template <class T>
bool ReadAt(std::string_view data, size_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

constexpr size_t kFatbinHeaderSize = 16;
constexpr uint32_t kElfMachineCuda = 190;
constexpr uint32_t kSectionTypeNvInfo = 0x70000000;
// Kernel parameter records. The classic form packs the size into bits 18-31
// of its last word (at most 16383 bytes); kernels with larger parameters
// (CUDA 12.1 allows 32764 bytes) get the second form, with a plain 32-bit
// size. Both: u16 ordinal @4, u16 offset @6.
constexpr uint8_t kAttrKparamInfo = 0x17;
constexpr uint8_t kAttrKparamInfoLarge = 0x45;
// __launch_bounds__: u32 x, y, z.
constexpr uint8_t kAttrMaxThreads = 0x05;

}  // namespace

size_t FatbinarySize(const void* data) {
  uint32_t magic;
  std::memcpy(&magic, data, sizeof magic);
  if (magic != kFatbinMagic) return 0;
  uint16_t header_size;
  uint64_t body_size;
  std::memcpy(&header_size, static_cast<const char*>(data) + 6, sizeof header_size);
  std::memcpy(&body_size, static_cast<const char*>(data) + 8, sizeof body_size);
  return header_size + body_size;
}

Status ParseFatbinary(std::string_view fatbin, std::vector<FatbinEntry>* entries) {
  entries->clear();
  uint32_t magic;
  uint16_t header_size;
  uint64_t body_size;
  if (!ReadAt(fatbin, 0, &magic) || magic != kFatbinMagic) {
    return Status::Corruption("fatbinary: bad magic");
  }
  if (!ReadAt(fatbin, 6, &header_size) || !ReadAt(fatbin, 8, &body_size) ||
      header_size < kFatbinHeaderSize) {
    return Status::Corruption("fatbinary: truncated header");
  }
  if (body_size > fatbin.size() - header_size) {
    return Status::Corruption("fatbinary: size field exceeds data");
  }
  size_t offset = header_size;
  const size_t end = header_size + body_size;
  while (offset < end) {
    uint16_t kind;
    uint32_t entry_header_size, arch;
    uint64_t payload_size, flags, uncompressed;
    if (!ReadAt(fatbin, offset, &kind) || !ReadAt(fatbin, offset + 4, &entry_header_size) ||
        !ReadAt(fatbin, offset + 8, &payload_size) || !ReadAt(fatbin, offset + 28, &arch) ||
        !ReadAt(fatbin, offset + 40, &flags) || !ReadAt(fatbin, offset + 56, &uncompressed)) {
      return Status::Corruption("fatbinary: truncated entry header");
    }
    if (entry_header_size < 64 || entry_header_size > end - offset ||
        payload_size > end - offset - entry_header_size) {
      return Status::Corruption("fatbinary: entry exceeds fatbinary");
    }
    FatbinEntry entry;
    entry.kind = static_cast<FatbinEntry::Kind>(kind);
    entry.arch = arch;
    entry.flags = flags;
    entry.uncompressed_size = (flags & (0x2000 | 0x8000)) ? uncompressed : 0;
    uint32_t compressed = 0;
    ReadAt(fatbin, offset + 16, &compressed);
    entry.compressed_size = compressed;
    entry.payload = fatbin.substr(offset + entry_header_size, payload_size);
    if (kind == FatbinEntry::kPtx || kind == FatbinEntry::kCubin) entries->push_back(entry);
    offset += entry_header_size + payload_size;
  }
  return Status::Ok();
}

// A decompressed entry larger than this is taken for damage: real cubins
// and PTX are far smaller, and the size decides an allocation.
constexpr uint64_t kMaxEntryContent = 1ull << 30;
constexpr uint64_t kMaxZstdExpansion = (128 << 10) / 4;

Status EntryContent(const FatbinEntry& entry, std::string* content) {
  if ((entry.zstd() || entry.lz4()) && entry.uncompressed_size > kMaxEntryContent) {
    return Status::Corruption("fatbinary: entry claims " + std::to_string(entry.uncompressed_size) +
                              " bytes decompressed");
  }
  if (entry.zstd()) {
    // The payload is padded: find the frame's real size first.
    size_t frame = ZSTD_findFrameCompressedSize(entry.payload.data(), entry.payload.size());
    if (ZSTD_isError(frame)) return Status::Corruption("fatbinary: bad zstd frame");
    unsigned long long declared = ZSTD_getFrameContentSize(entry.payload.data(), frame);
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != entry.uncompressed_size) {
      return Status::Corruption("fatbinary: zstd frame size disagrees with the entry header");
    }
    // A frame that does not say its size: no zstd block gives more than
    // 128 KiB and none takes fewer than 4 bytes (an RLE block), which bounds
    // a believable claim before it sizes an allocation.
    if (entry.uncompressed_size > kMaxZstdExpansion * frame) {
      return Status::Corruption("fatbinary: a " + std::to_string(frame) + "-byte zstd frame cannot hold the " +
                                std::to_string(entry.uncompressed_size) + " bytes the entry claims (at most " +
                                std::to_string(kMaxZstdExpansion) + " per byte)");
    }
    content->resize(entry.uncompressed_size);
    size_t n = ZSTD_decompress(content->data(), content->size(), entry.payload.data(), frame);
    if (ZSTD_isError(n) || n != entry.uncompressed_size) {
      return Status::Corruption("fatbinary: zstd decompression failed");
    }
    return Status::Ok();
  }
  if (entry.lz4()) {
    // A raw LZ4 block of exactly compressed_size bytes (padding follows);
    // decoding all of it must give exactly the claimed size. LZ4 expands at
    // most 255-fold, which bounds a believable claim.
    if (entry.compressed_size == 0 || entry.compressed_size > entry.payload.size() ||
        entry.uncompressed_size > 255ull * entry.compressed_size + 16) {
      return Status::Corruption("fatbinary: lz4 entry sizes are inconsistent");
    }
    content->resize(entry.uncompressed_size + 1);  // room to notice a longer stream
    int n = LZ4_decompress_safe(entry.payload.data(), content->data(), static_cast<int>(entry.compressed_size),
                                static_cast<int>(content->size()));
    if (n < 0 || static_cast<uint64_t>(n) != entry.uncompressed_size) {
      return Status::Corruption("fatbinary: lz4 decompression failed or gave the wrong size");
    }
    content->resize(entry.uncompressed_size);
    return Status::Ok();
  }
  content->assign(entry.payload);
  return Status::Ok();
}

const CubinKernel* ModuleImage::FindKernel(std::string_view name) const {
  for (const auto& k : kernels)
    if (k.name == name) return &k;
  return nullptr;
}

const CubinVariable* ModuleImage::FindVariable(std::string_view name) const {
  for (const auto& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

namespace {

// Reads the KPARAM_INFO records of one .nv.info.<kernel> section.
Status ParseKernelInfo(std::string_view info, CubinKernel* kernel) {
  std::map<uint32_t, KernelParamInfo> by_ordinal;
  size_t pos = 0;
  while (pos + 4 <= info.size()) {
    uint8_t format = static_cast<uint8_t>(info[pos]);
    uint8_t attribute = static_cast<uint8_t>(info[pos + 1]);
    uint16_t value16 = 0;
    ReadAt(info, pos + 2, &value16);
    if (format == 4) {  // EIFMT_SVAL: u16 length, then the value
      size_t value_at = pos + 4;
      if (value16 > info.size() - value_at) return Status::Corruption("cubin: truncated .nv.info record");
      if ((attribute == kAttrKparamInfo || attribute == kAttrKparamInfoLarge) && value16 >= 12) {
        uint16_t ordinal = 0, offset = 0;
        uint32_t word = 0;
        ReadAt(info, value_at + 4, &ordinal);
        ReadAt(info, value_at + 6, &offset);
        ReadAt(info, value_at + 8, &word);
        uint32_t size = attribute == kAttrKparamInfo ? (word >> 18) & 0x3fff : word;
        by_ordinal[ordinal] = KernelParamInfo{offset, size};
      }
      if (attribute == kAttrMaxThreads && value16 >= 12) {
        uint32_t x = 0, y = 0, z = 0;
        ReadAt(info, value_at, &x);
        ReadAt(info, value_at + 4, &y);
        ReadAt(info, value_at + 8, &z);
        kernel->max_threads = x * std::max(y, 1u) * std::max(z, 1u);
      }
      pos = value_at + value16;
    } else if (format >= 1 && format <= 3) {  // no value, or an inline u16
      pos += 4;
    } else {
      return Status::Corruption("cubin: unknown .nv.info record format " + std::to_string(format));
    }
  }
  kernel->params.clear();
  uint32_t expected = 0;
  for (const auto& [ordinal, param] : by_ordinal) {
    if (ordinal != expected++) return Status::Corruption("cubin: gap in kernel parameter ordinals");
    if (uint64_t(param.offset) + param.size > kMaxKernelParamBytes) {
      return Status::Corruption("cubin: kernel parameters beyond CUDA's 32764-byte limit");
    }
    kernel->params.push_back(param);
  }
  return Status::Ok();
}

}  // namespace

Status ParseCubin(std::string_view elf, ModuleImage* image) {
  Elf64_Ehdr eh;
  if (!ReadAt(elf, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return Status::Corruption("cubin: not an ELF64 file");
  }
  if (eh.e_machine != kElfMachineCuda) return Status::Corruption("cubin: not a CUDA ELF");
  if (eh.e_shentsize != sizeof(Elf64_Shdr)) return Status::Corruption("cubin: bad section header size");
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  for (size_t i = 0; i < sections.size(); ++i) {
    if (!ReadAt(elf, eh.e_shoff + i * sizeof(Elf64_Shdr), &sections[i])) {
      return Status::Corruption("cubin: truncated section headers");
    }
  }
  auto section_data = [&](const Elf64_Shdr& s) -> std::string_view {
    if (s.sh_type == SHT_NOBITS || s.sh_offset > elf.size() || s.sh_size > elf.size() - s.sh_offset) return {};
    return elf.substr(s.sh_offset, s.sh_size);
  };
  auto string_at = [&](const Elf64_Shdr& table, uint32_t index) -> std::string_view {
    std::string_view strings = section_data(table);
    if (index >= strings.size()) return {};
    std::string_view rest = strings.substr(index);
    return rest.substr(0, rest.find('\0'));
  };
  if (eh.e_shstrndx >= sections.size()) return Status::Corruption("cubin: bad section name table");
  const Elf64_Shdr& shstr = sections[eh.e_shstrndx];

  image->kernels.clear();
  image->variables.clear();
  for (const auto& s : sections) {
    std::string_view name = string_at(shstr, s.sh_name);
    if (s.sh_type == kSectionTypeNvInfo && name.starts_with(".nv.info.")) {
      CubinKernel kernel;
      kernel.name = std::string(name.substr(9));
      RCUDA_RETURN_IF_ERROR(ParseKernelInfo(section_data(s), &kernel));
      image->kernels.push_back(std::move(kernel));
    }
  }
  // Kernels without parameters have no .nv.info.<name> section on some
  // toolchains: take every function symbol that has a .text.<name> section.
  for (const auto& s : sections) {
    if (s.sh_type != SHT_SYMTAB) continue;
    if (s.sh_link >= sections.size() || s.sh_entsize != sizeof(Elf64_Sym)) continue;
    const Elf64_Shdr& strtab = sections[s.sh_link];
    std::string_view symbols = section_data(s);
    for (size_t off = 0; off + sizeof(Elf64_Sym) <= symbols.size(); off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, symbols.data() + off, sizeof sym);
      std::string_view sym_name = string_at(strtab, sym.st_name);
      if (sym_name.empty() || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= sections.size()) continue;
      const Elf64_Shdr& home = sections[sym.st_shndx];
      std::string_view home_name = string_at(shstr, home.sh_name);
      int type = ELF64_ST_TYPE(sym.st_info);
      if (type == STT_FUNC && home_name == ".text." + std::string(sym_name)) {
        if (!image->FindKernel(sym_name)) image->kernels.push_back(CubinKernel{std::string(sym_name), {}, 0});
      } else if (type == STT_OBJECT &&
                 (home_name.starts_with(".nv.global") || home_name.starts_with(".nv.constant"))) {
        // .nv.constant0.* are kernel parameter banks, never user variables.
        if (home_name.starts_with(".nv.constant0")) continue;
        CubinVariable var;
        var.name = std::string(sym_name);
        var.size = sym.st_size;
        var.constant = home_name.starts_with(".nv.constant");
        std::string_view data = section_data(home);
        if (!data.empty() && sym.st_value <= data.size() && sym.st_size <= data.size() - sym.st_value) {
          var.init = std::string(data.substr(sym.st_value, sym.st_size));
        }
        image->variables.push_back(std::move(var));
      }
    }
  }
  // Registers: EIATTR_REGCOUNT records (symbol index, count) in the
  // module-wide .nv.info section, whose sh_link is the symbol table.
  for (const auto& s : sections) {
    if (s.sh_type != kSectionTypeNvInfo || string_at(shstr, s.sh_name) != ".nv.info") continue;
    if (s.sh_link >= sections.size()) continue;
    const Elf64_Shdr& symtab = sections[s.sh_link];
    if (symtab.sh_link >= sections.size()) continue;
    std::string_view info = section_data(s), symbols = section_data(symtab);
    for (size_t pos = 0; pos + 4 <= info.size();) {
      uint8_t format = static_cast<uint8_t>(info[pos]), attribute = static_cast<uint8_t>(info[pos + 1]);
      uint16_t length = 0;
      ReadAt(info, pos + 2, &length);
      if (format != 4) {
        pos += 4;
        continue;
      }
      if (attribute == 0x2f && length >= 8) {
        uint32_t symbol = 0, count = 0;
        ReadAt(info, pos + 4, &symbol);
        ReadAt(info, pos + 8, &count);
        Elf64_Sym sym;
        if (ReadAt(symbols, symbol * sizeof(Elf64_Sym), &sym)) {
          std::string_view sym_name = string_at(sections[symtab.sh_link], sym.st_name);
          for (auto& k : image->kernels)
            if (k.name == sym_name) k.registers = count;
        }
      }
      pos += 4 + length;
    }
  }
  // Static shared memory: the size of the kernel's .nv.shared.<name>.
  for (const auto& s : sections) {
    std::string_view name = string_at(shstr, s.sh_name);
    if (!name.starts_with(".nv.shared.")) continue;
    for (auto& k : image->kernels)
      if (name.substr(11) == k.name) k.static_shared_bytes = s.sh_size >= 1024 ? s.sh_size - 1024 : s.sh_size;
  }
  return Status::Ok();
}

namespace {

// The decimal number `text` starts with (what follows it, such as "]" in
// "4]", is ignored); false when there is none or it does not fit.
bool LeadingNumber(std::string_view text, uint64_t* value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end != text.data();
}

// PTX types and their sizes in bytes (.u32: 4); 0 for what is not one.
uint32_t PtxTypeSize(std::string_view type) {
  if (type == ".pred") return 1;
  if (type.size() < 3) return 0;
  uint64_t bits = 0;
  if (!LeadingNumber(type.substr(2), &bits) || bits > 1024) return 0;
  return static_cast<uint32_t>(bits / 8);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses one parameter declaration such as ".param .u64 p" or
// ".param .align 8 .b8 p[16]" into its size and alignment.
bool ParsePtxParam(std::string_view decl, uint32_t* size, uint32_t* align) {
  decl = Trim(decl);
  if (!decl.starts_with(".param")) return false;
  decl.remove_prefix(6);
  *align = 0;
  std::vector<std::string_view> words;
  while (!(decl = Trim(decl)).empty()) {
    size_t n = 0;
    while (n < decl.size() && !std::isspace(static_cast<unsigned char>(decl[n]))) ++n;
    words.push_back(decl.substr(0, n));
    decl.remove_prefix(n);
  }
  size_t i = 0;
  if (i < words.size() && words[i] == ".ptr") ++i;  // .ptr .global .align N
  while (i < words.size() && (words[i] == ".global" || words[i] == ".const" || words[i] == ".local" ||
                              words[i] == ".shared")) {
    ++i;
  }
  if (i + 1 < words.size() && words[i] == ".align") {
    uint64_t value = 0;
    if (!LeadingNumber(words[i + 1], &value) || value > kMaxKernelParamBytes) return false;
    *align = static_cast<uint32_t>(value);
    i += 2;
  }
  if (i + 1 >= words.size()) return false;
  uint32_t elem = PtxTypeSize(words[i]);
  if (elem == 0) return false;
  std::string_view var = words[i + 1];
  uint64_t count = 1;
  if (size_t bracket = var.find('['); bracket != std::string_view::npos) {
    if (!LeadingNumber(var.substr(bracket + 1), &count)) return false;
  }
  // No parameter is larger than all of them may be (and the product fits).
  if (count > kMaxKernelParamBytes / elem) return false;
  *size = static_cast<uint32_t>(elem * count);
  if (*align == 0) *align = elem;
  return true;
}

// One PTX literal (decimal, 0x hex, 0f/0d float bits) as an integer of
// `size` bytes.
bool ParsePtxLiteral(std::string_view text, uint32_t size, uint64_t* bits) {
  text = Trim(text);
  if (text.empty()) return false;
  std::string t(text);
  char* end = nullptr;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'f' || t[1] == 'F' || t[1] == 'd' || t[1] == 'D')) {
    *bits = std::strtoull(t.c_str() + 2, &end, 16);
  } else if (t[0] == '-') {
    *bits = static_cast<uint64_t>(std::strtoll(t.c_str(), &end, 0));
  } else {
    *bits = std::strtoull(t.c_str(), &end, 0);
  }
  if (!end || *end != '\0') return false;
  if (size < 8) *bits &= (uint64_t{1} << (8 * size)) - 1;
  return true;
}

// A module-scope variable: "[.visible] .global|.const [.align N] .type
// name[count] [= value | {values}]". Returns false for what is not one.
Status ParsePtxVariable(std::string_view decl, ModuleImage* image) {
  std::vector<std::string_view> words;
  std::string_view init;
  if (size_t eq = decl.find('='); eq != std::string_view::npos) {
    init = Trim(decl.substr(eq + 1));
    decl = decl.substr(0, eq);
  }
  while (!(decl = Trim(decl)).empty()) {
    size_t n = 0;
    while (n < decl.size() && !std::isspace(static_cast<unsigned char>(decl[n]))) ++n;
    words.push_back(decl.substr(0, n));
    decl.remove_prefix(n);
  }
  size_t i = 0;
  while (i < words.size() && (words[i] == ".visible" || words[i] == ".weak" || words[i] == ".common")) ++i;
  if (i < words.size() && words[i] == ".extern") return Status::Ok();  // declared elsewhere
  if (i >= words.size() || (words[i] != ".global" && words[i] != ".const")) return Status::Ok();
  bool constant = words[i] == ".const";
  ++i;
  if (i + 1 < words.size() && words[i] == ".align") i += 2;
  if (i + 1 >= words.size()) return Status::Corruption("ptx: cannot parse variable declaration");
  uint32_t elem = PtxTypeSize(words[i]);
  std::string_view name = words[i + 1];
  uint64_t count = 1;
  if (size_t bracket = name.find('['); bracket != std::string_view::npos) {
    if (!LeadingNumber(name.substr(bracket + 1), &count)) count = 0;
    name = name.substr(0, bracket);
  }
  if (elem == 0 || count == 0 || count > std::numeric_limits<uint64_t>::max() / elem) {
    return Status::Corruption("ptx: cannot size variable " + std::string(name));
  }
  CubinVariable var;
  var.name = std::string(name);
  var.size = elem * count;
  var.constant = constant;
  if (!init.empty()) {
    // Literals are read as 64-bit integers: no wider element can take one.
    if (elem > sizeof(uint64_t)) {
      return Status::Corruption("ptx: initializer of " + var.name + ": elements wider than 64 bits are not supported");
    }
    // Values in order; braces of multi-dimensional arrays only group them.
    // The initial bytes grow with the values given (the rest of the
    // variable is zero): never more than the text spells out, however large
    // the variable claims to be.
    std::string values(init);
    for (char& c : values)
      if (c == '{' || c == '}') c = ' ';
    uint64_t at = 0;
    std::string_view rest = values;
    while (!Trim(rest).empty()) {
      size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      uint64_t bits;
      if (!ParsePtxLiteral(item, elem, &bits) || at + elem > var.size) {
        return Status::Corruption("ptx: initializer of " + var.name + " not understood: '" + std::string(item) + "'");
      }
      var.init.resize(at + elem);
      std::memcpy(var.init.data() + at, &bits, elem);  // little-endian, as the GPU
      at += elem;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  image->variables.push_back(std::move(var));
  return Status::Ok();
}

}  // namespace

Status ParsePtx(std::string_view ptx, ModuleImage* image) {
  image->kernels.clear();
  image->variables.clear();
  // Module-scope variables: statements at brace depth 0 that declare
  // .global or .const storage.
  {
    int depth = 0, init_depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < ptx.size(); ++i) {
      char c = ptx[i];
      // Braces after '=' belong to an initializer, not to a function body.
      if (c == '{' && depth == 0 && (init_depth > 0 || ptx.substr(start, i - start).find('=') != std::string_view::npos)) {
        ++init_depth;
        continue;
      }
      if (c == '}' && init_depth > 0) {
        --init_depth;
        continue;
      }
      if (c == '{') ++depth;
      if (c == '}') --depth;
      if (c == ';' && depth == 0) {
        std::string_view statement = Trim(ptx.substr(start, i - start));
        // Comments and directives before the declaration end at a newline.
        if (size_t nl = statement.rfind('\n'); nl != std::string_view::npos) {
          std::string_view last_line = Trim(statement.substr(nl + 1));
          if (last_line.starts_with(".global") || last_line.starts_with(".const") ||
              last_line.starts_with(".visible") || last_line.starts_with(".extern") || last_line.starts_with(".weak")) {
            statement = last_line;
          }
        }
        RCUDA_RETURN_IF_ERROR(ParsePtxVariable(statement, image));
        start = i + 1;
      }
      if (depth == 0 && c == '}') start = i + 1;
    }
  }
  size_t pos = 0;
  while ((pos = ptx.find(".entry", pos)) != std::string_view::npos) {
    pos += 6;
    size_t open = ptx.find('(', pos);
    size_t brace = ptx.find('{', pos);
    std::string_view name_part = Trim(ptx.substr(pos, std::min(open, brace) - pos));
    CubinKernel kernel;
    kernel.name = std::string(name_part);
    if (open != std::string_view::npos && open < brace) {
      size_t close = ptx.find(')', open);
      if (close == std::string_view::npos) return Status::Corruption("ptx: unterminated parameter list");
      std::string_view list = ptx.substr(open + 1, close - open - 1);
      uint32_t offset = 0;
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view decl = list.substr(0, comma);
        uint32_t size, align;
        if (!ParsePtxParam(decl, &size, &align)) {
          return Status::Corruption("ptx: cannot parse parameter '" + std::string(Trim(decl)) + "'");
        }
        offset = (offset + align - 1) / align * align;
        if (uint64_t(offset) + size > kMaxKernelParamBytes) {
          return Status::Corruption("ptx: kernel parameters beyond CUDA's 32764-byte limit");
        }
        kernel.params.push_back(KernelParamInfo{offset, size});
        offset += size;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
      pos = close;
    }
    image->kernels.push_back(std::move(kernel));
  }
  return Status::Ok();
}

Status LoadModuleImage(std::string_view fatbin, uint32_t arch, ModuleImage* image) {
  std::vector<FatbinEntry> entries;
  RCUDA_RETURN_IF_ERROR(ParseFatbinary(fatbin, &entries));
  const FatbinEntry* best = nullptr;
  for (const auto& e : entries) {
    if (e.kind != FatbinEntry::kCubin || e.arch > arch) continue;
    if (!best || e.arch > best->arch) best = &e;
  }
  if (!best) {
    for (const auto& e : entries)
      if (e.kind == FatbinEntry::kPtx && (!best || e.arch > best->arch)) best = &e;
  }
  if (!best) return Status(209, "fatbinary has no cubin or PTX usable for sm_" + std::to_string(arch));
  std::string content;
  RCUDA_RETURN_IF_ERROR(EntryContent(*best, &content));
  if (best->kind == FatbinEntry::kCubin) return ParseCubin(content, image);
  return ParsePtx(content, image);
}

}  // namespace rcuda
