// Fuzzes the transit service's request handling (transit/include/nodus/transit/api.hpp): the
// paths and JSON bodies that clients on the network send, past Beast's HTTP parsing.
//
// Input: [method] [token] [target: bytes up to the first '\n'] [body: the rest]. The method byte
// picks GET, POST, PUT, DELETE or LIST; the token byte picks the root token, none, a forged one,
// or a token whose policy allows only encrypt and encode. Each input gets a fresh service with
// one key (`k`, version 2 after a rotation), a card transformation (`card`) in role `payments`,
// and a valid ciphertext of `k` reachable as `vault:v1:...` in the body's text when the input
// says `@C` (so that decrypt and rewrap reach the cipher, not only the parser).
//
// Properties besides no crash / no UB:
// - handle is total: never throws, a status among 200, 204, 207..599 that Vault uses;
// - a body is empty exactly for 204, and is otherwise JSON; an error has a non-empty `errors`
//   list, or an empty one only for 404;
// - the limited token is never allowed to read, decrypt, decode, rotate, delete or configure;
// - the largest allocation is at most 64 bytes per input byte + 1 MiB.

#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "nodus/core/json.hpp"
#include "nodus/transit/api.hpp"
#include "nodus/transit/transform.hpp"

namespace tr = nodus::transit;
namespace json = nodus::json;
using nodus::fuzz::allocation_watch;

namespace {

struct fixture {
  std::shared_ptr<tr::token_store> tokens = tr::token_store::open("").value();
  std::shared_ptr<nodus::vault::vault> keys = nodus::vault::vault::create_in_memory();
  tr::service api{{tr::keyring::open(keys, "").value(), tokens, tr::transformations::open(keys, "").value(), nullptr}};
  std::string root, limited, ciphertext;

  fixture() {
    root = tokens->create_token({"root"}, "", std::nullopt).value().token;
    tr::policy p{"limited", {tr::parse_rule("*:encrypt,encode").value()}};
    (void)tokens->write_policy(p);
    limited = tokens->create_token({"limited"}, "", std::nullopt).value().token;
    auto& ring = *api.options().keys;
    (void)ring.create("k", tr::key_type::aes256_gcm96, false);
    const std::string plain = "card 4111";
    ciphertext =
        ring.encrypt("k", {reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()}, {}).value().ciphertext;
    (void)ring.rotate("k");
    auto& t = *api.options().transforms;
    (void)t.write_transformation({"card", "builtin/creditcardnumber", tr::tweak_source::internal, {}, {"payments"}});
    (void)t.write_role({"payments", {"card"}});
  }
};

bool changes_or_reveals(std::string_view method, std::string_view target) {
  for (const char* path : {"/decrypt/", "/decode/", "/rotate", "/config", "/trim", "/rewrap/", "/datakey/"})
    if (target.find(path) != std::string_view::npos) return true;
  return method == "DELETE" || method == "GET" || method == "LIST";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nodus::fuzz::input in(data, size);
  static constexpr const char* methods[] = {"GET", "POST", "PUT", "DELETE", "LIST"};
  const std::string method = methods[in.u8() % 5];
  const auto token_choice = in.u8() % 4;
  const auto rest = in.rest();
  std::string text(reinterpret_cast<const char*>(rest.data()), rest.size());
  const auto newline = text.find('\n');
  const std::string target = text.substr(0, newline);
  std::string body = newline == std::string::npos ? std::string() : text.substr(newline + 1);

  fixture f;
  for (auto at = body.find("@C"); at != std::string::npos; at = body.find("@C", at + f.ciphertext.size()))
    body.replace(at, 2, f.ciphertext);
  const std::string token = token_choice == 0   ? f.root
                            : token_choice == 1 ? ""
                            : token_choice == 2 ? "hvs.forged"
                                                : f.limited;

  allocation_watch watch;
  const auto r = f.api.handle({method, target, token, body});
  watch.check(64 * size + (1 << 20));

  NODUS_FUZZ_CHECK(r.status == 200 || r.status == 204 || (r.status >= 207 && r.status <= 599));
  NODUS_FUZZ_CHECK(r.body.empty() == (r.status == 204));
  if (r.status == 204) return 0;
  auto parsed = json::parse(r.body);
  NODUS_FUZZ_CHECK(parsed);
  if (r.status >= 400) {
    const auto* errors = parsed.value().find("errors");
    if (errors)
      NODUS_FUZZ_CHECK(errors->as_array() && (!errors->as_array()->empty() || r.status == 404));
    else
      NODUS_FUZZ_CHECK(parsed.value().find("data"));  // a batch with a failed item
  }
  if (token_choice == 3 && target.find("/sys/health") == std::string::npos &&
      target.find("lookup-self") == std::string::npos && changes_or_reveals(method, target))
    NODUS_FUZZ_CHECK(r.status == 403 || r.status == 404 || r.status == 405 || r.status == 400);
  return 0;
}
