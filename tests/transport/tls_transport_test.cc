// The TLS transport on its own (protocol/tls), over loopback TCP: the
// client's connect (preamble, handshake, checks of the server's name and
// CA), the server's side as the daemon and a worker run it (the preamble
// read exactly, the ClientHello awaited without consuming it, the
// handshake), bytes in order in both directions at once, concurrent
// writers, deadlines, client certificates, and hostile peers.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <future>
#include <numeric>
#include <random>
#include <thread>

#include "protocol/frame.h"
#include "protocol/tcp_transport.h"
#include "protocol/tls/tls_client.h"
#include "protocol/tls/tls_preamble.h"
#include "protocol/tls/tls_server.h"
#include "tls_test_certs.h"

namespace rcuda {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string& PkiDir() {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/rcuda-tls-test-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    REQUIRE(testing::MakeTestPki(d).ok());
    return d;
  }();
  return dir;
}

struct PkiCleanup {
  ~PkiCleanup() {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::temp_directory_path().string() + "/rcuda-tls-test-" +
                                    std::to_string(getpid()),
                                ec);
  }
} pki_cleanup;

std::shared_ptr<const TlsContext> ServerContext(const std::string& cert = "server", const std::string& client_ca = "") {
  TlsServerOptions o;
  o.certificate_file = PkiDir() + "/" + cert + ".pem";
  o.key_file = PkiDir() + "/" + cert + ".key";
  if (!client_ca.empty()) o.client_ca_file = PkiDir() + "/" + client_ca;
  std::shared_ptr<const TlsContext> ctx;
  Status s = TlsContext::ForServer(o, &ctx);
  INFO(s.message());
  REQUIRE(s.ok());
  return ctx;
}

std::shared_ptr<const TlsContext> ClientContext(const std::string& ca = "ca.pem", const std::string& cert = "") {
  TlsClientOptions o;
  o.ca_file = PkiDir() + "/" + ca;
  if (!cert.empty()) {
    o.certificate_file = PkiDir() + "/" + cert + ".pem";
    o.key_file = PkiDir() + "/" + cert + ".key";
  }
  std::shared_ptr<const TlsContext> ctx;
  Status s = TlsContext::ForClient(o, &ctx);
  INFO(s.message());
  REQUIRE(s.ok());
  return ctx;
}

// The server's side as rcuda-server runs it: the daemon reads the preamble
// exactly and awaits the ClientHello; the "worker" does the handshake on a
// copy of the socket.
struct ServerSide {
  std::unique_ptr<Listener> listener;
  std::shared_ptr<const TlsContext> context;
  Status status;
  std::string preamble_transport;
  std::unique_ptr<TlsConnection> connection;
  std::thread thread;

  explicit ServerSide(std::shared_ptr<const TlsContext> ctx, milliseconds deadline = milliseconds(10000))
      : context(std::move(ctx)) {
    REQUIRE(TcpListen("127.0.0.1", 0, &listener, /*read_ahead=*/false).ok());
    thread = std::thread([this, deadline] {
      std::unique_ptr<Connection> accepted;
      status = listener->Accept(&accepted);
      if (!status.ok()) return;
      auto until = Clock::now() + deadline;
      FrameHeader header;
      std::vector<uint8_t> message;
      status = ReadFrame(*accepted, &header, &message, nullptr, 16 << 10);
      const wire::Message* m = status.ok() ? VerifiedMessage(message) : nullptr;
      if (m && m->request_as_Hello() && m->request_as_Hello()->transport()) {
        preamble_transport = m->request_as_Hello()->transport()->str();
      }
      if (status.ok()) status = AwaitClientHello(accepted->NativeHandle(), until);
      if (!status.ok()) return;
      int fd = fcntl(accepted->NativeHandle(), F_DUPFD_CLOEXEC, 0);
      accepted.reset();
      status = TlsAccept(fd, context, until, &connection);
    });
  }
  uint16_t port() const { return listener->Port(); }
  void Join() {
    if (thread.joinable()) thread.join();
  }
  ~ServerSide() {
    listener->Close();
    Join();
  }
};

