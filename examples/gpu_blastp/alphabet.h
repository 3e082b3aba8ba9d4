// The protein alphabet of gpu_blastp: residues are coded 0..24 in the order
// of NCBI's BLOSUM62 table, so the code indexes the score matrix directly.
#pragma once

#include <cstdint>

namespace gpu_blastp {

// "ARNDCQEGHILKMFPSTWYVBJZX*": the 20 standard residues first, then the
// ambiguity codes and the stop.
inline constexpr char kResidueLetters[] = "ARNDCQEGHILKMFPSTWYVBJZX*";
inline constexpr int kAlphabetSize = 25;
inline constexpr int kStandardResidues = 20;
inline constexpr uint8_t kResidueX = 23;

// Code of a FASTA letter (either case); letters outside the table (U, O,
// digits...) become X, as BLAST treats unknown residues. Returns 0xFF for
// characters that are not residues at all (gaps, spaces).
uint8_t EncodeResidue(char letter);
inline char DecodeResidue(uint8_t code) { return code < kAlphabetSize ? kResidueLetters[code] : '?'; }

}  // namespace gpu_blastp
