// The UCX transport against a hostile or broken peer: upgrade messages of
// another version or of absurd sizes, garbage instead of an upgrade, a
// client that never answers, bytes on the bootstrap socket after the
// upgrade, and a peer that speaks UCX but breaks the stream's rules
// (messages too large, empty, an end of stream with data). Each must give an
// error, at once or within its timeout, and never a crash or a hang.
#include <sys/socket.h>

#include <atomic>

#include "protocol/ucx/bootstrap.h"
#include "protocol/ucx/ucp_context.h"
#include "protocol/ucx/ucx_connection.h"
#include "tests/transport/ucx_test_util.h"

namespace rcuda {
namespace {

using namespace ucx_test;
using ucx::Deadline;
using ucx::Upgrade;

Deadline In(std::chrono::milliseconds ms) { return Clock::now() + ms; }

// A bare server socket that accepts one client and reads its "hello".
struct FakeServer {
  int listen_fd = -1, fd = -1;
  uint16_t port = 0;
  FakeServer() {
    REQUIRE(ucx::BootstrapListen("127.0.0.1", 0, &listen_fd).ok());
    port = ucx::BoundPort(listen_fd);
  }
  void AcceptHello() {
    fd = accept(listen_fd, nullptr, nullptr);
    REQUIRE(fd >= 0);
    char hello[5];
    REQUIRE(ucx::ReceiveExact(fd, hello, 5, In(std::chrono::seconds(10))).ok());
  }
  ~FakeServer() {
    if (fd >= 0) close(fd);
    close(listen_fd);
  }
};

std::unique_ptr<Connection> ClientAfterHello(uint16_t port) {
  std::unique_ptr<Connection> c;
  REQUIRE(UcxConnect("127.0.0.1", port, UcxOptions{}, &c).ok());
  ConstBuffer b{"hello", 5};
  REQUIRE(c->WriteAll(std::span(&b, 1)).ok());
  return c;
}

void SendRaw(int fd, const std::vector<uint32_t>& words) {
  REQUIRE(ucx::SendAll(fd, words.data(), words.size() * 4).ok());
}

// A client that speaks the upgrade and UCP itself, to send what a correct
// client never sends. TEST EQUIPMENT.
struct HostileClient {
  int fd = -1;
  const ucx::UcpLibrary* ucp = nullptr;
  ucp_worker_h worker = nullptr;
  ucp_ep_h ep = nullptr;
  uint64_t tag = 0;

  // Connects, sends "hello", takes the server's upgrade and answers it with
  // `address` (its own worker's when empty).
  Status Connect(uint16_t port, std::vector<uint8_t> address = {}) {
    std::string peer;
    RCUDA_RETURN_IF_ERROR(ucx::BootstrapConnect("127.0.0.1", port, std::chrono::seconds(5), &fd, &peer));
    RCUDA_RETURN_IF_ERROR(ucx::SendAll(fd, "hello", 5));
    Upgrade theirs;
    RCUDA_RETURN_IF_ERROR(ucx::ReceiveUpgrade(fd, In(std::chrono::seconds(10)), false, &theirs));
    tag = theirs.tag;
    ucp_context_h context;
    RCUDA_RETURN_IF_ERROR(ucx::ProcessContext(&ucp, &context));
    ucp_worker_params_t wp{};
    if (ucp->ucp_worker_create(context, &wp, &worker) != UCS_OK) return Status::IoError("worker");
    if (address.empty()) {
      ucp_address_t* a;
      size_t n;
      if (ucp->ucp_worker_get_address(worker, &a, &n) != UCS_OK) return Status::IoError("address");
      address.assign(reinterpret_cast<uint8_t*>(a), reinterpret_cast<uint8_t*>(a) + n);
      ucp->ucp_worker_release_address(worker, a);
    }
    RCUDA_RETURN_IF_ERROR(ucx::SendUpgrade(fd, Upgrade{1000, address}));
    ucp_ep_params_t ep_params{};
    ep_params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    ep_params.address = reinterpret_cast<const ucp_address_t*>(theirs.address.data());
    if (ucp->ucp_ep_create(worker, &ep_params, &ep) != UCS_OK) return Status::IoError("endpoint");
    return Status::Ok();
  }

