// Unit tests of gpu_blastp's search core. The central one: the GPU's
// algorithm (a thread per diagonal walking two_hit.h's WalkDiagonal, then
// xdrop_prelim.h with the kernel's 256-column band), run here on the host
// exactly as the kernels run it, gives the same hits as the CPU mode.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "alphabet.h"
#include "blosum62.h"
#include "fasta.h"
#include "gapped_align.h"
#include "karlin.h"
#include "scan.h"
#include "search.h"
#include "sequence_db.h"
#include "two_hit.h"
#include "xdrop_prelim.h"

using namespace gpu_blastp;

namespace {

// Random proteins with a few mutated copies of the query planted in them.
struct TestDb {
  std::string path;
  std::vector<uint8_t> query;
  std::vector<std::string> ids;
};

std::vector<uint8_t> RandomProtein(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& r : v) r = static_cast<uint8_t>(rng() % kStandardResidues);
  return v;
}

TestDb MakeTestDb(const std::string& name, size_t query_length, size_t sequences, uint64_t seed) {
  std::mt19937_64 rng(seed);
  TestDb db;
  db.path = "blast_core_test_" + name + ".gbdb";
  db.query = RandomProtein(rng, query_length);
  SequenceDbWriter writer;
  REQUIRE(writer.Create(db.path).ok());
  for (size_t i = 0; i < sequences; ++i) {
    std::vector<uint8_t> s = RandomProtein(rng, 50 + rng() % 600);
    if (i % 7 == 3) {
      // A homolog: the query with substitutions and an indel, in random flanks.
      std::vector<uint8_t> h = db.query;
      const int keep_percent = 40 + static_cast<int>(rng() % 55);
      for (auto& r : h)
        if (static_cast<int>(rng() % 100) >= keep_percent) r = static_cast<uint8_t>(rng() % kStandardResidues);
      const size_t cut = rng() % h.size();
      h.erase(h.begin() + cut, h.begin() + std::min(h.size(), cut + 1 + rng() % 4));
      s.insert(s.begin() + rng() % s.size(), h.begin(), h.end());
    }
    if (i % 11 == 5) {
      // Low-complexity repeats: many hits on many diagonals, wide gapped bands.
      for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<uint8_t>((k % 3 == 0) ? 9 : 10);
    }
    const std::string id = "t" + std::to_string(i);
    db.ids.push_back(id);
    REQUIRE(writer.Add(id, s.data(), s.size()).ok());
  }
  REQUIRE(writer.Finish().ok());
  return db;
}

// The kernels' algorithm on the host, through the GpuScanner interface.
class HostKernelScanner : public GpuScanner {
 public:
  explicit HostKernelScanner(const SequenceDb& db) : db_(db) { FillPaddedMatrix(matrix_); }

  Status Scan(const uint8_t* query, int32_t query_length, const ScanParams& p, std::vector<UngappedHsp>* hsps,
              ScanStats* stats) override {
    query_.assign(query, query + query_length);
    hsps->clear();
    for (uint32_t j = 0; j < db_.size(); ++j) {
      const int32_t length = static_cast<int32_t>(db_.length(j));
      if (length < 3 || query_length < 3) continue;
      auto emit = [&](const ExtensionResult& r) {
        hsps->push_back(UngappedHsp{j, r.q_start, r.s_start, r.length, r.score});
      };
      // Diagonals in reverse order, to show the order does not matter.
      for (int32_t t = query_length + length - 6; t >= 0; --t) {
        const int32_t d = t - (query_length - 3);
        if (d < 0) {
          WalkDiagonal<true>(d, matrix_, query, query_length, db_.sequence(j), length, p, emit);
        } else {
          WalkDiagonal<false>(d, matrix_, query, query_length, db_.sequence(j), length, p, emit);
        }
      }
    }
    std::sort(hsps->begin(), hsps->end(), UngappedHspLess);
    stats->hsps = hsps->size();
    return Status::Ok();
  }

