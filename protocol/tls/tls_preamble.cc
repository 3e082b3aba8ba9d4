#include "protocol/tls/tls_preamble.h"

#include "protocol/hmac_sha256.h"
#include "protocol/version.h"

namespace rcuda {

std::vector<uint8_t> TlsPreamble(int gpu, const std::string& attach_route) {
  flatbuffers::FlatBufferBuilder builder(128);
  auto transport = builder.CreateString(kTlsTransportName);
  auto route = attach_route.empty() ? 0 : builder.CreateString(attach_route);
  wire::HelloBuilder hello(builder);
  hello.add_protocol_version(kProtocolVersion);
  hello.add_gpu(gpu);
  hello.add_transport(transport);
  if (!attach_route.empty()) hello.add_attach_route(route);
  auto body = hello.Finish();
  wire::MessageBuilder message(builder);
  message.add_id(0);
  message.add_request_type(wire::Request::Hello);
  message.add_request(body.Union());
  builder.Finish(message.Finish());
  return std::vector<uint8_t>(builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize());
}

bool IsTlsPreamble(const wire::Hello& hello) {
  return hello.transport() && hello.transport()->string_view() == kTlsTransportName;
}

std::string AttachRoute(const std::string& session_key) {
  Sha256Digest digest = Sha256Of("rcuda host channel route\n" + session_key);
  static const char* hex = "0123456789abcdef";
  std::string route;
  for (size_t i = 0; i < 16; ++i) {  // 128 bits
    route += hex[digest[i] >> 4];
    route += hex[digest[i] & 15];
  }
  return route;
}

}  // namespace rcuda
