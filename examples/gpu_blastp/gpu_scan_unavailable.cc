// Built instead of gpu_scan.cu when CUDA programs are not built: the GPU
// mode then says so instead of pretending.
#include "scan.h"

namespace gpu_blastp {

Status CreateGpuScanner(const SequenceDb&, std::unique_ptr<GpuScanner>*) {
  return Status::Error("this gpu_blastp was built without CUDA (RCUDA_BUILD_CUDA_PROGRAMS=OFF); use --mode cpu");
}

}  // namespace gpu_blastp