  // Sends tagged messages, then progresses the worker (the messages go out,
  // the connection's set-up completes) until `stop` is set or 20 s passed.
  void Send(const std::vector<std::pair<std::vector<char>, uint64_t>>& messages, const std::atomic<bool>& stop) {
    std::vector<void*> requests;
    for (const auto& [data, with_tag] : messages) {
      ucp_request_param_t param{};
      void* r = ucp->ucp_tag_send_nbx(ep, data.data(), data.size(), with_tag, &param);
      if (r && !UCS_PTR_IS_ERR(r)) requests.push_back(r);
    }
    auto deadline = In(std::chrono::seconds(20));
    while (!stop.load() && Clock::now() < deadline) ucp->ucp_worker_progress(worker);
    // A rendezvous message the reader refused never completes: released
    // all the same, before the worker goes.
    for (void* r : requests) ucp->ucp_request_free(r);
  }

  ~HostileClient() {
    if (worker) ucp->ucp_worker_destroy(worker);  // with it, its endpoint
    if (fd >= 0) close(fd);
  }
};

// The worker's side of a hostile client: accept, read the hello, adopt.
struct AdoptingServer {
  std::unique_ptr<Listener> listener;
  std::unique_ptr<Connection> connection;
  Status adopted;
  std::thread thread;
  explicit AdoptingServer(UcxOptions options = {}) {
    REQUIRE(UcxListen("127.0.0.1", 0, &listener).ok());
    thread = std::thread([this, options] {
      std::unique_ptr<Connection> bootstrap;
      adopted = listener->Accept(&bootstrap);
      char hello[5];
      if (adopted.ok()) adopted = bootstrap->ReadExact(hello, 5);
      if (adopted.ok()) adopted = UcxAdopt(dup(bootstrap->HandoffHandles()[0]), &connection, options);
    });
  }
  void Join() {
    if (thread.joinable()) thread.join();
  }
  ~AdoptingServer() {
    listener->Close();
    Join();
  }
};

}  // namespace

TEST_CASE("an upgrade of another version is refused", "[ucx][hostile]") {
  FakeServer server;
  auto client = ClientAfterHello(server.port);
  server.AcceptHello();
  SendRaw(server.fd, {ucx::kUpgradeMagic, 99, 0, 0, 10});
  char byte;
  Status s = client->ReadExact(&byte, 1);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("version 99") != std::string::npos);
  CHECK_FALSE(client->ReadExact(&byte, 1).ok());  // and stays refused
}

TEST_CASE("a worker address of absurd size is refused before anything is allocated", "[ucx][hostile]") {
  for (uint32_t bytes : {0u, ucx::kMaxWorkerAddressBytes + 1, 0xffffffffu}) {
    FakeServer server;
    auto client = ClientAfterHello(server.port);
    server.AcceptHello();
    SendRaw(server.fd, {ucx::kUpgradeMagic, ucx::kUpgradeVersion, 2, 0, bytes});
    char byte;
    Status s = client->ReadExact(&byte, 1);
    INFO("address of " << bytes << " bytes: " << s.message());
    CHECK_FALSE(s.ok());
  }
}

TEST_CASE("a server that never upgrades leaves a plain stream", "[ucx][hostile]") {
  FakeServer server;
  auto client = ClientAfterHello(server.port);
  server.AcceptHello();
  const std::string reply = "RCUF and the rest of a frame";
  REQUIRE(ucx::SendAll(server.fd, reply.data(), reply.size()).ok());
  std::string got(reply.size(), '\0');
  REQUIRE(client->ReadExact(got.data(), 1).ok());
  REQUIRE(client->ReadExact(got.data() + 1, got.size() - 1).ok());
  CHECK(got == reply);
  CHECK(UcxTransportsInUse(*client).empty());
}

