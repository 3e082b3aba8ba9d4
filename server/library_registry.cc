// The libraries this worker forwards (server/library_call.h): each one's
// table is generated from its description, client/libs/<name>.def.
#include "server/library_call.h"

#include "server/cublas_worker.inc"
#include "server/curand_worker.inc"
#include "server/cufft_worker.inc"
#include "server/cusolver_workspace.h"  // before the table whose sizes it computes
#include "server/cusolver_worker.inc"
#include "server/cusparse_worker.inc"

namespace rcuda::library {

const LibraryDescription* FindLibrary(uint32_t wire_id) {
  static const LibraryDescription* const kLibraries[] = {&cublas::kDescription, &curand::kDescription,
                                                         &cufft::kDescription, &cusolver::kDescription,
                                                         &cusparse::kDescription};
  for (const LibraryDescription* d : kLibraries) {
    if (d->wire_id == wire_id) return d;
  }
  return nullptr;
}

}  // namespace rcuda::library
