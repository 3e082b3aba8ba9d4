#include "tls_test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace rcuda::testing {
namespace {

struct Issued {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Issued() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `common_name` with `extensions` (nid, value), signed by
// `issuer` (itself when null).
bool Issue(const char* common_name, const Issued* issuer, std::initializer_list<std::pair<int, const char*>> extensions,
           Issued* out) {
  out->key = EVP_EC_gen("P-256");
  out->cert = X509_new();
  if (!out->key || !out->cert) return false;
  static long serial = 1;
  X509_set_version(out->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out->cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(out->cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(out->cert), 24 * 3600);
  X509_set_pubkey(out->cert, out->key);
  X509_NAME* name = X509_get_subject_name(out->cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("rcuda tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                             0);
  X509* signer = issuer ? issuer->cert : out->cert;
  X509_set_issuer_name(out->cert, X509_get_subject_name(signer));
  for (const auto& [nid, value] : extensions) {
    if (!AddExtension(out->cert, signer, nid, value)) return false;
  }
  return X509_sign(out->cert, issuer ? issuer->key : out->key, EVP_sha256()) > 0;
}

bool Write(const std::string& path, const Issued& issued, bool with_key, const std::string& key_path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  bool ok = PEM_write_X509(f, issued.cert) == 1;
  std::fclose(f);
  if (!ok || !with_key) return ok;
  f = std::fopen(key_path.c_str(), "w");
  if (!f) return false;
  ok = PEM_write_PrivateKey(f, issued.key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok;
}

}  // namespace

Status MakeTestPki(const std::string& dir) {
  const std::pair<int, const char*> ca_ext[] = {{NID_basic_constraints, "critical,CA:TRUE"},
                                               {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                               {NID_subject_key_identifier, "hash"}};
  Issued ca, other_ca, server, other_name, client, stranger;
  bool ok = Issue("rcuda test CA", nullptr, {ca_ext[0], ca_ext[1], ca_ext[2]}, &ca) &&
            Issue("rcuda other test CA", nullptr, {ca_ext[0], ca_ext[1], ca_ext[2]}, &other_ca) &&
            Issue("rcuda test server", &ca,
                  {{NID_basic_constraints, "CA:FALSE"},
                   {NID_ext_key_usage, "serverAuth"},
                   {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"}},
                  &server) &&
            Issue("other.example", &ca,
                  {{NID_basic_constraints, "CA:FALSE"},
                   {NID_ext_key_usage, "serverAuth"},
                   {NID_subject_alt_name, "DNS:other.example"}},
                  &other_name) &&
            Issue("rcuda test client", &ca, {{NID_basic_constraints, "CA:FALSE"}, {NID_ext_key_usage, "clientAuth"}},
                  &client) &&
            Issue("rcuda stranger", &other_ca,
                  {{NID_basic_constraints, "CA:FALSE"}, {NID_ext_key_usage, "clientAuth"}}, &stranger);
  if (!ok) return Status::Unavailable("cannot make the test certificates");
  ok = Write(dir + "/ca.pem", ca, false, "") && Write(dir + "/other-ca.pem", other_ca, false, "") &&
       Write(dir + "/server.pem", server, true, dir + "/server.key") &&
       Write(dir + "/other-name.pem", other_name, true, dir + "/other-name.key") &&
       Write(dir + "/client.pem", client, true, dir + "/client.key") &&
       Write(dir + "/stranger.pem", stranger, true, dir + "/stranger.key");
  if (!ok) return Status::IoError("cannot write the test certificates into " + dir);
  return Status::Ok();
}

}  // namespace rcuda::testing
