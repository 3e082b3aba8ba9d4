#include "search.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include "blosum62.h"
#include "gapped_align.h"
#include "karlin.h"

namespace gpu_blastp {

namespace {

// The CPU's preliminary extension: the shared code with a buffer as wide
// as the subject, which never overflows.
class CpuPrelim {
 public:
  PrelimResult Extend(const int8_t* matrix, const uint8_t* query, int32_t query_length, const uint8_t* subject,
                      int32_t subject_length, const UngappedHsp& h, const SearchParams& params) {
    int32_t width = 64;
    while (width < subject_length + 2) width *= 2;
    if (scratch_.size() < static_cast<size_t>(2 * width)) scratch_.resize(2 * width);
    return PrelimExtend(matrix, query, query_length, subject, subject_length, h, params.gap_open, params.gap_extend,
                        params.XdropGappedRaw(), scratch_.data(), width);
  }

 private:
  std::vector<int32_t> scratch_;
};

bool HigherScoreFirst(const Hit& a, const Hit& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.q_start != b.q_start) return a.q_start < b.q_start;
  if (a.s_start != b.s_start) return a.s_start < b.s_start;
  if (a.q_end != b.q_end) return a.q_end < b.q_end;
  return a.s_end < b.s_end;
}

// The gapped stage for one subject: hsps are that subject's ungapped HSPs
// and, in GPU mode, prelim their preliminary extensions (else computed here).
void ExtendSubject(const uint8_t* query, int32_t query_length, const SequenceDb& db, const UngappedHsp* hsps,
                   const PrelimResult* prelim, size_t count, const SearchParams& params, const SearchSpace& space,
                   int32_t min_score, const int8_t* matrix, CpuPrelim* cpu_prelim, GappedAligner* aligner,
                   std::vector<Hit>* out, uint64_t* prelim_count, uint64_t* trace_count) {
  const uint32_t subject_index = hsps[0].subject;
  const uint8_t* subject = db.sequence(subject_index);
  const int32_t subject_length = static_cast<int32_t>(db.length(subject_index));

  std::vector<uint32_t> order(count);
  for (uint32_t i = 0; i < count; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    if (hsps[x].score != hsps[y].score) return hsps[x].score > hsps[y].score;
    return UngappedHspLess(hsps[x], hsps[y]);
  });

  // Preliminary: best ungapped HSP first, skipping those that lie inside an
  // alignment already found (whose extension would find it again).
  std::vector<PrelimResult> kept;
  std::vector<PrelimResult> done;
  for (uint32_t index : order) {
    const UngappedHsp& h = hsps[index];
    bool contained = false;
    for (const PrelimResult& g : done) {
      if (h.q_start >= g.q_start && h.q_start + h.length <= g.q_end && h.s_start >= g.s_start &&
          h.s_start + h.length <= g.s_end) {
        contained = true;
        break;
      }
    }
    if (contained) continue;
    const PrelimResult p = prelim && !prelim[index].overflow
                               ? prelim[index]
                               : cpu_prelim->Extend(matrix, query, query_length, subject, subject_length, h, params);
    ++*prelim_count;
    done.push_back(p);
    if (p.score >= min_score) kept.push_back(p);
  }

  // Final: traceback with the larger X-drop, best preliminary score first.
  std::stable_sort(kept.begin(), kept.end(),
                   [](const PrelimResult& a, const PrelimResult& b) { return a.score > b.score; });
  std::vector<Hit> hits;
  for (const PrelimResult& c : kept) {
    // Skip a preliminary alignment that lies inside one already traced.
    bool contained = false;
    for (const Hit& h : hits) {
      if (c.q_start + 1 >= h.q_start && c.q_end <= h.q_end && c.s_start + 1 >= h.s_start && c.s_end <= h.s_end) {
        contained = true;
        break;
      }
    }
    if (contained) continue;
    const GappedAlignment g = aligner->Align(query, query_length, subject, subject_length, c.q_seed, c.s_seed,
                                             params.XdropGappedFinalRaw(), true);
    ++*trace_count;
    const double evalue = space.EValue(g.score);
    if (evalue > params.evalue) continue;
    Hit hit{subject_index, g.score, space.BitScore(g.score), evalue, g.q_start + 1, g.q_end, g.s_start + 1, g.s_end,
            g.length, g.identities, g.mismatches, g.gap_opens};
    hits.push_back(hit);
  }

  // Remove HSPs that share a start or an end with a higher-scoring one.
  std::sort(hits.begin(), hits.end(), HigherScoreFirst);
  std::vector<Hit> unique;
  for (size_t i = 0; i < hits.size(); ++i) {
    bool duplicate = false;
    for (const Hit& o : unique) {
      if ((o.q_start == hits[i].q_start && o.s_start == hits[i].s_start) ||
          (o.q_end == hits[i].q_end && o.s_end == hits[i].s_end)) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) unique.push_back(hits[i]);
  }
  out->insert(out->end(), unique.begin(), unique.end());
}

}  // namespace