Status Connect(uint16_t port, std::shared_ptr<const TlsContext> ctx, std::unique_ptr<Connection>* out,
               const std::string& host = "127.0.0.1", const std::string& verify_name = "",
               milliseconds timeout = milliseconds(10000)) {
  TlsConnectOptions options;
  options.handshake_timeout = timeout;
  options.verify_name = verify_name;
  return TlsConnect(host, port, std::move(ctx), TlsPreamble(0, ""), options, out);
}

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

Status Write(Connection& c, const std::vector<uint8_t>& v) {
  ConstBuffer b{v.data(), v.size()};
  return c.WriteAll(std::span(&b, 1));
}

TEST_CASE("a client and a server agree on TLS 1.3 and carry bytes both ways", "[tls]") {
  ServerSide server(ServerContext());
  std::unique_ptr<Connection> client;
  Status s = Connect(server.port(), ClientContext(), &client);
  INFO(s.message());
  REQUIRE(s.ok());
  server.Join();
  INFO(server.status.message());
  REQUIRE(server.status.ok());
  CHECK(server.preamble_transport == "tls");
  CHECK(server.connection->Negotiated().rfind("TLSv1.3 ", 0) == 0);
  CHECK(client->Kind() == "tls");
  CHECK(client->PeerName().rfind("tls 127.0.0.1:", 0) == 0);
  // Pieces of every size, in order.
  auto data = Pattern(3 << 20, 1);
  std::thread writer([&] {
    size_t at = 0;
    for (size_t piece = 1; at < data.size(); piece = piece * 3 + 1) {
      size_t n = std::min(piece % (1 << 20) + 1, data.size() - at);
      ConstBuffer b{data.data() + at, n};
      REQUIRE(client->WriteAll(std::span(&b, 1)).ok());
      at += n;
    }
  });
  std::vector<uint8_t> got(data.size());
  size_t at = 0;
  for (size_t piece = 7; at < got.size(); piece = piece * 5 + 3) {
    size_t n = std::min(piece % (700 << 10) + 1, got.size() - at);
    REQUIRE(server.connection->ReadExact(got.data() + at, n).ok());
    at += n;
  }
  writer.join();
  CHECK(got == data);
  auto back = Pattern(100000, 2);
  REQUIRE(Write(*server.connection, back).ok());
  std::vector<uint8_t> received(back.size());
  REQUIRE(client->ReadExact(received.data(), received.size()).ok());
  CHECK(received == back);
}

TEST_CASE("TLS is full duplex: large transfers both ways at once, and concurrent writers keep frames whole",
          "[tls]") {
  ServerSide server(ServerContext());
  std::unique_ptr<Connection> client;
  REQUIRE(Connect(server.port(), ClientContext(), &client).ok());
  server.Join();
  REQUIRE(server.status.ok());
  TlsConnection& peer = *server.connection;
  // 32 MiB each way, at the same time: neither side may wait for the other
  // to stop writing before it reads (a TLS object used one call at a time
  // would deadlock once both socket buffers fill).
  auto up = Pattern(32 << 20, 3), down = Pattern(32 << 20, 4);
  std::vector<uint8_t> up_got(up.size()), down_got(down.size());
  auto a = std::async(std::launch::async, [&] { return Write(*client, up); });
  auto b = std::async(std::launch::async, [&] { return Write(peer, down); });
  auto c = std::async(std::launch::async, [&] { return peer.ReadExact(up_got.data(), up_got.size()); });
  auto d = std::async(std::launch::async, [&] { return client->ReadExact(down_got.data(), down_got.size()); });
  for (auto* f : {&a, &b, &c, &d}) {
    REQUIRE(f->wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    Status s = f->get();
    INFO(s.message());
    REQUIRE(s.ok());
  }
  CHECK(up_got == up);
  CHECK(down_got == down);

  // Four writers, each a stream of self-describing messages; one reader.
  constexpr int kWriters = 4, kMessages = 300;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kMessages; ++i) {
        uint32_t head[2] = {static_cast<uint32_t>(w), static_cast<uint32_t>((i * 97) % 40000 + 1)};
        std::vector<uint8_t> body(head[1], static_cast<uint8_t>(w * 31 + i));
        ConstBuffer parts[2] = {{head, sizeof head}, {body.data(), body.size()}};
        REQUIRE(client->WriteAll(parts).ok());
      }
    });
  }
  int next[kWriters] = {};
  for (int n = 0; n < kWriters * kMessages; ++n) {
    uint32_t head[2];
    REQUIRE(peer.ReadExact(head, sizeof head).ok());
    REQUIRE(head[0] < kWriters);
    int i = next[head[0]]++;
    REQUIRE(head[1] == static_cast<uint32_t>((i * 97) % 40000 + 1));
    std::vector<uint8_t> body(head[1]);
    REQUIRE(peer.ReadExact(body.data(), body.size()).ok());
    CHECK(std::all_of(body.begin(), body.end(), [&](uint8_t x) { return x == static_cast<uint8_t>(head[0] * 31 + i); }));
  }
  for (auto& t : writers) t.join();
}

