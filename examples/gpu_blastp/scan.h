// The scan stage: finds the ungapped HSPs of one query against a database,
// on the CPU (a BLAST-style lookup table, N threads) or on the GPU
// (gpu_scan.cu). Both return the same set, sorted by UngappedHspLess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "search_params.h"
#include "sequence_db.h"
#include "status.h"
#include "two_hit.h"
#include "xdrop_prelim.h"

namespace gpu_blastp {

// Total order on ungapped HSPs, so results never depend on thread timing.
bool UngappedHspLess(const UngappedHsp& a, const UngappedHsp& b);

struct ScanStats {
  uint64_t hsps = 0;         // ungapped HSPs that reached the gap trigger
  double seconds = 0;        // wall time of the scan
  double device_seconds = 0; // GPU: time in kernels (0 on the CPU)
  double upload_seconds = 0; // GPU: database copies to the device
};

Status ScanCpu(const uint8_t* query, int32_t query_length, const SequenceDb& db, const ScanParams& p, int threads,
               std::vector<UngappedHsp>* hsps, ScanStats* stats);

// The GPU side: the scan and the preliminary gapped extension. It keeps
// the database on the device between queries.
class GpuScanner {
 public:
  virtual ~GpuScanner() = default;
  virtual Status Scan(const uint8_t* query, int32_t query_length, const ScanParams& p,
                      std::vector<UngappedHsp>* hsps, ScanStats* stats) = 0;
  // Preliminary (score-only) gapped extension of every HSP, for the query of
  // the last Scan. (*out)[i] belongs to hsps[i]; an entry may come back with
  // overflow set, and the caller then computes it on the CPU.
  virtual Status Prelim(const std::vector<UngappedHsp>& hsps, int32_t gap_open, int32_t gap_extend, int32_t xdrop,
                        std::vector<PrelimResult>* out, double* device_seconds) = 0;
  virtual std::string DeviceName() const = 0;
};

// Opens the GPU and uploads the database. Fails with a clear message in a
// build without CUDA or on a machine without a GPU.
Status CreateGpuScanner(const SequenceDb& db, std::unique_ptr<GpuScanner>* out);

}  // namespace gpu_blastp
