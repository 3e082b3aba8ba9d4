#include "server/hello_refusal.h"

#include <flatbuffers/flatbuffers.h>

#include <span>

#include "common/cuda_error_codes.h"
#include "protocol/frame.h"
#include "protocol/version.h"
#include "protocol/rcuda_generated.h"

namespace rcuda {

Status WriteHelloRefusal(Connection& connection, uint64_t id, const std::string& why) {
  flatbuffers::FlatBufferBuilder builder(256);
  auto text = builder.CreateString(why);
  auto version = builder.CreateString(kRcudaVersion);
  wire::HelloReplyBuilder reply(builder);
  reply.add_protocol_version(kProtocolVersion);
  reply.add_accepted(false);
  reply.add_message(text);
  reply.add_server_version(version);
  auto body = reply.Finish();
  auto message = builder.CreateString(why);
  wire::ReplyBuilder envelope(builder);
  envelope.add_id(id);
  envelope.add_error(kCudaErrorDevicesUnavailable);
  envelope.add_message(message);
  envelope.add_body_type(wire::ReplyBody::HelloReply);
  envelope.add_body(body.Union());
  builder.Finish(envelope.Finish());
  return WriteFrame(connection, std::span(builder.GetBufferPointer(), builder.GetSize()));
}

}  // namespace rcuda
