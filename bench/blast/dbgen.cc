// blast_dbgen: a synthetic protein database for the GPU-BLAST benchmark.
//
// Residues are drawn from BLAST's background amino-acid frequencies
// (Robinson & Robinson), sequence lengths are log-normal around 300, and
// homologs of each query are planted at known identities (35% to 90%),
// with substitutions drawn from BLOSUM62's target frequencies and with
// insertions and deletions. A truth file records every planted homolog and
// its actual identity. The output depends only on the arguments: every
// sequence has its own random stream seeded from (seed, index), so threads
// change nothing, and only integer arithmetic decides residues.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "alphabet.h"
#include "blosum62.h"
#include "sequence_db.h"

namespace {

using gpu_blastp::kResidueLetters;

// BLAST's standard background frequencies (Robinson & Robinson 1991), in
// the alphabet's order ARNDCQEGHILKMFPSTWYV.
constexpr double kBackground[20] = {0.07805, 0.05129, 0.04487, 0.05364, 0.01925, 0.04264, 0.06295,
                                    0.07377, 0.02199, 0.05142, 0.09019, 0.05744, 0.02243, 0.03856,
                                    0.05203, 0.07120, 0.05841, 0.01330, 0.03216, 0.06441};
constexpr double kUngappedLambda = 0.3176;
// Streams of background sequences are their index; the others live far above.
constexpr uint64_t kSpecialStream = uint64_t{1} << 62;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256**: fast, good enough for synthetic data, fully specified.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull ^ (stream + 0x632BE59BD9B4E019ull);
    for (auto& w : s_) w = SplitMix64(&s);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
  // Uniform 16-bit value (a fresh draw each time; simple beats clever here).
  uint32_t U16() { return static_cast<uint32_t>(Next() >> 48); }
  // Bernoulli with probability per65536 / 65536.
  bool Chance(uint32_t per65536) { return U16() < per65536; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Maps a uniform 16-bit value to a residue with the given frequencies.
struct Sampler16 {
  uint8_t table[65536];
  explicit Sampler16(const double* freq, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += freq[i];
    double cumulative = 0;
    int pos = 0;
    for (int i = 0; i < n; ++i) {
      cumulative += freq[i] / total;
      const int end = i == n - 1 ? 65536 : static_cast<int>(std::lround(cumulative * 65536.0));
      for (; pos < end; ++pos) table[pos] = static_cast<uint8_t>(i);
    }
  }
  uint8_t operator()(Rng& rng) const { return table[rng.U16()]; }
};

// Per-residue substitution samplers: b != a drawn with BLOSUM62's implied
// target frequencies p_a p_b exp(lambda s_ab).
struct Substitutions {
  std::vector<Sampler16> by_residue;
  Substitutions() {
    for (int a = 0; a < 20; ++a) {
      double f[20];
      for (int b = 0; b < 20; ++b)
        f[b] = b == a ? 0.0 : kBackground[b] * std::exp(kUngappedLambda * gpu_blastp::kBlosum62[a][b]);
      by_residue.emplace_back(f, 20);
    }
  }
};

// Log-normal lengths with median 300 and sigma 0.5, clamped to [30, 5000],
// through a 4096-entry quantile table so that only integers are drawn.
std::vector<uint32_t> LengthQuantiles() {
  std::vector<uint32_t> q(4096);
  for (int i = 0; i < 4096; ++i) {
    const double u = (i + 0.5) / 4096.0;
    // Inverse normal CDF by bisection on erfc (no extra dependencies).
    double lo = -8, hi = 8;
    for (int it = 0; it < 80; ++it) {
      const double mid = (lo + hi) / 2;
      if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < u) lo = mid; else hi = mid;
    }
    const double len = 300.0 * std::exp(0.5 * (lo + hi) / 2);
    q[i] = static_cast<uint32_t>(std::clamp(std::lround(len), 30L, 5000L));
  }
  return q;
}

struct Homolog {
  std::string id;
  std::string query_id;
  int target_identity = 0;
  double identity = 0;
  int columns = 0;
  int indels = 0;
  std::vector<uint8_t> residues;
};

// Mutates the query into a homolog with about target% identity: each
// aligned column keeps the residue with that probability, else substitutes;
// indels open at a rate that grows with divergence.
Homolog MakeHomolog(const std::vector<uint8_t>& query, const std::string& query_id, int target, Rng& rng,
                    const Sampler16& background, const Substitutions& subs) {
  Homolog h;
  h.query_id = query_id;
  h.target_identity = target;
  h.id = "h_" + query_id + "_" + std::to_string(target);
  const uint32_t keep = static_cast<uint32_t>(target * 65536 / 100);
  const uint32_t indel = static_cast<uint32_t>((100 - target) * 65536 / 100 / 25);  // 2.6% at 35%
  int identical = 0, columns = 0;
  for (uint64_t n = rng.Below(31); n > 0; --n) h.residues.push_back(background(rng));
  for (size_t i = 0; i < query.size(); ++i) {
    if (rng.Chance(indel)) {
      const int len = 1 + static_cast<int>(rng.Below(3)) + (rng.Chance(16384) ? static_cast<int>(rng.Below(6)) : 0);
      ++h.indels;
      if (rng.Chance(32768)) {  // insertion in the homolog
        for (int k = 0; k < len; ++k) h.residues.push_back(background(rng));
        columns += len;
      } else {  // deletion of query residues
        const size_t skip = std::min<size_t>(len, query.size() - i);
        columns += static_cast<int>(skip);
        i += skip - 1;
        continue;
      }
    }
    const uint8_t a = query[i];
    const uint8_t b = rng.Chance(keep) ? a : subs.by_residue[a](rng);
    identical += (a == b);
    ++columns;
    h.residues.push_back(b);
  }
  for (uint64_t n = rng.Below(31); n > 0; --n) h.residues.push_back(background(rng));
  h.columns = columns;
  h.identity = columns ? 100.0 * identical / columns : 0.0;
  return h;
}

std::vector<int> ParseIntList(const std::string& s) {
  std::vector<int> v;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    v.push_back(std::stoi(s.substr(pos, end - pos)));
    pos = end + 1;
  }
  return v;
}

