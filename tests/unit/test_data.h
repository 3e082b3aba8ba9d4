// The nvcc outputs the unit tests parse: tests/unit/CMakeLists.txt builds
// them from tests/unit/data/*.cu into RCUDA_UNIT_DATA_DIR at build time.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rcuda::unit {

inline std::string DataPath(const std::string& name) { return std::string(RCUDA_UNIT_DATA_DIR) + "/" + name; }

// The whole file; throws (failing the test) when it is missing.
inline std::string ReadDataFile(const std::string& name) {
  std::ifstream in(DataPath(name), std::ios::binary);
  if (!in) throw std::runtime_error("missing test data file " + DataPath(name));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small deterministic generator (xorshift64*), for corruption tests that
// must fail the same way on every run.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed ? seed : 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

}  // namespace rcuda::unit