TEST_CASE("a TLS connection ends as TCP does: close, a vanished peer, Shutdown", "[tls]") {
  SECTION("clean close (close_notify) reads as the peer leaving") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> client;
    REQUIRE(Connect(server.port(), ClientContext(), &client).ok());
    server.Join();
    REQUIRE(server.status.ok());
    client.reset();
    char byte;
    Status s = server.connection->ReadExact(&byte, 1);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("closed"));
  }
  SECTION("a peer whose socket just closes (killed) ends the stream too") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> client;
    REQUIRE(Connect(server.port(), ClientContext(), &client).ok());
    server.Join();
    REQUIRE(server.status.ok());
    // The socket ends with no close_notify, as a killed process's does. (A
    // shutdown rather than a close, so that the connection object is still
    // destroyed normally, as LeakSanitizer wants, without closing a
    // descriptor number that may have been reused.)
    for (int fd : client->HandoffHandles()) shutdown(fd, SHUT_RDWR);
    char byte;
    CHECK_FALSE(server.connection->ReadExact(&byte, 1).ok());
  }
  SECTION("Shutdown wakes a reader blocked on a silent peer") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> client;
    REQUIRE(Connect(server.port(), ClientContext(), &client).ok());
    server.Join();
    REQUIRE(server.status.ok());
    auto reader = std::async(std::launch::async, [&] {
      char byte;
      return client->ReadExact(&byte, 1);
    });
    CHECK(reader.wait_for(milliseconds(200)) == std::future_status::timeout);
    client->Shutdown();
    REQUIRE(reader.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    CHECK_FALSE(reader.get().ok());
    CHECK_FALSE(Write(*client, {1, 2, 3}).ok());
  }
}

TEST_CASE("the client checks the server's certificate: its CA and the name dialled", "[tls]") {
  SECTION("host name and IP SANs") {
    for (const char* host : {"127.0.0.1", "localhost"}) {
      ServerSide server(ServerContext());
      std::unique_ptr<Connection> client;
      Status s = Connect(server.port(), ClientContext(), &client, host);
      INFO(host << ": " << s.message());
      CHECK(s.ok());
    }
  }
  SECTION("a certificate from another CA is refused") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> client;
    Status s = Connect(server.port(), ClientContext("other-ca.pem"), &client);
    INFO(s.message());
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("server's certificate was refused"));
    server.Join();
    CHECK_FALSE(server.status.ok());  // the server saw the alert
  }
  SECTION("a certificate for another name is refused, and accepted when that name is asked for") {
    {
      ServerSide server(ServerContext("other-name"));
      std::unique_ptr<Connection> client;
      Status s = Connect(server.port(), ClientContext(), &client);
      INFO(s.message());
      CHECK_FALSE(s.ok());
      CHECK_THAT(s.message(), Catch::Contains("mismatch"));
    }
    ServerSide server(ServerContext("other-name"));
    std::unique_ptr<Connection> client;
    Status s = Connect(server.port(), ClientContext(), &client, "127.0.0.1", "other.example");
    INFO(s.message());
    CHECK(s.ok());
  }
}

