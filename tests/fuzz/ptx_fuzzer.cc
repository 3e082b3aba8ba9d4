// Fuzz target: PTX text (common/fatbin.h, ParsePtx): the .entry parameter
// lists and the module's .global/.const variables with their initializers.
// The test backend parses it when a program carries PTX only.
#include "fuzz_check.h"
#include "module_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  ModuleImage image;
  if (ParsePtx(fuzz::AsText(data, size), &image).ok()) fuzz::UseModule(image);
  return 0;
}