  Status Prelim(const std::vector<UngappedHsp>& hsps, int32_t gap_open, int32_t gap_extend, int32_t xdrop,
                std::vector<PrelimResult>* out, double* seconds) override {
    constexpr int32_t kPrelimWidth = 256;  // as gpu_scan.cu
    int32_t scratch[2 * kPrelimWidth];
    out->clear();
    for (const UngappedHsp& h : hsps) {
      out->push_back(PrelimExtend(matrix_, query_.data(), static_cast<int32_t>(query_.size()),
                                  db_.sequence(h.subject), static_cast<int32_t>(db_.length(h.subject)), h, gap_open,
                                  gap_extend, xdrop, scratch, kPrelimWidth));
      overflows += out->back().overflow;
    }
    *seconds = 0;
    return Status::Ok();
  }

  std::string DeviceName() const override { return "host emulation of the kernels"; }
  uint64_t overflows = 0;

 private:
  const SequenceDb& db_;
  int8_t matrix_[kMatrixStride * kMatrixStride];
  std::vector<uint8_t> query_;
};

std::string Tabular(const std::vector<Hit>& hits, const SequenceDb& db) {
  std::string s;
  for (const Hit& h : hits) s += FormatTabular("q", db, h) + "\n";
  return s;
}

bool SameHsp(const UngappedHsp& a, const UngappedHsp& b) {
  return a.subject == b.subject && a.q_start == b.q_start && a.s_start == b.s_start && a.length == b.length &&
         a.score == b.score;
}

}  // namespace

TEST_CASE("BLOSUM62 is NCBI's table and symmetric") {
  for (int a = 0; a < kAlphabetSize; ++a)
    for (int b = 0; b < kAlphabetSize; ++b) REQUIRE(kBlosum62[a][b] == kBlosum62[b][a]);
  std::ifstream in("/usr/share/ncbi/data/BLOSUM62");
  if (!in) {
    WARN("no /usr/share/ncbi/data/BLOSUM62 here (Debian's ncbi-data): compared with nothing");
    return;
  }
  std::string line, header;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') break;
  std::istringstream letters(line);
  std::vector<char> columns;
  for (std::string t; letters >> t;) columns.push_back(t[0]);
  REQUIRE(columns.size() == static_cast<size_t>(kAlphabetSize));
  int rows = 0;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string letter;
    if (!(row >> letter)) continue;
    for (char column : columns) {
      int v;
      row >> v;
      REQUIRE(kBlosum62[EncodeResidue(letter[0])][EncodeResidue(column)] == v);
    }
    ++rows;
  }
  REQUIRE(rows == kAlphabetSize);
}

TEST_CASE("alphabet encodes either case and maps unknown letters to X") {
  REQUIRE(EncodeResidue('A') == 0);
  REQUIRE(EncodeResidue('v') == 19);
  REQUIRE(EncodeResidue('U') == kResidueX);
  REQUIRE(EncodeResidue('*') == 24);
  REQUIRE(EncodeResidue('-') == 0xFF);
  for (int c = 0; c < kAlphabetSize; ++c) REQUIRE(EncodeResidue(DecodeResidue(static_cast<uint8_t>(c))) == c);
}

TEST_CASE("search parameters are BLAST's raw values") {
  const SearchParams p;
  const ScanParams s = p.Scan();
  REQUIRE(s.xdrop_ungapped == 16);  // ceil(7 ln2 / 0.3176)
  REQUIRE(s.gap_trigger == 41);     // (22 ln2 + ln 0.134) / 0.3176
  REQUIRE(p.XdropGappedRaw() == 38);
  REQUIRE(p.XdropGappedFinalRaw() == 64);
}

TEST_CASE("length adjustment and search space match blastp 2.12") {
  // blastp -comp_based_stats 0 reported "Effective search space used:
  // 653639669" for a 500-residue query against 5892 sequences / 2134313
  // residues: length adjustment 91.
  const SearchSpace space(kGappedBlosum62_11_1, 500, 2134313, 5892);
  REQUIRE(space.length_adjustment() == 91);
  REQUIRE(space.effective_space() == Approx(653639669.0).epsilon(1e-12));
  const int s = space.MinScoreForEValue(10.0);
  REQUIRE(space.EValue(s) <= 10.0);
  REQUIRE(space.EValue(s - 1) > 10.0);
  REQUIRE(space.BitScore(100) == Approx((0.267 * 100 - std::log(0.041)) / std::log(2.0)));
}

