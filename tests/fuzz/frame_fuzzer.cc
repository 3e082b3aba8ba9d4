// Fuzz target: what a peer sends on an rcuda connection. The input is the
// byte stream as it arrives: frames (protocol/frame.h) one after the other.
// Each frame's header is checked by ReadFrame, its message verified as every
// root a receiver verifies (wire::Message on the server, wire::Reply on the
// client, ChannelMessage and HostAck on the host channel), and what verifies
// is walked the way a handler reads it: every union member, every field,
// every vector element. The bulk is discarded as a receiver that refuses the
// request would. AddressSanitizer checks that the verifier covers every read.
#include <cstring>

#include "fuzz_check.h"
#include "protocol/frame.h"

namespace rcuda::fuzz {
namespace {

// TEST EQUIPMENT: a Connection whose peer's bytes are the fuzz input.
class InputConnection : public Connection {
 public:
  InputConnection(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  Status WriteAll(std::span<const ConstBuffer>) override { return Status::Ok(); }
  Status ReadExact(void* out, size_t size) override {
    if (size > size_ - pos_) {
      pos_ = size_;
      return Status::IoError("the input ended");
    }
    std::memcpy(out, data_ + pos_, size);
    pos_ += size;
    return Status::Ok();
  }
  void Shutdown() override {}
  std::string PeerName() const override { return "fuzz input"; }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Walk(const flatbuffers::String* s) {
  if (s) Use(s->str());
}

template <class T>
void Walk(const flatbuffers::Vector<T>* v) {
  if (!v) return;
  for (auto x : *v) Use(x);
}

void Walk(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  if (!v) return;
  for (const flatbuffers::String* s : *v) Walk(s);
}

void Walk(const wire::Dim3* d) {
  if (!d) return;
  Use(d->x());
  Use(d->y());
  Use(d->z());
}

void Walk(const wire::Memcpy3D* m) {
  if (!m) return;
  Use(m->direction());
  Use(m->dst());
  Use(m->dst_pitch());
  Use(m->dst_height());
  Use(m->src());
  Use(m->src_pitch());
  Use(m->src_height());
  Use(m->width());
  Use(m->height());
  Use(m->depth());
  Use(m->stream());
  Use(m->pending());
}

void Walk(const wire::Memset3D* m) {
  if (!m) return;
  Use(m->dst());
  Use(m->pitch());
  Use(m->slice_height());
  Use(m->value());
  Use(m->width());
  Use(m->height());
  Use(m->depth());
  Use(m->stream());
  Use(m->element_size());
}

void Walk(const wire::GraphNode* n) {
  if (!n) return;
  Use(n->type());
  Walk(n->dependencies());
  Use(n->function());
  Walk(n->grid());
  Walk(n->block());
  Use(n->shared_bytes());
  Walk(n->params());
  Walk(n->copy());
  Walk(n->set());
  Use(n->host_id());
  Use(n->event());
}

void Walk(const flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>* nodes) {
  if (!nodes) return;
  for (const wire::GraphNode* n : *nodes) Walk(n);
}

// The generated request tables are walked by the cases gen_rpc.py writes
// (protocol/request_walk.inc); the hand-shaped ones (shape=hand in
// protocol/rpc/operations.def) here: a new one must be added below.

void WalkRequest(const wire::Message& m) {
  Use(m.id());
  using R = wire::Request;
  switch (m.request_type()) {
    case R::NONE:
      Use(m.request());
      break;
    case R::Hello: {
      const wire::Hello* h = m.request_as_Hello();
      if (!h) break;
      Use(h->protocol_version());
      Walk(h->client_host());
      Use(h->client_pid());
      Walk(h->program());
      Use(h->gpu());
      Walk(h->token());
      Walk(h->attach_key());
      break;
    }
    case R::ModuleLoad:
      if (auto* r = m.request_as_ModuleLoad()) {
        Use(r->module_id());
        Walk(r->functions());
        Walk(r->variables());
      }
      break;
    case R::ModuleUnload:
      if (auto* r = m.request_as_ModuleUnload()) Use(r->module_id());
      break;
    case R::Launch:
      if (auto* r = m.request_as_Launch()) {
        Use(r->function());
        Walk(r->grid());
        Walk(r->block());
        Use(r->shared_bytes());
        Use(r->stream());
        Walk(r->params());
        Use(r->cooperative());
        Walk(r->cluster());
        Use(r->priority());
        Use(r->has_priority());
      }
      break;
    case R::Memcpy3D:
      Walk(m.request_as_Memcpy3D());
      break;
    case R::Memset3D:
      Walk(m.request_as_Memset3D());
      break;
    case R::GraphInstantiate:
      if (auto* r = m.request_as_GraphInstantiate()) Walk(r->nodes());
      break;
    case R::GraphExecKernelNodeSetParams:
      if (auto* r = m.request_as_GraphExecKernelNodeSetParams()) {
        Use(r->exec());
        Use(r->node());
        Walk(r->kernel());
      }
      break;
    case R::GraphExecUpdate:
      if (auto* r = m.request_as_GraphExecUpdate()) {
        Use(r->exec());
        Walk(r->nodes());
      }
      break;
    case R::Call:
      if (auto* r = m.request_as_Call()) {
        Use(r->op());
        Walk(r->args());
        Walk(r->data());
      }
      break;
    case R::LibraryCall:
      if (auto* r = m.request_as_LibraryCall()) {
        Use(r->library());
        Use(r->function());
        Walk(r->values());
        Walk(r->bytes());
      }
      break;
#include "protocol/request_walk.inc"
    default:
      // An unknown type verifies (the verifier lets newer union members
      // pass) and a handler must refuse it without touching it.
      break;
  }
}

void Walk(const wire::DeviceInfo* d) {
  if (!d) return;
  Walk(d->name());
  Walk(d->props());
  Walk(d->attributes());
  Use(d->driver_version());
  Walk(d->backend());
  Use(d->test_device());
  Use(d->arch());
}

// Generated reply tables: protocol/reply_walk.inc; hand-shaped ones here.

void WalkReply(const wire::Reply& r) {
  Use(r.id());
  Use(r.error());
  Walk(r.message());
  Use(r.async_error());
  Walk(r.async_message());
  using B = wire::ReplyBody;
  switch (r.body_type()) {
    case B::HelloReply:
      if (auto* b = r.body_as_HelloReply()) {
        Use(b->protocol_version());
        Use(b->accepted());
        Walk(b->message());
        Walk(b->device());
        Walk(b->server_version());
        Use(b->memory_limit());
        Walk(b->session_key());
        Use(b->stream_priority_least());
        Use(b->stream_priority_greatest());
      }
      break;
    case B::ModuleLoadReply:
      if (auto* b = r.body_as_ModuleLoadReply()) {
        if (auto* functions = b->functions()) {
          for (const wire::FunctionInfo* f : *functions) {
            Use(f->found());
            Use(f->handle());
            Walk(f->param_offsets());
            Walk(f->param_sizes());
            Use(f->max_threads_per_block());
            Use(f->shared_size_bytes());
            Use(f->const_size_bytes());
            Use(f->local_size_bytes());
            Use(f->num_regs());
            Use(f->ptx_version());
            Use(f->binary_version());
            Use(f->max_dynamic_shared_size_bytes());
          }
        }
        if (auto* variables = b->variables()) {
          for (const wire::VariableInfo* v : *variables) {
            Use(v->found());
            Use(v->address());
            Use(v->size());
          }
        }
      }
      break;
    case B::CallReply:
      if (auto* b = r.body_as_CallReply()) {
        Walk(b->values());
        Walk(b->data());
      }
      break;
    case B::LibraryCallReply:
      if (auto* b = r.body_as_LibraryCallReply()) {
        Use(b->status());
        Walk(b->values());
        Walk(b->bytes());
      }
      break;
#include "protocol/reply_walk.inc"
    default:
      break;
  }
}

void WalkFrame(std::span<const uint8_t> message) {
  if (const wire::Message* m = VerifiedMessage(message)) WalkRequest(*m);
  if (const wire::Reply* r = VerifiedReply(message)) WalkReply(*r);
  // The host channel verifies its two roots itself (server/host_channel.cc,
  // client/host_channel.cc), with the same flatbuffers verifier.
  flatbuffers::Verifier channel(message.data(), message.size());
  if (channel.VerifyBuffer<wire::ChannelMessage>(nullptr)) {
    auto* c = flatbuffers::GetRoot<wire::ChannelMessage>(message.data());
    Use(c->kind());
    Use(c->id());
  }
  flatbuffers::Verifier ack(message.data(), message.size());
  if (ack.VerifyBuffer<wire::HostAck>(nullptr)) {
    auto* a = flatbuffers::GetRoot<wire::HostAck>(message.data());
    Use(a->id());
    Use(a->error());
  }
}

}  // namespace
}  // namespace rcuda::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  fuzz::InputConnection connection(data, size);
  FrameHeader header;
  std::vector<uint8_t> message;
  while (true) {
    bool peer_left = false;
    Status s = ReadFrame(connection, &header, &message, &peer_left);
    if (!s.ok()) break;
    FUZZ_CHECK(header.magic == kFrameMagic, "ReadFrame passed a bad magic");
    FUZZ_CHECK(header.message_bytes > 0 && header.message_bytes <= kMaxMessageBytes,
               "ReadFrame passed a message size out of range");
    FUZZ_CHECK(message.size() == header.message_bytes, "the message is not the size the header says");
    fuzz::WalkFrame(message);
    // A receiver reads the bulk into its destination or discards it; more
    // bulk than the input holds ends the stream, as a peer that stops would.
    if (header.bulk_bytes > connection.remaining()) break;
    if (!DiscardBulk(connection, header.bulk_bytes).ok()) break;
  }
  return 0;
}
