// Fuzz target: a fatbinary as a program hands it to __cudaRegisterFatBinary
// and the client sends it to the server (common/fatbin.h): the container
// (ParseFatbinary), each entry's content with its LZ4 or ZSTD decompression
// (EntryContent), the cubin or PTX inside, and LoadModuleImage, the test
// backend's entry point, which picks the entry for sm_90. The same bytes as
// a bare image the driver-API client wraps (common/fatbin_image.h): its ELF
// sizing stays inside the input, and a wrapped image parses back.
#include <cstring>

#include "common/fatbin_image.h"
#include "fuzz_check.h"
#include "module_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  std::string_view fatbin = fuzz::AsText(data, size);
  if (size >= 16) {
    // The client sizes the fatbinary from its header alone; it must agree
    // with the parser about what is a header.
    size_t claimed = FatbinarySize(data);
    uint32_t magic;
    std::memcpy(&magic, data, sizeof magic);
    FUZZ_CHECK(magic == kFatbinMagic || claimed == 0, "FatbinarySize sized what is not a fatbinary");
  }
  std::vector<FatbinEntry> entries;
  if (ParseFatbinary(fatbin, &entries).ok()) {
    for (const FatbinEntry& entry : entries) {
      FUZZ_CHECK(entry.payload.data() >= fatbin.data() &&
                     entry.payload.data() + entry.payload.size() <= fatbin.data() + fatbin.size(),
                 "an entry's payload lies outside the fatbinary");
      std::string content;
      if (!EntryContent(entry, &content).ok()) continue;
      if (entry.lz4() || entry.zstd()) {
        FUZZ_CHECK(content.size() == entry.uncompressed_size, "decompressed to another size than the entry claims");
      }
      ModuleImage image;
      Status parsed = entry.kind == FatbinEntry::kCubin ? ParseCubin(content, &image) : ParsePtx(content, &image);
      if (parsed.ok()) fuzz::UseModule(image);
    }
  }
  ModuleImage image;
  if (LoadModuleImage(fatbin, 90, &image).ok()) fuzz::UseModule(image);

  FUZZ_CHECK(CudaElfSize(data, size) <= size, "CudaElfSize reaches past its limit");
  std::string wrapped;
  if (WrapInFatbinary(fatbin, &wrapped).ok()) {
    FUZZ_CHECK(FatbinarySize(wrapped.data()) == wrapped.size(), "a wrapped image's header misstates its size");
    std::vector<FatbinEntry> wrapped_entries;
    FUZZ_CHECK(ParseFatbinary(wrapped, &wrapped_entries).ok() && wrapped_entries.size() == 1,
               "a wrapped image is not a fatbinary of one entry");
  }
  return 0;
}