TEST_CASE("a server that requires client certificates: none or a stranger's is refused, ours accepted", "[tls]") {
  struct Case {
    const char* cert;
    bool accepted;
  };
  for (Case c : {Case{"", false}, Case{"stranger", false}, Case{"client", true}}) {
    INFO("client certificate: " << (c.cert[0] ? c.cert : "none"));
    ServerSide server(ServerContext("server", "ca.pem"));
    std::unique_ptr<Connection> client;
    Status s = Connect(server.port(), ClientContext("ca.pem", c.cert), &client);
    server.Join();
    INFO("client: " << s.message() << "; server: " << server.status.message());
    CHECK(server.status.ok() == c.accepted);
    if (c.accepted) {
      REQUIRE(s.ok());
      CHECK_THAT(server.connection->PeerCertificateSubject(), Catch::Contains("rcuda test client"));
      continue;
    }
    // TLS 1.3: the client's handshake may end before the server judges
    // its certificate; its first read then carries the server's alert.
    if (s.ok()) {
      char byte;
      s = client->ReadExact(&byte, 1);
    }
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("alert"));
  }
}

TEST_CASE("TLS below 1.2 is refused", "[tls]") {
  ServerSide server(ServerContext());
  std::unique_ptr<Connection> tcp;
  REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &tcp).ok());
  REQUIRE(WriteFrame(*tcp, TlsPreamble(0, "")).ok());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, tcp->NativeHandle());
  CHECK(SSL_connect(ssl) != 1);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  server.Join();
  CHECK_FALSE(server.status.ok());
  CHECK_THAT(server.status.message(), Catch::Contains("protocol"));
}

TEST_CASE("a plaintext answer to the preamble fails the connect with the server's words", "[tls]") {
  std::unique_ptr<Listener> listener;
  REQUIRE(TcpListen("127.0.0.1", 0, &listener, false).ok());
  std::thread refuser([&] {
    std::unique_ptr<Connection> c;
    REQUIRE(listener->Accept(&c).ok());
    FrameHeader header;
    std::vector<uint8_t> message;
    REQUIRE(ReadFrame(*c, &header, &message).ok());
    flatbuffers::FlatBufferBuilder b;
    auto text = b.CreateString("this server does not offer TLS");
    wire::HelloReplyBuilder reply(b);
    reply.add_accepted(false);
    reply.add_message(text);
    auto body = reply.Finish();
    wire::ReplyBuilder envelope(b);
    envelope.add_body_type(wire::ReplyBody::HelloReply);
    envelope.add_body(body.Union());
    b.Finish(envelope.Finish());
    REQUIRE(WriteFrame(*c, std::span(b.GetBufferPointer(), b.GetSize())).ok());
    ::shutdown(c->NativeHandle(), SHUT_WR);
    char sink[4096];
    while (recv(c->NativeHandle(), sink, sizeof sink, 0) > 0) {
    }
  });
  std::unique_ptr<Connection> client;
  Status s = Connect(listener->Port(), ClientContext(), &client);
  refuser.join();
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("refused the TLS connection, in plaintext: this server does not offer TLS"));
}

