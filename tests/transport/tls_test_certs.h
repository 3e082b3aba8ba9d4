// TEST EQUIPMENT: a throwaway PKI for the TLS tests, made with OpenSSL's API
// at test time (EC P-256 keys, valid for a day): a CA, a server certificate
// for 127.0.0.1, ::1 and localhost, one for another name, a client
// certificate, and a second CA with a client certificate of its own (one the
// server must not accept).
#pragma once

#include <string>

#include "common/status.h"

namespace rcuda::testing {

// Writes into `dir` (which must exist), as PEM:
//   ca.pem                          the CA
//   server.pem, server.key          SAN DNS:localhost, IP:127.0.0.1, IP:::1
//   other-name.pem, other-name.key  SAN DNS:other.example only
//   client.pem, client.key          a client certificate from ca.pem
//   other-ca.pem                    another CA
//   stranger.pem, stranger.key      a client certificate from other-ca.pem
Status MakeTestPki(const std::string& dir);

}  // namespace rcuda::testing