TEST_CASE("a client that answers the upgrade with garbage or not at all is dropped", "[ucx][hostile]") {
  SECTION("garbage") {
    AdoptingServer server;
    int fd = -1;
    std::string peer;
    REQUIRE(ucx::BootstrapConnect("127.0.0.1", server.listener->Port(), std::chrono::seconds(5), &fd, &peer).ok());
    REQUIRE(ucx::SendAll(fd, "hello", 5).ok());
    Upgrade theirs;
    REQUIRE(ucx::ReceiveUpgrade(fd, In(std::chrono::seconds(10)), false, &theirs).ok());
    SendRaw(fd, {0xdeadbeef, 1, 2, 3, 4, 5});
    server.Join();
    CHECK_FALSE(server.adopted.ok());
    close(fd);
  }
  SECTION("silence") {
    UcxOptions options;
    options.upgrade_timeout = std::chrono::milliseconds(300);
    AdoptingServer server(options);
    int fd = -1;
    std::string peer;
    REQUIRE(ucx::BootstrapConnect("127.0.0.1", server.listener->Port(), std::chrono::seconds(5), &fd, &peer).ok());
    REQUIRE(ucx::SendAll(fd, "hello", 5).ok());
    auto start = Clock::now();
    server.Join();
    CHECK_FALSE(server.adopted.ok());
    CHECK(Clock::now() - start < std::chrono::seconds(5));
    close(fd);
  }
}

TEST_CASE("bytes on the bootstrap socket after the upgrade break the connection", "[ucx][hostile]") {
  Pair p;
  Connect(&p, /*keep_socket_copy=*/true);
  REQUIRE(ucx::SendAll(p.server_socket_copy, "junk", 4).ok());
  char byte;
  auto start = Clock::now();
  Status s = p.client->ReadExact(&byte, 1);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("unexpected bytes") != std::string::npos);
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("messages that break the stream's rules end the connection", "[ucx][hostile]") {
  struct Case {
    const char* what;
    size_t bytes;
    uint64_t tag_bit;
  };
  for (Case c : {Case{"larger than a fragment", ucx::kFragmentBytes + 1, 0}, Case{"empty", 0, 0},
                 Case{"an end of stream with data", 10, 1}}) {
    INFO(c.what);
    AdoptingServer server;
    HostileClient client;
    REQUIRE(client.Connect(server.listener->Port()).ok());
    server.Join();
    REQUIRE(server.adopted.ok());
    std::atomic<bool> stop{false};
    std::thread send([&] { client.Send({{std::vector<char>(c.bytes, 'h'), client.tag | c.tag_bit}}, stop); });
    char small[16];
    Status s = server.connection->ReadExact(small, sizeof small);
    stop = true;
    send.join();
    INFO(s.message());
    CHECK_FALSE(s.ok());
    CHECK_FALSE(server.connection->ReadExact(small, 1).ok());
  }
}

TEST_CASE("a message with another tag is not part of the stream", "[ucx][hostile]") {
  AdoptingServer server;
  HostileClient client;
  REQUIRE(client.Connect(server.listener->Port()).ok());
  server.Join();
  REQUIRE(server.adopted.ok());
  std::atomic<bool> stop{false};
  // A stranger's guess of the tag, then the stream's own.
  std::thread send([&] {
    client.Send({{std::vector<char>(8, 's'), client.tag ^ 0x100}, {std::vector<char>(8, 'o'), client.tag}}, stop);
  });
  char got[8] = {};
  Status s = server.connection->ReadExact(got, 8);
  stop = true;
  send.join();
  REQUIRE(s.ok());
  CHECK(std::string(got, 8) == "oooooooo");
}

}  // namespace rcuda