TEST_CASE("database round trip") {
  const std::string path = "blast_core_test_roundtrip.gbdb";
  {
    SequenceDbWriter w;
    REQUIRE(w.Create(path).ok());
    const uint8_t a[] = {0, 1, 2, 3}, b[] = {19};
    REQUIRE(w.Add("first", a, 4).ok());
    REQUIRE(w.Add("second", b, 1).ok());
    REQUIRE(w.Add("empty", nullptr, 0).ok());
    REQUIRE(w.Finish().ok());
  }
  SequenceDb db;
  REQUIRE(db.Open(path).ok());
  REQUIRE(db.size() == 3);
  REQUIRE(db.total_residues() == 5);
  REQUIRE(db.id(1) == "second");
  REQUIRE(db.length(0) == 4);
  REQUIRE(db.sequence(1)[0] == 19);
  REQUIRE(db.length(2) == 0);
  REQUIRE(db.max_length() == 4);
  std::remove(path.c_str());

  SequenceDb bad;
  REQUIRE_FALSE(bad.Open("/nonexistent.gbdb").ok());
}

TEST_CASE("FASTA reader takes the first word and skips gaps") {
  const std::string path = "blast_core_test.fa";
  {
    std::ofstream f(path);
    f << ">one description here\nAC-D\nef\n\n>two\r\nW*\r\n";
  }
  std::vector<FastaRecord> records;
  REQUIRE(ReadFastaFile(path, &records).ok());
  REQUIRE(records.size() == 2);
  REQUIRE(records[0].id == "one");
  REQUIRE(records[0].residues == std::vector<uint8_t>{0, 4, 3, 6, 13});
  REQUIRE(records[1].id == "two");
  REQUIRE(records[1].residues == std::vector<uint8_t>{17, 24});
  std::remove(path.c_str());
}

TEST_CASE("the GPU algorithm finds exactly the CPU scan's ungapped HSPs") {
  for (size_t query_length : {3, 40, 300, 1200}) {
    const TestDb t = MakeTestDb("scan" + std::to_string(query_length), query_length, 120, 7 + query_length);
    SequenceDb db;
    REQUIRE(db.Open(t.path).ok());
    const ScanParams p = SearchParams().Scan();
    std::vector<UngappedHsp> cpu1, cpu3, gpu;
    ScanStats stats;
    REQUIRE(ScanCpu(t.query.data(), static_cast<int32_t>(t.query.size()), db, p, 1, &cpu1, &stats).ok());
    REQUIRE(ScanCpu(t.query.data(), static_cast<int32_t>(t.query.size()), db, p, 3, &cpu3, &stats).ok());
    HostKernelScanner kernels(db);
    REQUIRE(kernels.Scan(t.query.data(), static_cast<int32_t>(t.query.size()), p, &gpu, &stats).ok());
    if (query_length >= 300) REQUIRE(cpu1.size() > 10);  // the comparison is not vacuous
    REQUIRE(cpu1.size() == gpu.size());
    REQUIRE(cpu1.size() == cpu3.size());
    for (size_t i = 0; i < cpu1.size(); ++i) {
      REQUIRE(SameHsp(cpu1[i], gpu[i]));
      REQUIRE(SameHsp(cpu1[i], cpu3[i]));
    }
    std::remove(t.path.c_str());
  }
}

TEST_CASE("GPU mode (host emulation of the kernels) and CPU mode report identical hits") {
  const TestDb t = MakeTestDb("search", 700, 300, 99);
  SequenceDb db;
  REQUIRE(db.Open(t.path).ok());
  const SearchParams params;
  std::vector<Hit> cpu_hits, cpu4_hits, gpu_hits;
  SearchStats stats;
  const int32_t n = static_cast<int32_t>(t.query.size());
  REQUIRE(SearchQuery(t.query.data(), n, db, params, nullptr, 1, &cpu_hits, &stats).ok());
  REQUIRE(SearchQuery(t.query.data(), n, db, params, nullptr, 4, &cpu4_hits, &stats).ok());
  HostKernelScanner kernels(db);
  REQUIRE(SearchQuery(t.query.data(), n, db, params, &kernels, 2, &gpu_hits, &stats).ok());
  REQUIRE(stats.gpu_preliminary > 0);
  // The planted homologs (every 7th sequence from the 4th) must be found.
  REQUIRE(cpu_hits.size() >= 300 / 7);
  REQUIRE(Tabular(cpu_hits, db) == Tabular(gpu_hits, db));
  REQUIRE(Tabular(cpu_hits, db) == Tabular(cpu4_hits, db));
  // The low-complexity sequences make some bands wider than the kernel's
  // buffer: those went through the CPU fallback, with the same result.
  INFO("kernel band overflows: " << kernels.overflows);
  std::remove(t.path.c_str());
}

