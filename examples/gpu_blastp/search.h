// One query against the database: the scan (CPU or GPU) finds ungapped
// HSPs; the gapped stage (N CPU threads) extends them with X-drop dynamic
// programming; Karlin-Altschul statistics give E-values and bit scores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scan.h"
#include "search_params.h"
#include "sequence_db.h"
#include "status.h"

namespace gpu_blastp {

// A reported HSP; coordinates are 1-based and inclusive, as blastp prints them.
struct Hit {
  uint32_t subject;
  int32_t score;
  double bit_score;
  double evalue;
  int32_t q_start, q_end, s_start, s_end;
  int32_t length, identities, mismatches, gap_opens;
};

struct SearchStats {
  ScanStats scan;
  uint64_t preliminary_extensions = 0;  // used by the gapped stage
  uint64_t gpu_preliminary = 0;         // computed on the GPU (all HSPs, in GPU mode)
  uint64_t gpu_overflows = 0;           // of which recomputed on the CPU
  double gpu_preliminary_seconds = 0;
  uint64_t traceback_extensions = 0;
  double gapped_seconds = 0;
  int64_t length_adjustment = 0;
};

// Runs the search. With gpu == nullptr the scan and the preliminary gapped
// extension run on `threads` CPU threads; otherwise on the GPU. The final
// gapped extension (with traceback) always uses `threads` CPU threads. Hits come
// out in blastp's order: subjects by best E-value, then each subject's HSPs
// by score, with ties broken by coordinates so the order is total.
Status SearchQuery(const uint8_t* query, int32_t query_length, const SequenceDb& db, const SearchParams& params,
                   GpuScanner* gpu, int threads, std::vector<Hit>* hits, SearchStats* stats);

// blastp -outfmt 6: qseqid sseqid pident length mismatch gapopen qstart qend
// sstart send evalue bitscore, numbers formatted as BLAST formats them.
std::string FormatTabular(const std::string& query_id, const SequenceDb& db, const Hit& hit);
std::string FormatEValue(double evalue);
std::string FormatBitScore(double bits);

}  // namespace gpu_blastp
