// The CPU scan: BLAST's lookup-table scan. For each subject position the
// table gives the query positions of neighbouring words; each (q, s) goes to
// its diagonal's two-hit state (two_hit.h, shared with the GPU).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <thread>

#include "blosum62.h"
#include "scan.h"
#include "word_lookup.h"

namespace gpu_blastp {

bool UngappedHspLess(const UngappedHsp& a, const UngappedHsp& b) {
  if (a.subject != b.subject) return a.subject < b.subject;
  if (a.q_start != b.q_start) return a.q_start < b.q_start;
  if (a.s_start != b.s_start) return a.s_start < b.s_start;
  if (a.length != b.length) return a.length < b.length;
  return a.score < b.score;
}

namespace {

// Scans subjects [first, last) into out. Diagonal states persist across
// subjects with a moving base so the array is never cleared: entries of
// earlier subjects lie more than `window` behind the current one, which
// OnWordHit treats exactly as a fresh diagonal.
class SubjectScanner {
 public:
  SubjectScanner(const uint8_t* query, int32_t query_length, const WordLookup& lookup, const int8_t* matrix,
                 const ScanParams& p, uint32_t max_subject_length)
      : query_(query), query_length_(query_length), lookup_(lookup), matrix_(matrix), p_(p),
        states_(static_cast<size_t>(query_length) + max_subject_length + 1) {
    Reset();
  }

  void Scan(const SequenceDb& db, uint64_t subject_index, std::vector<UngappedHsp>* out) {
    const uint8_t* subject = db.sequence(subject_index);
    const int32_t length = static_cast<int32_t>(db.length(subject_index));
    if (length < 3 || query_length_ < 3) return;
    if (base_ > INT32_MAX / 2 - length - p_.window) Reset();
    for (int32_t s = 0; s + 3 <= length; ++s) {
      const uint32_t code = WordCode(subject + s);
      for (const int32_t* it = lookup_.begin(code), *end = lookup_.end(code); it != end; ++it) {
        const int32_t q = *it;
        Stored& slot = states_[static_cast<size_t>(s - q + query_length_)];
        DiagonalState st{slot.last_hit - base_, slot.flag};
        ExtensionResult r;
        if (OnWordHit(&st, q, s, matrix_, query_, query_length_, subject, length, p_, &r)) {
          out->push_back(UngappedHsp{static_cast<uint32_t>(subject_index), r.q_start, r.s_start, r.length, r.score});
        }
        slot.last_hit = st.last_hit + base_;
        slot.flag = st.flag;
      }
    }
    base_ += length + p_.window;
  }

 private:
  struct Stored {
    int32_t last_hit;
    int32_t flag;
  };
  void Reset() {
    base_ = p_.window;
    for (Stored& s : states_) s = Stored{0, 0};  // = fresh: last_hit - base = -window
  }

  const uint8_t* query_;
  int32_t query_length_;
  const WordLookup& lookup_;
  const int8_t* matrix_;
  ScanParams p_;
  std::vector<Stored> states_;
  int32_t base_ = 0;
};

}  // namespace

Status ScanCpu(const uint8_t* query, int32_t query_length, const SequenceDb& db, const ScanParams& p, int threads,
               std::vector<UngappedHsp>* hsps, ScanStats* stats) {
  if (p.word_size != 3) return Status::Error("the scan supports words of 3 only");
  const auto start = std::chrono::steady_clock::now();
  hsps->clear();
  int8_t matrix[kMatrixStride * kMatrixStride];
  FillPaddedMatrix(matrix);
  const WordLookup lookup(query, query_length, p.threshold);

  threads = std::max(1, threads);
  constexpr uint64_t kChunk = 64;
  std::atomic<uint64_t> next{0};
  std::vector<std::vector<UngappedHsp>> found(threads);
  auto worker = [&](int t) {
    SubjectScanner scanner(query, query_length, lookup, matrix, p, db.max_length());
    for (;;) {
      const uint64_t first = next.fetch_add(kChunk);
      if (first >= db.size()) break;
      const uint64_t last = std::min<uint64_t>(db.size(), first + kChunk);
      for (uint64_t i = first; i < last; ++i) scanner.Scan(db, i, &found[t]);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  for (auto& v : found) hsps->insert(hsps->end(), v.begin(), v.end());
  std::sort(hsps->begin(), hsps->end(), UngappedHspLess);
  stats->hsps = hsps->size();
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

}  // namespace gpu_blastp
