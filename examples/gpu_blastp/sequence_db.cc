#include "sequence_db.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "alphabet.h"

namespace gpu_blastp {

namespace {

struct DbHeader {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  uint64_t sequences;
  uint64_t residues;
  uint64_t residues_offset;
  uint64_t starts_offset;
  uint64_t ids_offset;
  uint64_t file_size;
};
static_assert(sizeof(DbHeader) == 64);

uint64_t AlignUp8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

}  // namespace

SequenceDb::~SequenceDb() {
  if (map_) munmap(map_, map_size_);
}

Status SequenceDb::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Status::Error("cannot open database " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(DbHeader))) {
    ::close(fd);
    return Status::Error(path + " is not a gpu_blastp database (too short)");
  }
  map_size_ = static_cast<size_t>(st.st_size);
  map_ = mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    return Status::Error("cannot map database " + path);
  }
  DbHeader h;
  std::memcpy(&h, map_, sizeof(h));
  if (std::memcmp(h.magic, kDbMagic, 8) != 0)
    return Status::Error(path + " is not a gpu_blastp database (bad magic; convert FASTA with gpu_blastp_makedb)");
  if (h.version != kDbVersion)
    return Status::Error(path + ": database version " + std::to_string(h.version) + ", this program reads version " +
                         std::to_string(kDbVersion));
  const uint64_t n = h.sequences;
  const bool sizes_ok = h.file_size == map_size_ && h.residues_offset == sizeof(DbHeader) &&
                        h.starts_offset >= h.residues_offset + h.residues &&
                        h.ids_offset >= h.starts_offset + (n + 1) * 8 && h.ids_offset + (n + 1) * 8 <= map_size_;
  if (!sizes_ok) return Status::Error(path + ": database header does not match the file size (truncated file?)");
  const uint8_t* base = static_cast<const uint8_t*>(map_);
  residue_data_ = base + h.residues_offset;
  starts_ = reinterpret_cast<const uint64_t*>(base + h.starts_offset);
  id_starts_ = reinterpret_cast<const uint64_t*>(base + h.ids_offset);
  id_chars_ = reinterpret_cast<const char*>(base + h.ids_offset + (n + 1) * 8);
  if (starts_[0] != 0 || starts_[n] != h.residues ||
      h.ids_offset + (n + 1) * 8 + id_starts_[n] > map_size_)
    return Status::Error(path + ": database index is inconsistent");
  for (uint64_t i = 0; i < n; ++i) {
    if (starts_[i + 1] < starts_[i] || id_starts_[i + 1] < id_starts_[i])
      return Status::Error(path + ": database index is not increasing");
    max_length_ = std::max<uint32_t>(max_length_, static_cast<uint32_t>(starts_[i + 1] - starts_[i]));
  }
  sequences_ = n;
  residues_ = h.residues;
  return Status::Ok();
}

std::string_view SequenceDb::id(uint64_t i) const {
  return std::string_view(id_chars_ + id_starts_[i], id_starts_[i + 1] - id_starts_[i]);
}

SequenceDbWriter::~SequenceDbWriter() {
  if (file_) std::fclose(file_);
}

Status SequenceDbWriter::Create(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return Status::Error("cannot create " + path);
  DbHeader blank{};
  if (std::fwrite(&blank, sizeof(blank), 1, file_) != 1) return Status::Error("cannot write " + path);
  return Status::Ok();
}

Status SequenceDbWriter::Add(std::string_view id, const uint8_t* residues, size_t length) {
  if (length >= (uint64_t{1} << 31)) return Status::Error("sequence " + std::string(id) + " is too long");
  for (size_t i = 0; i < length; ++i)
    if (residues[i] >= kAlphabetSize) return Status::Error("sequence " + std::string(id) + " has an invalid code");
  if (length && std::fwrite(residues, 1, length, file_) != length) return Status::Error("cannot write " + path_);
  starts_.push_back(starts_.back() + length);
  ids_.append(id);
  id_starts_.push_back(ids_.size());
  return Status::Ok();
}

Status SequenceDbWriter::Finish() {
  DbHeader h{};
  std::memcpy(h.magic, kDbMagic, 8);
  h.version = kDbVersion;
  h.sequences = starts_.size() - 1;
  h.residues = starts_.back();
  h.residues_offset = sizeof(DbHeader);
  h.starts_offset = AlignUp8(h.residues_offset + h.residues);
  h.ids_offset = h.starts_offset + starts_.size() * 8;
  h.file_size = h.ids_offset + id_starts_.size() * 8 + ids_.size();
  static const char zeros[8] = {};
  const size_t pad = h.starts_offset - (h.residues_offset + h.residues);
  bool ok = std::fwrite(zeros, 1, pad, file_) == pad &&
            std::fwrite(starts_.data(), 8, starts_.size(), file_) == starts_.size() &&
            std::fwrite(id_starts_.data(), 8, id_starts_.size(), file_) == id_starts_.size() &&
            std::fwrite(ids_.data(), 1, ids_.size(), file_) == ids_.size() && std::fseek(file_, 0, SEEK_SET) == 0 &&
            std::fwrite(&h, sizeof(h), 1, file_) == 1;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) return Status::Error("cannot write " + path_);
  return Status::Ok();
}

}  // namespace gpu_blastp
