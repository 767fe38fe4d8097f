// The key custodian verbs (nodus::kafka_crypto, docs/kafka-encryption.md): kafka-custodian
// create, list, delete, allow, revoke, key list / key delete and kek rotate, on the consumers' node.

#include <charconv>
#include <filesystem>

#include "verb_support.hpp"

namespace nodus::cli {
namespace {

const char* const duration_hint = "a duration is a number and a unit: 90s, 10m, 1h, 2d";

// "90s", "10m", "1h", "2d" in seconds; nothing for anything else.
std::optional<std::int64_t> seconds_of(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const auto* end = text.data() + text.size() - 1;
  if (std::from_chars(text.data(), end, n).ptr != end || n <= 0) return std::nullopt;
  const std::int64_t unit = text.back() == 's'   ? 1
                            : text.back() == 'm' ? 60
                            : text.back() == 'h' ? 3600
                            : text.back() == 'd' ? 86400
                                                 : 0;
  if (unit == 0 || n > 10ll * 365 * 86400 / unit) return std::nullopt;
  return n * unit;
}

std::optional<int> put_duration(const std::string& command, const std::string& flag, const std::string& text,
                                json::value& body, const std::string& key) {
  auto seconds = seconds_of(text);
  if (!seconds) return fail(command, "--" + flag + " '" + text + "': " + duration_hint, exit_usage);
  body[key] = *seconds;
  return std::nullopt;
}

// The key-encryption key flags, checked here; paths are made absolute (the node resolves them
// from its own directory otherwise). Nothing but paths goes to the node.
struct kek_flags {
  std::string transit, pkcs11, key, token_file, ca_file, token_label, pin_file;

  void add(po::options_description& o) {
    o.add_options()("kek-transit", po::value(&transit),
                    "keep the keys wrapped by a transit key at this URL (http://127.0.0.1:PORT or https://...)")(
        "kek-pkcs11", po::value(&pkcs11),
        "keep the keys wrapped by an AES key in a PKCS#11 token: the module (e.g. /usr/lib/softhsm/libsofthsm2.so)")(
        "kek-key", po::value(&key), "the transit key's name, or the PKCS#11 key's label (made if missing)")(
        "kek-token-file", po::value(&token_file), "a file holding the transit token (X-Vault-Token)")(
        "kek-ca", po::value(&ca_file), "the CA file an https:// transit's certificate is checked against")(
        "kek-token-label", po::value(&token_label), "the PKCS#11 token's label")(
        "kek-pin-file", po::value(&pin_file), "a file holding the PKCS#11 token's user PIN");
  }

  static std::string absolute(const std::string& path) {
    std::error_code ec;
    auto a = std::filesystem::absolute(path, ec);
    return ec ? path : a.string();
  }

