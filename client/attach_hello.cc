#include "client/attach_hello.h"

#include <unistd.h>

#include "client/handshake_deadline.h"
#include "protocol/frame.h"
#include "protocol/version.h"

namespace rcuda::client {

Status SendAttachHello(Connection& connection, const AttachRequest& request, AttachAnswer* answer) {
  flatbuffers::FlatBufferBuilder builder(256);
  auto key = builder.CreateString(request.session_key);
  auto transport = builder.CreateString(request.transport);
  wire::HelloBuilder hello(builder);
  hello.add_protocol_version(kProtocolVersion);
  hello.add_client_pid(static_cast<uint32_t>(getpid()));
  hello.add_gpu(request.gpu);
  hello.add_attach_key(key);
  hello.add_transport(transport);
  if (request.stripe) hello.add_stripe(*request.stripe);
  auto body = hello.Finish();
  wire::MessageBuilder message(builder);
  message.add_id(1);
  message.add_request_type(wire::Request::Hello);
  message.add_request(body.Union());
  builder.Finish(message.Finish());
  FrameHeader header;
  Status s;
  {
    HandshakeDeadline deadline(&connection, HandshakeTimeout());
    s = WriteFrame(connection, std::span(builder.GetBufferPointer(), builder.GetSize()));
    if (s.ok()) s = ReadFrame(connection, &header, &answer->frame);
    if (s.ok() && header.bulk_bytes) s = Status::Corruption("unexpected bulk data in a reply");
    answer->expired = deadline.expired();
  }
  answer->reply = nullptr;
  if (!s.ok()) return s;
  const wire::Reply* reply = VerifiedReply(answer->frame);
  answer->reply = reply ? reply->body_as_HelloReply() : nullptr;  // null when absent
  return Status::Ok();
}

}  // namespace rcuda::client
