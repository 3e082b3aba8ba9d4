#include "fasta.h"

#include "alphabet.h"

namespace gpu_blastp {

FastaReader::~FastaReader() {
  if (file_) std::fclose(file_);
}

Status FastaReader::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) return Status::Error("cannot open FASTA file " + path);
  static thread_local char buffer[1 << 20];
  std::setvbuf(file_, buffer, _IOFBF, sizeof(buffer));
  return Status::Ok();
}

bool FastaReader::ReadLine(std::string* line) {
  line->clear();
  int c;
  bool any = false;
  while ((c = getc_unlocked(file_)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (c != '\r') line->push_back(static_cast<char>(c));
  }
  return any;
}

static std::string IdOfDefline(const std::string& defline) {
  size_t begin = 1;
  while (begin < defline.size() && (defline[begin] == ' ' || defline[begin] == '\t')) ++begin;
  size_t end = begin;
  while (end < defline.size() && defline[end] != ' ' && defline[end] != '\t') ++end;
  return defline.substr(begin, end - begin);
}

Status FastaReader::Next(FastaRecord* record, bool* done) {
  std::string line;
  *done = false;
  record->id.clear();
  record->residues.clear();
  if (!have_pending_) {
    // Skip anything before the first defline (blank lines).
    for (;;) {
      if (!ReadLine(&line)) {
        *done = true;
        return Status::Ok();
      }
      if (!line.empty() && line[0] == '>') break;
      for (char ch : line)
        if (ch != ' ' && ch != '\t') return Status::Error(path_ + ": sequence data before the first '>' line");
    }
    pending_defline_ = line;
  }
  have_pending_ = false;
  record->id = IdOfDefline(pending_defline_);
  if (record->id.empty()) return Status::Error(path_ + ": a '>' line without an identifier");
  while (ReadLine(&line)) {
    if (!line.empty() && line[0] == '>') {
      pending_defline_ = line;
      have_pending_ = true;
      break;
    }
    for (char ch : line) {
      uint8_t code = EncodeResidue(ch);
      if (code != 0xFF) record->residues.push_back(code);
    }
  }
  return Status::Ok();
}

Status ReadFastaFile(const std::string& path, std::vector<FastaRecord>* records) {
  FastaReader reader;
  Status s = reader.Open(path);
  if (!s.ok()) return s;
  for (;;) {
    FastaRecord record;
    bool done = false;
    s = reader.Next(&record, &done);
    if (!s.ok()) return s;
    if (done) break;
    records->push_back(std::move(record));
  }
  return Status::Ok();
}

}  // namespace gpu_blastp