  // The body's "kek", nothing without one, or the one-line mistake.
  std::optional<std::string> put(json::value& body) const {
    const bool any =
        !key.empty() || !token_file.empty() || !ca_file.empty() || !token_label.empty() || !pin_file.empty();
    if (transit.empty() && pkcs11.empty())
      return any ? std::optional<std::string>("the --kek-* options need --kek-transit URL or --kek-pkcs11 MODULE")
                 : std::nullopt;
    if (!transit.empty() && !pkcs11.empty()) return "give one of --kek-transit and --kek-pkcs11";
    if (key.empty()) return std::string("--kek-key is required: the transit key's name or the PKCS#11 key's label");
    json::value kek;
    kek["key"] = key;
    if (!transit.empty()) {
      if (!transit.starts_with("http://") && !transit.starts_with("https://"))
        return "--kek-transit '" + transit + "': give http://HOST:PORT or https://HOST:PORT";
      if (token_file.empty()) return std::string("--kek-transit needs --kek-token-file FILE");
      if (!token_label.empty() || !pin_file.empty())
        return std::string("--kek-token-label and --kek-pin-file are for --kek-pkcs11");
      kek["type"] = "transit";
      kek["url"] = transit;
      kek["token_file"] = absolute(token_file);
      if (!ca_file.empty()) kek["ca_file"] = absolute(ca_file);
    } else {
      if (token_label.empty() || pin_file.empty())
        return std::string("--kek-pkcs11 needs --kek-token-label LABEL and --kek-pin-file FILE");
      if (!token_file.empty() || !ca_file.empty())
        return std::string("--kek-token-file and --kek-ca are for --kek-transit");
      kek["type"] = "pkcs11";
      kek["module"] = absolute(pkcs11);
      kek["token_label"] = token_label;
      kek["pin_file"] = absolute(pin_file);
    }
    const std::pair<const char*, const char*> files[] = {
        {"token_file", "--kek-token-file"}, {"pin_file", "--kek-pin-file"}, {"ca_file", "--kek-ca"}};
    for (const auto& [field, flag] : files)
      if (const auto* f = kek.find(field); f && !std::filesystem::is_regular_file(*f->as_string()))
        return std::string(flag) + " " + *f->as_string() + ": not a file";
    body["kek"] = std::move(kek);
    return std::nullopt;
  }
};

int custodian_create(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian create",
              "[--addr ADDRESS] [--allow-producer ID]... [--allow-consumer ID]... [--rotation 24h] [--rekey 1h] "
              "[--validity 30h] [--kek-transit URL --kek-key NAME --kek-token-file FILE [--kek-ca FILE] | "
              "--kek-pkcs11 MODULE --kek-token-label LABEL --kek-pin-file FILE --kek-key LABEL] [--at NODE]",
              "  nodus kafka-custodian create --at bob --allow-producer I0123... --allow-consumer I4567...\n"
              "  (reachable through bob's secure channel listeners; keys persist in bob's vault)\n"
              "  nodus kafka-custodian create --at bob ... --kek-pkcs11 /usr/lib/softhsm/libsofthsm2.so \\\n"
              "      --kek-token-label nodus --kek-pin-file pin --kek-key custodian\n"
              "  (the vault on disk then holds only keys wrapped by the token's AES key)\n");
  std::string at, rotation, rekey, validity;
  std::vector<std::string> producers, consumers;
  kek_flags kek;
  v.options.add_options()("addr", po::value(&at)->default_value("kafka_custodian"), "the custodian's address")(
      "allow-producer", po::value(&producers),
      "an identifier, or a policy such as 'subject.kafka = \"producer\"', that may get keys to seal with "
      "(repeatable: any allows)")("allow-consumer", po::value(&consumers),
                                  "an identifier, or a policy, that may get any key by name (repeatable: any allows)")(
      "rotation", po::value(&rotation)->default_value("24h"), "how long a producer seals with one key")(
      "rekey", po::value(&rekey)->default_value("1h"), "how often a producer derives a new AEAD key from it")(
      "validity", po::value(&validity)->default_value("30h"), "after this, a key never seals again");
  kek.add(v.options);
  if (auto done = v.parse(args)) return *done;
  json::value body;
  if (auto bad = kek.put(body)) return fail(v.command, *bad, exit_usage);
  body["address"] = at;
  body["producers"] = text_list(producers);
  body["consumers"] = text_list(consumers);
  if (auto bad = put_duration(v.command, "rotation", rotation, body, "rotation_s")) return *bad;
  if (auto bad = put_duration(v.command, "rekey", rekey, body, "rekey_s")) return *bad;
  if (auto bad = put_duration(v.command, "validity", validity, body, "validity_s")) return *bad;
  const auto r = *body.find("rotation_s")->as_int(), k = *body.find("rekey_s")->as_int(),
             d = *body.find("validity_s")->as_int();
  if (k > r || r > d) return fail(v.command, "the periods must be --rekey <= --rotation <= --validity", exit_usage);
  return run_call(v.command, v.node, "POST", "/kafka-custodians", body, v.format(),
                  one("kafka custodian", {"address", "producers", "consumers"}));
}

int custodian_list(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian list", "[--at NODE] [--output json]", "");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/kafka-custodians", {}, v.format(),
                  rows({"address", "keys", "producers", "consumers"}));
}

int custodian_delete(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian delete", "ADDRESS [--at NODE]", "");
  std::string at;
  v.options.add_options()("address", po::value(&at)->required(), "the custodian's address (positional)");
  v.positional.add("address", 1);
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "DELETE", "/kafka-custodians/" + path_segment(at), {}, v.format(),
                  one("deleted kafka custodian", {"deleted"}));
}