void WriteFastaRecord(std::FILE* f, const std::string& id, const uint8_t* r, size_t n) {
  std::fprintf(f, ">%s\n", id.c_str());
  char line[81];
  for (size_t i = 0; i < n; i += 80) {
    const size_t m = std::min<size_t>(80, n - i);
    for (size_t k = 0; k < m; ++k) line[k] = kResidueLetters[r[i + k]];
    line[m] = '\n';
    std::fwrite(line, 1, m + 1, f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Synthetic protein database with planted homologs for the GPU-BLAST benchmark"};
  uint64_t residues = 5'000'000, seed = 1;
  std::string out_dir, query_lengths_arg = "2,100,500,1000,5000,10000", identities_arg = "35,40,45,50,60,70,80,90";
  bool write_fasta = false, write_gbdb = false;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--residues", residues, "approximate number of database residues (background sequences)");
  app.add_option("--seed", seed, "random seed; the same seed gives the same files");
  app.add_option("--out", out_dir, "output directory (must exist)")->required();
  app.add_option("--query-lengths", query_lengths_arg, "comma-separated query lengths");
  app.add_option("--identities", identities_arg, "comma-separated identities (%) of planted homologs");
  app.add_flag("--fasta", write_fasta, "write db.fasta (for makeblastdb)");
  app.add_flag("--gbdb", write_gbdb, "write db.gbdb (gpu_blastp's database) directly");
  app.add_option("--threads", threads, "generator threads (do not change the output)");
  CLI11_PARSE(app, argc, argv);
  if (!write_fasta && !write_gbdb) write_fasta = true;
  const std::vector<int> query_lengths = ParseIntList(query_lengths_arg);
  const std::vector<int> identities = ParseIntList(identities_arg);

  static const Sampler16 background(kBackground, 20);
  static const Substitutions subs;

  // Queries: q<length>, drawn from the background.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> queries;
  for (size_t i = 0; i < query_lengths.size(); ++i) {
    Rng rng(seed, kSpecialStream + 1 + i);
    std::vector<uint8_t> q(query_lengths[i]);
    for (auto& r : q) r = background(rng);
    queries.emplace_back("q" + std::to_string(query_lengths[i]), std::move(q));
  }

  // Background sequences: lengths from one stream, residues from one
  // stream per sequence (so they can be generated in parallel).
  const std::vector<uint32_t> quantiles = LengthQuantiles();
  std::vector<uint64_t> starts{0};
  {
    Rng rng(seed, kSpecialStream);
    while (starts.back() < residues) starts.push_back(starts.back() + quantiles[rng.Below(quantiles.size())]);
  }
  const uint64_t n = starts.size() - 1;
  std::vector<uint8_t> data(starts.back());
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (uint64_t i = t; i < n; i += threads) {
          Rng rng(seed, i);
          for (uint64_t k = starts[i]; k < starts[i + 1]; ++k) data[k] = background(rng);
        }
      });
    }
    for (auto& th : pool) th.join();
  }

  // Homologs of queries of 30 residues or more, each placed after a
  // background sequence chosen at random.
  std::vector<Homolog> homologs;
  std::vector<std::pair<uint64_t, size_t>> placement;  // (after sequence, homolog)
  {
    Rng rng(seed, kSpecialStream - 1);
    for (const auto& [qid, q] : queries) {
      if (q.size() < 30) continue;
      for (int identity : identities) {
        homologs.push_back(MakeHomolog(q, qid, identity, rng, background, subs));
        placement.emplace_back(rng.Below(n), homologs.size() - 1);
      }
    }
    std::sort(placement.begin(), placement.end());
  }

  const std::string dir = out_dir + "/";
  // Queries: one file each, and all together.
  {
    std::FILE* all = std::fopen((dir + "queries.fa").c_str(), "w");
    if (!all) {
      std::fprintf(stderr, "blast_dbgen: cannot write to %s\n", out_dir.c_str());
      return 1;
    }
    for (const auto& [qid, q] : queries) {
      WriteFastaRecord(all, qid, q.data(), q.size());
      std::FILE* one = std::fopen((dir + qid + ".fa").c_str(), "w");
      WriteFastaRecord(one, qid, q.data(), q.size());
      std::fclose(one);
    }
    std::fclose(all);
  }
  {
    std::FILE* truth = std::fopen((dir + "truth.tsv").c_str(), "w");
    std::fprintf(truth, "query\tsubject\ttarget_identity\tidentity\tcolumns\tindels\tsubject_length\n");
    for (const Homolog& h : homologs)
      std::fprintf(truth, "%s\t%s\t%d\t%.2f\t%d\t%d\t%zu\n", h.query_id.c_str(), h.id.c_str(), h.target_identity,
                   h.identity, h.columns, h.indels, h.residues.size());
    std::fclose(truth);
  }

  // The database in order: background sequence i, then homologs placed after it.
  std::FILE* fasta = nullptr;
  gpu_blastp::SequenceDbWriter gbdb;
  if (write_fasta) {
    fasta = std::fopen((dir + "db.fasta").c_str(), "w");
    static char buffer[1 << 22];
    std::setvbuf(fasta, buffer, _IOFBF, sizeof(buffer));
  }
  if (write_gbdb) {
    gpu_blastp::Status s = gbdb.Create(dir + "db.gbdb");
    if (!s.ok()) {
      std::fprintf(stderr, "blast_dbgen: %s\n", s.message().c_str());
      return 1;
    }
  }
  uint64_t total = 0, sequences = 0, checksum = 1469598103934665603ull;
  auto emit = [&](const std::string& id, const uint8_t* r, size_t len) {
    if (fasta) WriteFastaRecord(fasta, id, r, len);
    if (write_gbdb) {
      gpu_blastp::Status s = gbdb.Add(id, r, len);
      if (!s.ok()) {
        std::fprintf(stderr, "blast_dbgen: %s\n", s.message().c_str());
        std::exit(1);
      }
    }
    for (size_t k = 0; k < len; ++k) checksum = (checksum ^ r[k]) * 1099511628211ull;
    total += len;
    ++sequences;
  };
  size_t next_placement = 0;
  char id[32];
  for (uint64_t i = 0; i < n; ++i) {
    std::snprintf(id, sizeof(id), "s%09llu", static_cast<unsigned long long>(i));
    emit(id, data.data() + starts[i], starts[i + 1] - starts[i]);
    while (next_placement < placement.size() && placement[next_placement].first == i) {
      const Homolog& h = homologs[placement[next_placement++].second];
      emit(h.id, h.residues.data(), h.residues.size());
    }
  }
  if (fasta && std::fclose(fasta) != 0) {
    std::fprintf(stderr, "blast_dbgen: cannot write db.fasta\n");
    return 1;
  }
  if (write_gbdb) {
    gpu_blastp::Status s = gbdb.Finish();
    if (!s.ok()) {
      std::fprintf(stderr, "blast_dbgen: %s\n", s.message().c_str());
      return 1;
    }
  }
  std::printf("sequences %llu residues %llu homologs %zu checksum %016llx\n", static_cast<unsigned long long>(sequences),
              static_cast<unsigned long long>(total), homologs.size(), static_cast<unsigned long long>(checksum));
  return 0;
}
