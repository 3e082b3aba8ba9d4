#include <catch2/catch.hpp>

#include <string>

#include "protocol/hmac_sha256.h"

namespace {

std::string Hex(const rcuda::Sha256Digest& digest, size_t bytes = 32) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string Bytes(size_t count, char value) { return std::string(count, value); }

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 examples", "[sha256]") {
  CHECK(Hex(rcuda::Sha256Of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Hex(rcuda::Sha256Of("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Hex(rcuda::Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Hex(rcuda::Sha256Of(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 gives the same digest however the input is split", "[sha256]") {
  std::string message(1000, 'x');
  for (size_t i = 0; i < message.size(); ++i) message[i] = char(i * 7 + 3);
  rcuda::Sha256Digest whole = rcuda::Sha256Of(message);
  for (size_t step : {1, 3, 55, 56, 63, 64, 65, 127}) {
    rcuda::Sha256 hash;
    for (size_t at = 0; at < message.size(); at += step) hash.Update(std::string_view(message).substr(at, step));
    CHECK(Hex(hash.Finish()) == Hex(whole));
  }
}

TEST_CASE("HMAC-SHA256 matches RFC 4231", "[hmac]") {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += char(i);
  CHECK(Hex(rcuda::HmacSha256(Bytes(20, 0x0b), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(Hex(rcuda::HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(Hex(rcuda::HmacSha256(Bytes(20, char(0xaa)), Bytes(50, char(0xdd)))) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK(Hex(rcuda::HmacSha256(key4, Bytes(50, char(0xcd)))) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 is specified truncated to 128 bits.
  CHECK(Hex(rcuda::HmacSha256(Bytes(20, 0x0c), "Test With Truncation"), 16) == "a3b6167473100ee06e0c796c2955552b");
  CHECK(Hex(rcuda::HmacSha256(Bytes(131, char(0xaa)), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(Hex(rcuda::HmacSha256(Bytes(131, char(0xaa)),
                              "This is a test using a larger than block-size key and a larger than block-size data. "
                              "The key needs to be hashed before being used by the HMAC algorithm.")) ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("ConstantTimeEqual compares contents and lengths", "[hmac]") {
  CHECK(rcuda::ConstantTimeEqual("abc", "abc"));
  CHECK_FALSE(rcuda::ConstantTimeEqual("abc", "abd"));
  CHECK_FALSE(rcuda::ConstantTimeEqual("abc", "ab"));
  CHECK(rcuda::ConstantTimeEqual("", ""));
}
