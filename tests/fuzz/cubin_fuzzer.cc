// Fuzz target: an ELF cubin as nvcc writes it (common/fatbin.h, ParseCubin):
// the section headers, .nv.info records (parameter layouts, launch bounds,
// register counts), symbol tables and variables. What a fatbinary entry
// holds once decompressed; the test backend parses it for every module load.
#include "fuzz_check.h"
#include "module_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  ModuleImage image;
  if (ParseCubin(fuzz::AsText(data, size), &image).ok()) fuzz::UseModule(image);
  return 0;
}
