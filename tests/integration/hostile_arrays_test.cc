// Hostile peers and CUDA arrays, texture and surface objects: a made-up
// array or object handle, a copy beyond an array, an impossible size or a
// device range outside the session's memory is refused with an error and
// the session goes on; a malformed call ends only its own session. On both
// backends (kBackends), the CUDA executor on the fake libcuda.so.1 (TEST
// EQUIPMENT).
#include <vector>

#include "hostile_support.h"
#include "protocol/call_ops.h"

namespace rcuda::itest {
namespace {

constexpr int kInvalidValue = 1;
constexpr int kInvalidHandle = 400;  // cudaErrorInvalidResourceHandle
constexpr int64_t kFloat = 0x20;     // CU_AD_FORMAT_FLOAT
constexpr uint32_t Op(CallOp op) { return static_cast<uint32_t>(op); }

int CallError(RawClient& c, const TestServer& server, CallOp op, std::vector<int64_t> args,
              int64_t* value = nullptr) {
  const wire::Reply* r = RequireGenericCall(c, server, Op(op), std::move(args));
  if (value && r->error() == 0) {
    REQUIRE(r->body_as_CallReply());
    REQUIRE(r->body_as_CallReply()->values()->size() == 1);
    *value = r->body_as_CallReply()->values()->Get(0);
  }
  return r->error();
}

// An asynchronous host-to-array copy; its error comes with the next reply
// (as its asynchronous error).
int CopyFromHost(RawClient& c, const TestServer& server, uint64_t array, uint64_t x, uint64_t width,
                 uint64_t height) {
  std::vector<uint8_t> rows(width * height, 0x5a);
  REQUIRE(c.Send(wire::Request::ArrayCopyFromHost, [&](flatbuffers::FlatBufferBuilder& b) {
             return wire::CreateArrayCopyFromHost(b, array, x, 0, width, height, 0).Union();
           }, rows).ok());
  return RequireSync(c, server)->async_error();
}

int CopyToHost(RawClient& c, const TestServer& server, uint64_t array, uint64_t y, uint64_t width, uint64_t height) {
  return RequireCall(c, server, wire::Request::ArrayCopyToHost, [&](flatbuffers::FlatBufferBuilder& b) {
           return wire::CreateArrayCopyToHost(b, array, 0, y, width, height, 0).Union();
         })->error();
}

}  // namespace

TEST_CASE("made-up array and object handles and copies beyond an array are refused; the session goes on",
          "[hostile_arrays]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient c;
    RequireOpen(c, server, Via::kTcp);

    // Sizes: overflowing, negative, an unknown format or channel count.
    CHECK(CallError(c, server, CallOp::kArrayCreate, {1ll << 40, 1ll << 40, 1ll << 40, kFloat, 4, 0}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kArrayCreate, {-16, 8, 0, kFloat, 1, 0}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kArrayCreate, {16, 8, 0, 0x77, 1, 0}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kArrayCreate, {16, 8, 0, kFloat, 3, 0}) == kInvalidValue);

    // A 16 x 8 float array: rows of 64 bytes.
    int64_t array = 0;
    REQUIRE(CallError(c, server, CallOp::kArrayCreate, {16, 8, 0, kFloat, 1, 0}, &array) == 0);
    const uint64_t a = static_cast<uint64_t>(array);
    CHECK(CopyFromHost(c, server, a, 0, 64, 8) == 0);
    CHECK(CopyFromHost(c, server, a + 8, 0, 64, 1) == kInvalidHandle);  // made up
    CHECK(CopyFromHost(c, server, a, 60, 8, 1) == kInvalidValue);       // 4 bytes beyond the row
    CHECK(CopyToHost(c, server, a, 1, 64, 8) == kInvalidValue);         // one row beyond
    CHECK(CopyToHost(c, server, a + 8, 0, 4, 1) == kInvalidHandle);
    CHECK(CopyToHost(c, server, a, 0, 64, 8) == 0);
    // Device memory the session does not have, and a wrapping extent.
    for (uint64_t height : {uint64_t{2}, ~uint64_t{0}}) {
      REQUIRE(c.Send(wire::Request::ArrayCopyDevice, [&](flatbuffers::FlatBufferBuilder& b) {
                 return wire::CreateArrayCopyDevice(b, a, 0, 0, 0x10000, 1ull << 63, 4, height, true, 0).Union();
               }).ok());
      CHECK(RequireSync(c, server)->async_error() == kInvalidValue);
    }

    // Objects: a made-up one to destroy, one on a made-up array, one on
    // memory the session does not have.
    CHECK(CallError(c, server, CallOp::kTexObjectDestroy, {0x5eed}) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kSurfObjectDestroy, {0x5eed}) == kInvalidHandle);
    const std::vector<int64_t> texture_on_array = {0, array, 0, 0, 0, 0, 0, 0, 0x010101, 0, 3, 0, 0};
    std::vector<int64_t> made_up = texture_on_array;
    made_up[1] = array + 8;
    CHECK(CallError(c, server, CallOp::kTexObjectCreate, made_up) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kTexObjectCreate, {2, 0, 0x10000, kFloat, 1, 16, 8, 64, 0, 0, 3, 0, 0}) ==
          kInvalidValue);
    int64_t texture = 0;
    CHECK(CallError(c, server, CallOp::kTexObjectCreate, texture_on_array, &texture) == 0);
    CHECK(CallError(c, server, CallOp::kTexObjectDestroy, {texture}) == 0);
    CHECK(CallError(c, server, CallOp::kTexObjectDestroy, {texture}) == kInvalidHandle);  // twice
    // A surface needs an array made for surface loads and stores.
    CHECK(CallError(c, server, CallOp::kSurfObjectCreate, {array}) != 0);
    CHECK(CallError(c, server, CallOp::kArrayDestroy, {array}) == 0);
    CHECK(CallError(c, server, CallOp::kArrayDestroy, {array}) == kInvalidHandle);  // twice
    RequireSessionWorks(c, server);

    // A call with the wrong number of arguments ends its session only.
    RawClient bad;
    RequireOpen(bad, server, Via::kShm);
    REQUIRE(bad.Send(wire::Request::Call, [&](flatbuffers::FlatBufferBuilder& b) {
                   std::vector<int64_t> args = {16};
                   return wire::CreateCallDirect(b, Op(CallOp::kArrayCreate), &args).Union();
                 }).ok());
    CHECK(bad.WaitClosed(milliseconds(10000)));
    REQUIRE(server.Alive());
    RequireSessionWorks(c, server);
  }
}

