// gpu_blastp_makedb: converts a protein FASTA file into gpu_blastp's
// database form (sequence_db.h), once, so that searches only map it.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "fasta.h"
#include "sequence_db.h"

int main(int argc, char** argv) {
  CLI::App app{"Convert a protein FASTA file into a gpu_blastp database"};
  std::string in_path, out_path;
  app.add_option("-i,--in", in_path, "protein FASTA file")->required();
  app.add_option("-o,--out", out_path, "database file to write (.gbdb)")->required();
  CLI11_PARSE(app, argc, argv);

  gpu_blastp::FastaReader reader;
  gpu_blastp::SequenceDbWriter writer;
  gpu_blastp::Status s = reader.Open(in_path);
  if (s.ok()) s = writer.Create(out_path);
  uint64_t sequences = 0, residues = 0;
  gpu_blastp::FastaRecord record;
  while (s.ok()) {
    bool done = false;
    s = reader.Next(&record, &done);
    if (!s.ok() || done) break;
    s = writer.Add(record.id, record.residues.data(), record.residues.size());
    ++sequences;
    residues += record.residues.size();
  }
  if (s.ok()) s = writer.Finish();
  if (!s.ok()) {
    std::fprintf(stderr, "gpu_blastp_makedb: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "gpu_blastp_makedb: %llu sequences, %llu residues -> %s\n",
               static_cast<unsigned long long>(sequences), static_cast<unsigned long long>(residues),
               out_path.c_str());
  return 0;
}
