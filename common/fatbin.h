// Parsers for what nvcc embeds in a CUDA program: the fatbinary (a container
// of PTX and cubin entries, possibly compressed) and the cubin (an ELF file
// whose .nv.info sections describe each kernel's parameters).
//
// The server's test backend uses them to lay out kernel parameters and module
// variables without a GPU; the CUDA backend asks the driver instead. Formats:
// ../shared/docs/cuda13-abi.md ("Fatbinary format", "Kernel parameter layout").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda {

// The 24-byte wrapper that __cudaRegisterFatBinary receives.
struct FatbinWrapper {
  uint32_t magic;    // kFatbinWrapperMagic
  uint32_t version;  // 1, or 2 with -rdc
  const void* data;  // the fatbinary
  const void* filename_or_fatbins;
};
inline constexpr uint32_t kFatbinWrapperMagic = 0x466243B1;
inline constexpr uint32_t kFatbinMagic = 0xBA55ED50;

// Size in bytes of the fatbinary that starts at `data` (header included), or
// 0 if `data` does not start with a fatbinary header.
size_t FatbinarySize(const void* data);

struct FatbinEntry {
  enum Kind : uint16_t { kPtx = 1, kCubin = 2 };
  Kind kind;
  uint32_t arch;               // e.g. 90
  uint64_t flags;
  uint64_t uncompressed_size;  // 0 when the entry is not compressed
  uint32_t compressed_size;    // the compressed stream's exact size (before padding)
  std::string_view payload;    // as stored (compressed or not)

  bool lz4() const { return flags & 0x2000; }
  bool zstd() const { return flags & 0x8000; }
};

// Splits a whole fatbinary (header included) into its entries.
Status ParseFatbinary(std::string_view fatbin, std::vector<FatbinEntry>* entries);

// The entry's content, decompressed if needed.
Status EntryContent(const FatbinEntry& entry, std::string* content);

struct KernelParamInfo {
  uint32_t offset;
  uint32_t size;
};

// CUDA's limit on a kernel's parameters (CUDA 12.1 and later).
inline constexpr uint32_t kMaxKernelParamBytes = 32764;

struct CubinKernel {
  std::string name;                     // mangled
  std::vector<KernelParamInfo> params;  // in ordinal order
  // From .nv.shared.<name>, less the 1 KiB that sm_90 cubins reserve in
  // every kernel's shared memory (the driver reports that part separately,
  // as cudaDevAttrReservedSharedMemoryPerBlock).
  uint64_t static_shared_bytes = 0;
  uint32_t registers = 0;               // EIATTR_REGCOUNT of .nv.info
  uint32_t max_threads = 0;             // __launch_bounds__ (EIATTR_MAX_THREADS), 0 if none
};

struct CubinVariable {
  std::string name;
  uint64_t size = 0;
  bool constant = false;  // __constant__ rather than __device__
  // Initial bytes: the first init.size() bytes of the variable (at most
  // `size`); the rest, or all when empty, are zero.
  std::string init;
};

struct ModuleImage {
  std::vector<CubinKernel> kernels;
  std::vector<CubinVariable> variables;

  const CubinKernel* FindKernel(std::string_view name) const;
  const CubinVariable* FindVariable(std::string_view name) const;
};

// Reads kernels (with parameter layout) and variables out of an ELF cubin.
Status ParseCubin(std::string_view elf, ModuleImage* image);

// Reads kernels and their parameter layout out of PTX text (.entry lists),
// and the module's .global/.const variables with their initializers.
Status ParsePtx(std::string_view ptx, ModuleImage* image);

// Picks the best entry of a fatbinary for `arch` (a cubin of that arch, else
// the highest cubin arch not above it, else PTX) and parses it.
Status LoadModuleImage(std::string_view fatbin, uint32_t arch, ModuleImage* image);

}  // namespace rcuda
