// gpu_blastp: a BLASTP-style protein database search whose scan runs on a
// GPU through the CUDA runtime API (or on CPU threads with --mode cpu), with
// blastp's tabular output (-outfmt 6).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "fasta.h"
#include "scan.h"
#include "search.h"
#include "sequence_db.h"

int main(int argc, char** argv) {
  using namespace gpu_blastp;
  CLI::App app{"BLASTP-style protein search with a GPU scan (BLOSUM62, gap costs 11/1, outfmt 6)"};
  std::string query_path, db_path, out_path = "-", mode = "gpu";
  int threads = 1;
  bool print_stats = false;
  SearchParams params;
  app.add_option("--query", query_path, "query FASTA file")->required();
  app.add_option("--db", db_path, "database made by gpu_blastp_makedb")->required();
  app.add_option("--out", out_path, "output file ('-' for stdout)");
  app.add_option("--mode", mode, "where the scan runs: gpu or cpu")->check(CLI::IsMember({"gpu", "cpu"}));
  app.add_option("--threads", threads, "CPU threads (the gapped stage, and the scan in cpu mode)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--evalue", params.evalue, "report hits with E-value at most this");
  app.add_option("--max-target-seqs", params.max_target_seqs, "report at most this many subjects per query")
      ->check(CLI::Range(1, 1 << 30));
  app.add_flag("--stats", print_stats, "print timings and counts to stderr");
  CLI11_PARSE(app, argc, argv);

  const auto start = std::chrono::steady_clock::now();
  std::vector<FastaRecord> queries;
  SequenceDb db;
  Status s = ReadFastaFile(query_path, &queries);
  if (s.ok()) s = db.Open(db_path);
  std::unique_ptr<GpuScanner> gpu;
  if (s.ok() && mode == "gpu") s = CreateGpuScanner(db, &gpu);
  if (!s.ok()) {
    std::fprintf(stderr, "gpu_blastp: %s\n", s.message().c_str());
    return 1;
  }
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "w");
  if (!out) {
    std::fprintf(stderr, "gpu_blastp: cannot write %s\n", out_path.c_str());
    return 1;
  }
  const double setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (print_stats) {
    std::fprintf(stderr, "gpu_blastp: mode %s%s%s, %d threads, database %llu sequences / %llu residues, setup %.3f s\n",
                 mode.c_str(), gpu ? " on " : "", gpu ? gpu->DeviceName().c_str() : "", threads,
                 static_cast<unsigned long long>(db.size()), static_cast<unsigned long long>(db.total_residues()),
                 setup_seconds);
  }
  for (const FastaRecord& q : queries) {
    std::vector<Hit> hits;
    SearchStats stats;
    s = SearchQuery(q.residues.data(), static_cast<int32_t>(q.residues.size()), db, params, gpu.get(), threads,
                    &hits, &stats);
    if (!s.ok()) {
      std::fprintf(stderr, "gpu_blastp: query %s: %s\n", q.id.c_str(), s.message().c_str());
      return 1;
    }
    for (const Hit& h : hits) std::fprintf(out, "%s\n", FormatTabular(q.id, db, h).c_str());
    if (print_stats) {
      std::fprintf(stderr,
                   "gpu_blastp: query %s length %zu: scan %.3f s (device %.3f s, upload %.3f s), %llu ungapped HSPs, "
                   "GPU preliminary gapped %llu in %.3f s (%llu overflows), gapped stage used %llu preliminary + "
                   "%llu traceback extensions in %.3f s, %zu hits, length adjustment %lld\n",
                   q.id.c_str(), q.residues.size(), stats.scan.seconds, stats.scan.device_seconds,
                   stats.scan.upload_seconds, static_cast<unsigned long long>(stats.scan.hsps),
                   static_cast<unsigned long long>(stats.gpu_preliminary), stats.gpu_preliminary_seconds,
                   static_cast<unsigned long long>(stats.gpu_overflows),
                   static_cast<unsigned long long>(stats.preliminary_extensions),
                   static_cast<unsigned long long>(stats.traceback_extensions), stats.gapped_seconds, hits.size(),
                   static_cast<long long>(stats.length_adjustment));
    }
  }
  if (out != stdout && std::fclose(out) != 0) {
    std::fprintf(stderr, "gpu_blastp: cannot write %s\n", out_path.c_str());
    return 1;
  }
  if (print_stats) {
    std::fprintf(stderr, "gpu_blastp: total %.3f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 0;
}
