// TEST EQUIPMENT: cuGetProcAddress_v2, the only symbol the fake
// libcuda.so.1 exports (libcuda.map): rcuda-server reaches every entry point
// through it (server/cuda_driver.cc).
//
// Like the real driver it answers a (name, CUDA version) request with the
// newest ABI version of the entry point not above the requested version;
// the versions that exist come from the toolkit's cudaTypedefs.h
// (abi_versions.inc). The fake implements one ABI version per entry point,
// the one rcuda asks for; any other request is refused with
// CUDA_ERROR_NOT_FOUND and a log line, so a caller asking for the wrong ABI
// fails loudly instead of calling through a mismatched prototype.
#include <cstring>
#include <string_view>

#include "tests/fake_driver/call_counts.h"
#include "tests/fake_driver/driver_state.h"
#include "tests/fake_driver/entry_points.h"

namespace fake {
namespace {

struct AbiVersion {
  const char* name;
  int version;
};

constexpr AbiVersion kAbiVersions[] = {
#include "abi_versions.inc"
};

// Logs failing calls (RCUDA_FAKE_DRIVER_TRACE=1) or all calls (2); counts
// them (RCUDA_FAKE_DRIVER_CALL_COUNTS, call_counts.h).
template <auto F, const char* Name, int Slot>
struct Traced;

template <typename... Args, CUresult (*F)(Args...), const char* Name, int Slot>
struct Traced<F, Name, Slot> {
  static CUresult Call(Args... args) {
    CountCall(Slot);
    CUresult r = F(args...);
    int level = TraceLevel();
    if (level >= 2 || (level == 1 && r != CUDA_SUCCESS && r != CUDA_ERROR_NOT_READY)) Log("%s -> %d", Name, r);
    return r;
  }
};

#define FAKE_NAME(name, version) constexpr char kName_##name[] = #name;
RCUDA_DRIVER_FUNCTIONS(FAKE_NAME)
#undef FAKE_NAME

struct EntryPoint {
  const char* name;
  int version;
  void* function;        // the traced wrapper handed out
  void* implementation;  // null: declared, not implemented (entry_points.h)
};

const EntryPoint kEntryPoints[] = {
#define FAKE_ENTRY(name, version) \
  {#name, version, reinterpret_cast<void*>(&Traced<&fake::name, kName_##name, kCount_##name>::Call), \
   reinterpret_cast<void*>(&fake::name)},
    RCUDA_DRIVER_FUNCTIONS(FAKE_ENTRY)
#undef FAKE_ENTRY
};

// The ABI version the real driver would give for `cuda_version`; 0 if none.
int ChosenAbi(std::string_view name, int cuda_version) {
  int chosen = 0;
  for (const auto& v : kAbiVersions)
    if (name == v.name && v.version <= cuda_version && v.version > chosen) chosen = v.version;
  return chosen;
}

}  // namespace
}  // namespace fake

extern "C" __attribute__((visibility("default"))) CUresult cuGetProcAddress_v2(const char* symbol, void** function, int cuda_version, cuuint64_t flags,
                                        CUdriverProcAddressQueryResult* status) {
  using namespace fake;
  if (!symbol || !function) return CUDA_ERROR_INVALID_VALUE;
  *function = nullptr;
  if (status) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  if (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) {
    Log("cuGetProcAddress(%s): per-thread default stream entry points are not modeled", symbol);
    return CUDA_ERROR_NOT_FOUND;
  }
  const EntryPoint* entry = nullptr;
  for (const auto& e : kEntryPoints)
    if (std::strcmp(e.name, symbol) == 0) entry = &e;
  if (!entry || !entry->implementation) {
    Log("cuGetProcAddress(%s): not implemented by the fake driver", symbol);
    return CUDA_ERROR_NOT_FOUND;
  }
  int abi = ChosenAbi(symbol, cuda_version);
  if (abi == 0) {
    if (status) *status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
    return CUDA_ERROR_NOT_FOUND;
  }
  if (abi != entry->version) {
    Log("cuGetProcAddress(%s, %d) selects ABI version %d; the fake driver implements only version %d", symbol,
        cuda_version, abi, entry->version);
    return CUDA_ERROR_NOT_FOUND;
  }
  *function = entry->function;
  if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}
