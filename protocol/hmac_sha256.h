// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written here so that
// lease tokens need no crypto library on the GPU nodes. Checked against the
// FIPS 180-2 examples and RFC 4231's HMAC test vectors
// (tests/scheduler/hmac_sha256_test.cc).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rcuda {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256: Update() any number of times, then Finish() once.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest Sha256Of(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view message);

// Compares two byte strings in time that depends only on their lengths, so a
// forger learns nothing from how long a MAC comparison takes.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace rcuda