TEST_CASE("deadlines: a silent server, a client that stops after its preamble or in its handshake", "[tls]") {
  SECTION("a server that accepts and says nothing fails the client's connect at its deadline") {
    std::unique_ptr<Listener> listener;
    REQUIRE(TcpListen("127.0.0.1", 0, &listener, false).ok());
    std::unique_ptr<Connection> held;
    std::thread acceptor([&] { (void)listener->Accept(&held); });
    std::unique_ptr<Connection> client;
    auto start = Clock::now();
    Status s = Connect(listener->Port(), ClientContext(), &client, "127.0.0.1", "", milliseconds(500));
    auto took = Clock::now() - start;
    acceptor.join();
    CHECK_FALSE(s.ok());
    CHECK(took >= milliseconds(450));
    CHECK(took < milliseconds(5000));
  }
  SECTION("a client that sends its preamble and nothing else") {
    ServerSide server(ServerContext(), milliseconds(500));
    std::unique_ptr<Connection> tcp;
    REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &tcp).ok());
    REQUIRE(WriteFrame(*tcp, TlsPreamble(0, "")).ok());
    REQUIRE(tcp->WriteAll(std::vector<ConstBuffer>{{"\x16\x03", 2}}).ok());  // a trickle, never finished
    auto start = Clock::now();
    server.Join();
    CHECK_THAT(server.status.message(), Catch::Contains("ClientHello"));
    CHECK(Clock::now() - start < milliseconds(5000));
  }
  SECTION("a client that stops in the middle of the handshake") {
    ServerSide server(ServerContext(), milliseconds(500));
    std::unique_ptr<Connection> tcp;
    REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &tcp).ok());
    REQUIRE(WriteFrame(*tcp, TlsPreamble(0, "")).ok());
    // A real ClientHello, made with memory BIOs, then silence.
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    CHECK(SSL_do_handshake(ssl) != 1);
    char* hello = nullptr;
    long n = BIO_get_mem_data(out, &hello);
    REQUIRE(n > 0);
    REQUIRE(tcp->WriteAll(std::vector<ConstBuffer>{{hello, static_cast<size_t>(n)}}).ok());
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    auto start = Clock::now();
    server.Join();
    CHECK_FALSE(server.status.ok());
    CHECK_THAT(server.status.message(), Catch::Contains("timed out"));
    CHECK(Clock::now() - start < milliseconds(5000));
  }
}

TEST_CASE("garbage instead of a ClientHello, or inside one, is refused without harm", "[tls]") {
  SECTION("not a TLS record: the daemon's check refuses it") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> tcp;
    REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &tcp).ok());
    REQUIRE(WriteFrame(*tcp, TlsPreamble(0, "")).ok());
    REQUIRE(tcp->WriteAll(std::vector<ConstBuffer>{{"GET / HTTP/1.1\r\n\r\n", 18}}).ok());
    server.Join();
    CHECK_THAT(server.status.message(), Catch::Contains("not a TLS ClientHello"));
  }
  SECTION("a ClientHello record of noise: the handshake fails cleanly") {
    ServerSide server(ServerContext());
    std::unique_ptr<Connection> tcp;
    REQUIRE(TcpConnect("127.0.0.1", server.port(), TcpOptions{}, &tcp).ok());
    REQUIRE(WriteFrame(*tcp, TlsPreamble(0, "")).ok());
    std::vector<uint8_t> record = {22, 3, 1, 0, 200, 1};
    auto noise = Pattern(199, 9);
    record.insert(record.end(), noise.begin(), noise.end());
    REQUIRE(Write(*tcp, record).ok());
    server.Join();
    CHECK_FALSE(server.status.ok());
    CHECK_THAT(server.status.message(), Catch::Contains("TLS handshake"));
  }
}

TEST_CASE("the attach route is a digest of the key: stable, and not the key", "[tls]") {
  CHECK(AttachRoute("0123456789abcdef0123456789abcdef") == AttachRoute("0123456789abcdef0123456789abcdef"));
  CHECK(AttachRoute("0123456789abcdef0123456789abcdef") != AttachRoute("0123456789abcdef0123456789abcdee"));
  CHECK(AttachRoute("k").size() == 32);
  CHECK(AttachRoute("0123456789abcdef0123456789abcdef").find("0123456789abcdef") == std::string::npos);
}

TEST_CASE("bad certificate files are reported by name", "[tls]") {
  TlsServerOptions o;
  o.certificate_file = PkiDir() + "/server.pem";
  o.key_file = PkiDir() + "/client.key";
  std::shared_ptr<const TlsContext> ctx;
  Status s = TlsContext::ForServer(o, &ctx);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("mismatch"));
  o.key_file = PkiDir() + "/missing.key";
  s = TlsContext::ForServer(o, &ctx);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("missing.key"));
  TlsClientOptions c;
  c.certificate_file = PkiDir() + "/client.pem";
  CHECK_FALSE(TlsContext::ForClient(c, &ctx).ok());
}

}  // namespace
}  // namespace rcuda
