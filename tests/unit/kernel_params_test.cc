// Packing kernel arguments into the driver's parameter buffer
// (common/kernel_params.h).
#include <catch2/catch.hpp>

#include <cstring>

#include "common/kernel_params.h"
#include "data/param_types.h"

namespace rcuda {

TEST_CASE("the parameter buffer ends after the last parameter", "[kernel_params]") {
  CHECK(ParamBufferSize({}) == 0);
  std::vector<KernelParamInfo> mixed = {{0, 1}, {2, 2}, {4, 4}, {8, 8}, {16, 4}, {24, 8}, {32, 8}, {40, 32}};
  CHECK(ParamBufferSize(mixed) == 72);
  // Order does not matter: the end is the furthest offset + size.
  std::vector<KernelParamInfo> unordered = {{20008, 8}, {0, 4}, {4, 20000}};
  CHECK(ParamBufferSize(unordered) == 20016);
}

TEST_CASE("arguments land at their offsets and padding is zero", "[kernel_params]") {
  // mixed(char, short, int, long long, float, double, int*, Bytes32)
  std::vector<KernelParamInfo> params = {{0, 1}, {2, 2}, {4, 4}, {8, 8}, {16, 4}, {24, 8}, {32, 8}, {40, 32}};
  char c = 'x';
  short s = -2;
  int i = 0x11223344;
  long long ll = -5000000000LL;
  float f = 1.5f;
  double d = -2.25;
  int* p = reinterpret_cast<int*>(0x7f0012345678);
  Bytes32 b;
  for (int k = 0; k < 32; ++k) b.b[k] = static_cast<char>(0xa0 + k);
  void* args[] = {&c, &s, &i, &ll, &f, &d, &p, &b};

  std::vector<uint8_t> buffer(5, 0xee);  // replaced, not appended to
  Status status = PackKernelParams(params, args, &buffer);
  REQUIRE(status.ok());
  REQUIRE(buffer.size() == 72);
  auto at = [&](size_t offset, const void* value, size_t size) {
    return std::memcmp(buffer.data() + offset, value, size) == 0;
  };
  CHECK(at(0, &c, 1));
  CHECK(at(2, &s, 2));
  CHECK(at(4, &i, 4));
  CHECK(at(8, &ll, 8));
  CHECK(at(16, &f, 4));
  CHECK(at(24, &d, 8));
  CHECK(at(32, &p, 8));
  CHECK(at(40, &b, 32));
  CHECK(buffer[1] == 0);  // padding after the char
  for (size_t k = 20; k < 24; ++k) CHECK(buffer[k] == 0);  // padding after the float
}

TEST_CASE("large struct parameters are copied whole", "[kernel_params]") {
  std::vector<KernelParamInfo> params = {{0, 4}, {4, 20000}, {20008, 8}};
  int x = 7;
  static Big20000 big;
  for (size_t k = 0; k < sizeof big.bytes; ++k) big.bytes[k] = static_cast<unsigned char>(k * 31);
  int* out = reinterpret_cast<int*>(0x1000);
  void* args[] = {&x, &big, &out};
  std::vector<uint8_t> buffer;
  REQUIRE(PackKernelParams(params, args, &buffer).ok());
  REQUIRE(buffer.size() == 20016);
  CHECK(std::memcmp(buffer.data() + 4, big.bytes, sizeof big.bytes) == 0);
  CHECK(std::memcmp(buffer.data() + 20008, &out, 8) == 0);
  CHECK(buffer[20004] == 0);
}

TEST_CASE("missing arguments are errors", "[kernel_params]") {
  std::vector<KernelParamInfo> params = {{0, 4}, {8, 8}};
  std::vector<uint8_t> buffer;
  CHECK(PackKernelParams(params, nullptr, &buffer).code() == Status::kInvalidValue);
  int a = 1;
  void* args[] = {&a, nullptr};
  Status s = PackKernelParams(params, args, &buffer);
  CHECK(s.code() == Status::kInvalidValue);
  CHECK_THAT(s.message(), Catch::Contains("1"));
  // A kernel without parameters needs no argument array.
  CHECK(PackKernelParams({}, nullptr, &buffer).ok());
  CHECK(buffer.empty());
}

// Regression (CTest unit.regression.kernel-params-overflow): ParamBufferSize
// used to add offset + size in 32 bits, so a layout whose end wrapped around
// gave a small buffer and PackKernelParams wrote past its end.
TEST_CASE("a parameter layout whose end overflows is refused", "[kernel-params-overflow]") {
  std::vector<KernelParamInfo> params = {{16, 0xfffffff8u}};
  char arg[16] = {};
  void* args[] = {arg};
  std::vector<uint8_t> buffer;
  Status s = PackKernelParams(params, args, &buffer);
  CHECK_FALSE(s.ok());
}

// Regression (CTest unit.regression.kernel-params-empty; found by the ptx
// fuzz target): a layout of parameters of no bytes (PTX ".param .b8 a[0]")
// gives a buffer without storage, and PackKernelParams passed its null data
// pointer to memcpy (undefined even for 0 bytes; UBSan stops there in the
// sanitizer builds, unit.parsers_asan included).
TEST_CASE("parameters of no bytes pack into an empty buffer", "[kernel-params-empty]") {
  std::vector<KernelParamInfo> params = {{0, 0}, {0, 0}};
  char arg = 0;
  void* args[] = {&arg, &arg};
  std::vector<uint8_t> buffer;  // no storage yet, as a fresh one
  Status s = PackKernelParams(params, args, &buffer);
  INFO(s.ToString());
  CHECK(s.ok());
  CHECK(buffer.empty());
}

}  // namespace rcuda