Status SearchQuery(const uint8_t* query, int32_t query_length, const SequenceDb& db, const SearchParams& params,
                   GpuScanner* gpu, int threads, std::vector<Hit>* hits, SearchStats* stats) {
  hits->clear();
  *stats = SearchStats{};
  const ScanParams scan_params = params.Scan();
  std::vector<UngappedHsp> ungapped;
  Status s = gpu ? gpu->Scan(query, query_length, scan_params, &ungapped, &stats->scan)
                 : ScanCpu(query, query_length, db, scan_params, threads, &ungapped, &stats->scan);
  if (!s.ok()) return s;

  const auto start = std::chrono::steady_clock::now();
  const SearchSpace space(kGappedBlosum62_11_1, query_length, static_cast<int64_t>(db.total_residues()),
                          static_cast<int64_t>(db.size()));
  stats->length_adjustment = space.length_adjustment();
  const int32_t min_score = space.MinScoreForEValue(params.evalue);

  // Subjects with HSPs: ranges of the sorted ungapped list.
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = 0; i < ungapped.size();) {
    size_t j = i;
    while (j < ungapped.size() && ungapped[j].subject == ungapped[i].subject) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  threads = std::max(1, threads);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> prelim_total{0}, trace_total{0};
  int8_t matrix[kMatrixStride * kMatrixStride];
  FillPaddedMatrix(matrix);
  std::vector<PrelimResult> gpu_prelim;
  if (gpu && !ungapped.empty()) {
    s = gpu->Prelim(ungapped, params.gap_open, params.gap_extend, params.XdropGappedRaw(), &gpu_prelim,
                    &stats->gpu_preliminary_seconds);
    if (!s.ok()) return s;
    stats->gpu_preliminary = gpu_prelim.size();
    for (const PrelimResult& p : gpu_prelim) stats->gpu_overflows += p.overflow;
  }
  std::vector<std::vector<Hit>> found(threads);
  auto worker = [&](int t) {
    GappedAligner aligner(params.gap_open, params.gap_extend);
    CpuPrelim cpu_prelim;
    uint64_t prelim = 0, trace = 0;
    for (;;) {
      const size_t g = next.fetch_add(1);
      if (g >= groups.size()) break;
      ExtendSubject(query, query_length, db, ungapped.data() + groups[g].first,
                    gpu_prelim.empty() ? nullptr : gpu_prelim.data() + groups[g].first,
                    groups[g].second - groups[g].first, params, space, min_score, matrix, &cpu_prelim, &aligner,
                    &found[t], &prelim, &trace);
    }
    prelim_total += prelim;
    trace_total += trace;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  for (auto& v : found) hits->insert(hits->end(), v.begin(), v.end());

  // blastp's order: subjects by their best hit, then HSPs by score; ties by
  // subject ordinal and coordinates.
  std::vector<std::pair<int32_t, uint32_t>> subject_best;  // (best score, subject)
  {
    std::vector<Hit> by_subject = *hits;
    std::sort(by_subject.begin(), by_subject.end(), [](const Hit& a, const Hit& b) {
      if (a.subject != b.subject) return a.subject < b.subject;
      return a.score > b.score;
    });
    for (size_t i = 0; i < by_subject.size(); ++i)
      if (i == 0 || by_subject[i].subject != by_subject[i - 1].subject)
        subject_best.emplace_back(by_subject[i].score, by_subject[i].subject);
  }
  std::sort(subject_best.begin(), subject_best.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second < b.second;
  });
  if (subject_best.size() > static_cast<size_t>(params.max_target_seqs)) subject_best.resize(params.max_target_seqs);
  std::vector<std::pair<uint32_t, uint32_t>> subject_rank;  // (subject, rank), sorted by subject
  for (uint32_t r = 0; r < subject_best.size(); ++r) subject_rank.emplace_back(subject_best[r].second, r);
  std::sort(subject_rank.begin(), subject_rank.end());
  auto rank_of = [&](uint32_t subject) -> int64_t {
    auto it = std::lower_bound(subject_rank.begin(), subject_rank.end(), std::make_pair(subject, uint32_t{0}));
    return (it != subject_rank.end() && it->first == subject) ? it->second : -1;
  };
  std::vector<std::pair<int64_t, Hit>> ranked;
  for (const Hit& h : *hits) {
    const int64_t r = rank_of(h.subject);
    if (r >= 0) ranked.emplace_back(r, h);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return HigherScoreFirst(a.second, b.second);
  });
  hits->clear();
  for (auto& [r, h] : ranked) hits->push_back(h);

  stats->preliminary_extensions = prelim_total;
  stats->traceback_extensions = trace_total;
  stats->gapped_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

std::string FormatEValue(double evalue) {
  char buf[32];
  if (evalue < 1.0e-180) {
    std::snprintf(buf, sizeof(buf), "0.0");
  } else if (evalue < 0.0009) {
    std::snprintf(buf, sizeof(buf), "%3.2le", evalue);
  } else if (evalue < 0.1) {
    std::snprintf(buf, sizeof(buf), "%4.3lf", evalue);
  } else if (evalue < 1.0) {
    std::snprintf(buf, sizeof(buf), "%3.2lf", evalue);
  } else if (evalue < 10.0) {
    std::snprintf(buf, sizeof(buf), "%2.1lf", evalue);
  } else {
    std::snprintf(buf, sizeof(buf), "%2.0lf", evalue);
  }
  return buf;
}

std::string FormatBitScore(double bits) {
  char buf[32];
  if (bits > 99999.0) {
    std::snprintf(buf, sizeof(buf), "%5.3le", bits);
  } else if (bits > 99.9) {
    std::snprintf(buf, sizeof(buf), "%3.0lf", bits);
  } else {
    std::snprintf(buf, sizeof(buf), "%3.1lf", bits);
  }
  return buf;
}

std::string FormatTabular(const std::string& query_id, const SequenceDb& db, const Hit& hit) {
  char buf[256];
  const double pident = hit.length ? 100.0 * hit.identities / hit.length : 0.0;
  std::snprintf(buf, sizeof(buf), "\t%.3f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t", pident, hit.length, hit.mismatches,
                hit.gap_opens, hit.q_start, hit.q_end, hit.s_start, hit.s_end);
  std::string line = query_id;
  line += '\t';
  line += db.id(hit.subject);
  line += buf;
  line += FormatEValue(hit.evalue);
  line += '\t';
  line += FormatBitScore(hit.bit_score);
  return line;
}

}  // namespace gpu_blastp
