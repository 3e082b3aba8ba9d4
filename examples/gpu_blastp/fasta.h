// A FASTA reader: records of an identifier (the first word of the defline)
// and the residues encoded with alphabet.h.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "status.h"

namespace gpu_blastp {

struct FastaRecord {
  std::string id;                // first word of the defline
  std::vector<uint8_t> residues; // alphabet.h codes
};

// Streams records from a file, one at a time, with bounded memory.
class FastaReader {
 public:
  ~FastaReader();
  Status Open(const std::string& path);
  // Reads the next record into *record; *done is set at the end of the file.
  Status Next(FastaRecord* record, bool* done);

 private:
  bool ReadLine(std::string* line);
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string pending_defline_;
  bool have_pending_ = false;
};

// Reads every record of a (small) file, such as a query file.
Status ReadFastaFile(const std::string& path, std::vector<FastaRecord>* records);

}  // namespace gpu_blastp