TEST_CASE("preliminary extension: the narrow band gives the wide band's answer or says overflow") {
  const TestDb t = MakeTestDb("prelim", 500, 60, 5);
  SequenceDb db;
  REQUIRE(db.Open(t.path).ok());
  std::vector<UngappedHsp> hsps;
  ScanStats stats;
  const SearchParams params;
  REQUIRE(ScanCpu(t.query.data(), 500, db, params.Scan(), 1, &hsps, &stats).ok());
  REQUIRE(!hsps.empty());
  int8_t matrix[kMatrixStride * kMatrixStride];
  FillPaddedMatrix(matrix);
  std::vector<int32_t> wide(2 * 1024), narrow(2 * 64);
  int compared = 0, overflowed = 0;
  for (const UngappedHsp& h : hsps) {
    const int32_t len = static_cast<int32_t>(db.length(h.subject));
    const PrelimResult a = PrelimExtend(matrix, t.query.data(), 500, db.sequence(h.subject), len, h, 11, 1,
                                        params.XdropGappedRaw(), wide.data(), 1024);
    const PrelimResult b = PrelimExtend(matrix, t.query.data(), 500, db.sequence(h.subject), len, h, 11, 1,
                                        params.XdropGappedRaw(), narrow.data(), 64);
    REQUIRE(a.overflow == 0);
    if (b.overflow) {
      ++overflowed;
      continue;
    }
    ++compared;
    REQUIRE(a.score == b.score);
    REQUIRE(a.q_start == b.q_start);
    REQUIRE(a.q_end == b.q_end);
    REQUIRE(a.s_start == b.s_start);
    REQUIRE(a.s_end == b.s_end);
  }
  REQUIRE(compared > 0);
  INFO("compared " << compared << ", overflowed " << overflowed);
  REQUIRE(overflowed > 0);  // a 64-column band is too narrow for some
  std::remove(t.path.c_str());
}

TEST_CASE("traceback agrees with the score-only extension") {
  const TestDb t = MakeTestDb("trace", 400, 80, 11);
  SequenceDb db;
  REQUIRE(db.Open(t.path).ok());
  std::vector<UngappedHsp> hsps;
  ScanStats stats;
  const SearchParams params;
  REQUIRE(ScanCpu(t.query.data(), 400, db, params.Scan(), 1, &hsps, &stats).ok());
  int8_t matrix[kMatrixStride * kMatrixStride];
  FillPaddedMatrix(matrix);
  std::vector<int32_t> scratch(2 * 1024);
  GappedAligner aligner(11, 1);
  int checked = 0;
  for (const UngappedHsp& h : hsps) {
    const int32_t len = static_cast<int32_t>(db.length(h.subject));
    const PrelimResult p = PrelimExtend(matrix, t.query.data(), 400, db.sequence(h.subject), len, h, 11, 1,
                                        params.XdropGappedFinalRaw(), scratch.data(), 1024);
    const GappedAlignment g = aligner.Align(t.query.data(), 400, db.sequence(h.subject), len, p.q_seed, p.s_seed,
                                            params.XdropGappedFinalRaw(), true);
    REQUIRE(g.score == p.score);
    REQUIRE(g.q_start == p.q_start);
    REQUIRE(g.q_end == p.q_end);
    REQUIRE(g.s_start == p.s_start);
    REQUIRE(g.s_end == p.s_end);
    // Columns: pairs plus gap columns; pairs cover min of both spans.
    REQUIRE(g.identities + g.mismatches <= std::min(g.q_end - g.q_start, g.s_end - g.s_start));
    REQUIRE(g.length >= std::max(g.q_end - g.q_start, g.s_end - g.s_start));
    if (g.length == g.identities + g.mismatches) REQUIRE(g.gap_opens == 0);
    ++checked;
  }
  REQUIRE(checked > 10);
  std::remove(t.path.c_str());
}