TEST_CASE("mipmapped arrays: made-up handles, levels beyond the last and freeing a level alone are refused",
          "[hostile_arrays]") {
  for (const char* backend : kBackends) {
    INFO("backend " << backend);
    TestServer::Options options;
    options.backend = backend;
    TestServer server(options);
    INFO("server log:\n" << server.Log());
    REQUIRE(server.started());
    RawClient c;
    RequireOpen(c, server, Via::kTcp);

    // Impossible sizes, unknown flags.
    CHECK(CallError(c, server, CallOp::kMipmappedArrayCreate, {1ll << 40, 1ll << 40, 0, kFloat, 4, 0, 3}) ==
          kInvalidValue);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayCreate, {0, 8, 0, kFloat, 1, 0, 3}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayCreate, {16, 8, 0, kFloat, 1, 0x4000, 3}) == kInvalidValue);

    // 16 x 8 floats; 40 levels asked for, 5 made (16, 8, 4, 2, 1 wide).
    int64_t mipmap = 0, level1 = 0, level4 = 0, array = 0;
    REQUIRE(CallError(c, server, CallOp::kMipmappedArrayCreate, {16, 8, 0, kFloat, 1, 0, 40}, &mipmap) == 0);
    REQUIRE(CallError(c, server, CallOp::kArrayCreate, {16, 8, 0, kFloat, 1, 0}, &array) == 0);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap, 5}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap, -1}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap + 8, 0}) == kInvalidHandle);  // made up
    CHECK(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {array, 0}) == kInvalidHandle);       // an array
    REQUIRE(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap, 1}, &level1) == 0);
    REQUIRE(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap, 4}, &level4) == 0);
    const uint64_t l1 = static_cast<uint64_t>(level1);
    // Level 1 is 8 x 4 floats: rows of 32 bytes.
    CHECK(CopyFromHost(c, server, l1, 0, 32, 4) == 0);
    CHECK(CopyFromHost(c, server, l1, 4, 32, 1) == kInvalidValue);  // 4 bytes beyond the row
    CHECK(CopyToHost(c, server, l1, 1, 32, 4) == kInvalidValue);     // one row beyond
    CHECK(CopyToHost(c, server, static_cast<uint64_t>(level4), 0, 4, 1) == 0);
    // A level is freed with its mipmapped array only; an array is not one.
    CHECK(CallError(c, server, CallOp::kArrayDestroy, {level1}) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayDestroy, {array}) == kInvalidHandle);

    // Textures: a made-up mipmapped array, an unknown mipmap filter or
    // anisotropy; then one that works.
    auto texture_args = [&](int64_t on, int64_t mipmap_filter, int64_t anisotropy) {
      return std::vector<int64_t>{on, 0x010101, 0, 3, 0, 0, mipmap_filter, 0, 0, anisotropy};
    };
    CHECK(CallError(c, server, CallOp::kTexObjectCreateMipmapped, texture_args(mipmap + 8, 0, 0)) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kTexObjectCreateMipmapped, texture_args(array, 0, 0)) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kTexObjectCreateMipmapped, texture_args(mipmap, 7, 0)) == kInvalidValue);
    CHECK(CallError(c, server, CallOp::kTexObjectCreateMipmapped, texture_args(mipmap, 0, 99)) == kInvalidValue);
    int64_t texture = 0;
    CHECK(CallError(c, server, CallOp::kTexObjectCreateMipmapped, texture_args(mipmap, 0, 0), &texture) == 0);
    CHECK(CallError(c, server, CallOp::kTexObjectDestroy, {texture}) == 0);

    // Destroyed: its levels are gone with it.
    CHECK(CallError(c, server, CallOp::kMipmappedArrayDestroy, {mipmap}) == 0);
    CHECK(CopyToHost(c, server, l1, 0, 4, 1) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayGetLevel, {mipmap, 0}) == kInvalidHandle);
    CHECK(CallError(c, server, CallOp::kMipmappedArrayDestroy, {mipmap}) == kInvalidHandle);  // twice
    CHECK(CallError(c, server, CallOp::kArrayDestroy, {array}) == 0);
    RequireSessionWorks(c, server);
  }
}

}  // namespace rcuda::itest