int custodian_access(const std::vector<std::string>& args, const std::string& verb) {
  verb_line v("kafka-custodian " + verb, "--producer ID | --consumer ID [--addr ADDRESS] [--at NODE]", "");
  std::string at, producer, consumer;
  v.options.add_options()("addr", po::value(&at)->default_value("kafka_custodian"), "the custodian's address")(
      "producer", po::value(&producer), "a producer's identifier")("consumer", po::value(&consumer),
                                                                   "a consumer's identifier");
  if (auto done = v.parse(args)) return *done;
  if (producer.empty() == consumer.empty())
    return fail(v.command, "give one of --producer ID and --consumer ID", exit_usage);
  json::value body;
  if (!producer.empty()) body["producer"] = producer;
  if (!consumer.empty()) body["consumer"] = consumer;
  return run_call(v.command, v.node, "POST", "/kafka-custodians/" + path_segment(at) + "/" + verb, body, v.format(),
                  one(verb == "allow" ? "allowed" : "revoked", {"producer", "consumer"}));
}

int custodian_allow(const std::vector<std::string>& a) { return custodian_access(a, "allow"); }
int custodian_revoke(const std::vector<std::string>& a) { return custodian_access(a, "revoke"); }

int key_list(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian key list", "[--addr ADDRESS] [--at NODE] [--output json]", "");
  std::string at;
  v.options.add_options()("addr", po::value(&at)->default_value("kafka_custodian"), "the custodian's address");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "GET", "/kafka-custodians/" + path_segment(at) + "/keys", {}, v.format(),
                  rows({"name", "topic", "producer", "created"}));
}

int key_delete(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian key delete", "NAME [--addr ADDRESS] [--at NODE]",
              "  nodus kafka-custodian key delete 0123456789abcdef0123456789abcdef\n"
              "  (crypto-shredding: what was sealed with the key can never be read again)\n");
  std::string at, name;
  v.options.add_options()("addr", po::value(&at)->default_value("kafka_custodian"), "the custodian's address")(
      "name", po::value(&name)->required(), "the key's name, 32 hex digits (positional)");
  v.positional.add("name", 1);
  if (auto done = v.parse(args)) return *done;
  if (name.size() != 32 || name.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return fail(v.command, "a key name is 32 hex digits (as `kafka-custodian key list` prints), not '" + name + "'",
                exit_usage);
  return run_call(v.command, v.node, "DELETE", "/kafka-custodians/" + path_segment(at) + "/keys/" + name, {},
                  v.format(), one("deleted key", {"deleted"}));
}

int kek_rotate(const std::vector<std::string>& args) {
  verb_line v("kafka-custodian kek rotate", "[--addr ADDRESS] [--at NODE]",
              "  nodus kafka-custodian kek rotate --at bob\n"
              "  (a new version of the key-encryption key; every kept key is rewrapped, none changes)\n");
  std::string at;
  v.options.add_options()("addr", po::value(&at)->default_value("kafka_custodian"), "the custodian's address");
  if (auto done = v.parse(args)) return *done;
  return run_call(v.command, v.node, "POST", "/kafka-custodians/" + path_segment(at) + "/kek/rotate", {}, v.format(),
                  one("rotated the key-encryption key", {"address", "kek", "rewrapped"}));
}

int kek(const std::vector<std::string>& args) {
  return dispatch("kafka-custodian kek", args, {{"rotate", kek_rotate}});
}

int key(const std::vector<std::string>& args) {
  return dispatch("kafka-custodian key", args, {{"list", key_list}, {"delete", key_delete}});
}

}  // namespace

int kafka_custodian(const std::vector<std::string>& args) {
  return dispatch("kafka-custodian", args,
                  {{"create", custodian_create},
                   {"list", custodian_list},
                   {"delete", custodian_delete},
                   {"allow", custodian_allow},
                   {"revoke", custodian_revoke},
                   {"key", key},
                   {"kek", kek}});
}

}  // namespace nodus::cli
