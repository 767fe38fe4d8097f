// Format-preserving transformations and roles: templates, tweaks, keys, the state file.
//   {"format": 1, "transformations": [{"name", "template", "tweak_source", "algorithm",
//     "allowed_roles": [...], "key": "<vault id>", "tweak": "<base64, internal tweaks only>"}],
//    "roles": [{"name", "transformations": [...]}]}
#include "nodus/transit/transform.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "nodus/core/base64.hpp"
#include "nodus/core/delivery_error.hpp"
#include "nodus/core/json.hpp"
#include "nodus/fpe/fpe.hpp"
#include "nodus/transit/keyring.hpp"
#include "nodus/vault/atomic_file.hpp"

namespace nodus::transit {
namespace {

auto invalid(std::string why) { return nodus::fail(make_error_code(transit_errc::invalid_request), std::move(why)); }
auto not_found(std::string why) { return nodus::fail(make_error_code(transit_errc::key_not_found), std::move(why)); }
auto internal(std::string why) { return nodus::fail(make_error_code(transit_errc::internal), std::move(why)); }

constexpr std::string_view credit_card = "builtin/creditcardnumber";
constexpr std::string_view social_security = "builtin/socialsecuritynumber";
constexpr std::string_view any_digits = "nodus/digits";

std::string_view source_name(tweak_source s) {
  return s == tweak_source::supplied ? "supplied" : s == tweak_source::internal ? "internal" : "generated";
}
std::optional<tweak_source> parse_source(std::string_view s) {
  if (s == "supplied") return tweak_source::supplied;
  if (s == "internal") return tweak_source::internal;
  if (s == "generated") return tweak_source::generated;
  return std::nullopt;
}
std::string_view algorithm_name(fpe_algorithm a) { return a == fpe_algorithm::ff1 ? "ff1" : "ff3-1"; }
std::optional<fpe_algorithm> parse_algorithm(std::string_view s) {
  if (s == "ff3-1") return fpe_algorithm::ff3_1;
  if (s == "ff1") return fpe_algorithm::ff1;
  return std::nullopt;
}

// The digits of `value` a template encrypts, or why it does not match: groups of digits with
// one optional separator (from `separators`) after each of `boundaries` digits.
result_or_failure<std::string> grouped_digits(std::string_view value, std::size_t count,
                                              std::initializer_list<std::size_t> boundaries,
                                              std::string_view separators, std::string_view name,
                                              std::string_view shape) {
  std::string digits;
  bool separated = false;  // a separator right after the current boundary
  for (char c : value) {
    if (c >= '0' && c <= '9') {
      digits += c;
      separated = false;
      continue;
    }
    const bool at_boundary = std::find(boundaries.begin(), boundaries.end(), digits.size()) != boundaries.end();
    if (separators.find(c) == std::string_view::npos || !at_boundary || separated)
      return invalid("the value does not match template " + std::string(name) + " (" + std::string(shape) + ")");
    separated = true;
  }
  if (digits.size() != count || separated)
    return invalid("the value does not match template " + std::string(name) + " (" + std::string(shape) + ")");
  return digits;
}

result_or_failure<std::string> digits_of(std::string_view template_name, std::string_view value) {
  if (template_name == credit_card)
    return grouped_digits(value, 16, {4, 8, 12}, "- ", credit_card, "16 digits in groups of 4, '-' or ' ' between");
  if (template_name == social_security)
    return grouped_digits(value, 9, {3, 5}, "-", social_security, "9 digits as 3-2-4, '-' between");
  std::string digits;
  for (char c : value)
    if (c >= '0' && c <= '9') digits += c;
  if (digits.size() < 6 || digits.size() > 56)
    return invalid("template nodus/digits encrypts 6 to 56 digits; the value has " + std::to_string(digits.size()));
  return digits;
}

// `value` with its digits replaced, in order, by `digits`.
std::string with_digits(std::string_view value, std::string_view digits) {
  std::string out(value);
  std::size_t next = 0;
  for (char& c : out)
    if (c >= '0' && c <= '9') c = digits[next++];
  return out;
}

struct stored_transformation {
  fpe_transformation info;
  vault::key_id key;
  bytes internal_tweak;
  // Made on first use from the exported key, then kept (the key lives inside OpenSSL).
  mutable std::shared_ptr<const fpe::ff3_1_cipher> ff3;
  mutable std::shared_ptr<const fpe::aes_block_cipher> ff1;
};

// What one encode or decode needs, taken under the lock: the cipher, the template, the tweak.
struct prepared {
  std::shared_ptr<const fpe::ff3_1_cipher> ff3;
  std::shared_ptr<const fpe::aes_block_cipher> ff1;
  std::string template_name;
  bytes tweak;
  bool generated = false;
};

}  // namespace

struct transformations::state {
  std::shared_ptr<vault::vault> keys;
  std::filesystem::path file;
  mutable std::mutex mutex;
  std::map<std::string, stored_transformation, std::less<>> named;
  std::map<std::string, transform_role, std::less<>> roles;

  result_or_failure<> save() const {
    if (file.empty()) return outcome::success();
    json::value out;
    out["format"] = 1;
    out["transformations"] = json::array{};
    for (const auto& [name, t] : named) {
      json::value e;
      e["name"] = name;
      e["template"] = t.info.template_name;
      e["tweak_source"] = source_name(t.info.tweaks);
      e["algorithm"] = algorithm_name(t.info.algorithm);
      e["allowed_roles"] = json::array{};
      for (const auto& r : t.info.allowed_roles) e["allowed_roles"].push_back(r);
      e["key"] = t.key.value;
      if (!t.internal_tweak.empty()) e["tweak"] = base64_encode(t.internal_tweak);
      out["transformations"].push_back(std::move(e));
    }
    out["roles"] = json::array{};
    for (const auto& [name, r] : roles) {
      json::value e;
      e["name"] = name;
      e["transformations"] = json::array{};
      for (const auto& t : r.transformations) e["transformations"].push_back(t);
      out["roles"].push_back(std::move(e));
    }
    return vault::write_file_atomically(file, json::dump(out, true) + "\n");
  }

  result_or_failure<> load(std::string_view text) {
    auto bad = [&](const std::string& why) { return internal("transform file " + file.string() + ": " + why); };
    auto parsed = json::parse(text);
    if (!parsed) return bad(parsed.error().message());
    const auto& root = parsed.value();
    auto list = [&](const json::value& v, std::string_view k) -> const json::array* {
      const auto* f = v.find(k);
      return f ? f->as_array() : nullptr;
    };
    auto text_of = [](const json::value& v, std::string_view k) {
      const auto* f = v.find(k);
      return f && f->as_string() ? *f->as_string() : std::string();
    };
    auto names_of = [&](const json::value& v, std::string_view k) {
      std::vector<std::string> out;
      if (const auto* a = list(v, k))
        for (const auto& n : *a)
          if (n.as_string()) out.push_back(*n.as_string());
      return out;
    };
    const auto* ts = list(root, "transformations");
    const auto* rs = list(root, "roles");
    if (!ts || !rs) return bad("no 'transformations' or 'roles' list");
    const auto present = keys->list();
    for (const auto& e : *ts) {
      stored_transformation t;
      t.info.name = text_of(e, "name");
      t.info.template_name = text_of(e, "template");
      const auto source = parse_source(text_of(e, "tweak_source"));
      const auto algorithm = parse_algorithm(text_of(e, "algorithm"));
      t.info.allowed_roles = names_of(e, "allowed_roles");
      t.key.value = text_of(e, "key");
      if (!valid_key_name(t.info.name) || !source || !algorithm) return bad("a transformation entry is malformed");
      if (!std::binary_search(present.begin(), present.end(), t.key))
        return bad("transformation '" + t.info.name + "': its vault key is missing");
      t.info.tweaks = *source;
      t.info.algorithm = *algorithm;
      if (*source == tweak_source::internal) {
        auto tweak = base64_decode(text_of(e, "tweak"));
        if (!tweak || tweak->size() != fpe::ff3_1_tweak_size)
          return bad("transformation '" + t.info.name + "': bad tweak");
        t.internal_tweak = std::move(*tweak);
      }
      named.emplace(t.info.name, std::move(t));
    }
    for (const auto& e : *rs) {
      transform_role r{text_of(e, "name"), names_of(e, "transformations")};
      if (!valid_key_name(r.name)) return bad("a role entry is malformed");
      roles.emplace(r.name, std::move(r));
    }
    return outcome::success();
  }

  // What encoding (or decoding) with `transformation` for `role` needs, or why it may not.
  result_or_failure<prepared> prepare(std::string_view role, std::string_view transformation, std::string_view tweak,
                                      bool encoding) const;

  // The transformation `name` may be used by `role`, or why not.
  result_or_failure<const stored_transformation*> usable(std::string_view role, std::string_view name) const {
    auto r = roles.find(role);
    if (r == roles.end()) return not_found("no transform role '" + printable_cut(role, 128) + "'");
    std::string chosen(name);
    if (chosen.empty()) {
      if (r->second.transformations.size() != 1)
        return invalid("role '" + r->first + "' has " + std::to_string(r->second.transformations.size()) +
                       " transformations: name one with 'transformation'");
      chosen = r->second.transformations.front();
    }
    const auto& in_role = r->second.transformations;
    if (std::find(in_role.begin(), in_role.end(), chosen) == in_role.end())
      return invalid("transformation '" + printable_cut(chosen, 128) + "' is not in role '" + r->first + "'");
    auto t = named.find(chosen);
    if (t == named.end()) return not_found("no transformation '" + printable_cut(chosen, 128) + "'");
    const auto& allowed = t->second.info.allowed_roles;
    if (std::find(allowed.begin(), allowed.end(), "*") == allowed.end() &&
        std::find(allowed.begin(), allowed.end(), r->first) == allowed.end())
      return invalid("transformation '" + chosen + "' does not allow role '" + r->first + "'");
    return &t->second;
  }
};

transformations::transformations(std::unique_ptr<state> s) : state_(std::move(s)) {}
transformations::~transformations() = default;

result_or_failure<std::shared_ptr<transformations>> transformations::open(std::shared_ptr<vault::vault> keys,
                                                                          std::filesystem::path state_file) {
  auto s = std::make_unique<state>();
  s->keys = std::move(keys);
  s->file = std::move(state_file);
  std::error_code ec;
  if (!s->file.empty() && std::filesystem::exists(s->file, ec)) {
    std::ifstream in(s->file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return internal("cannot read " + s->file.string());
    if (auto loaded = s->load(text.str()); !loaded) return loaded.error();
  }
  return std::shared_ptr<transformations>(new transformations(std::move(s)));
}

result_or_failure<fpe_transformation> transformations::write_transformation(const fpe_transformation& t) {
  if (!valid_key_name(t.name)) return invalid("invalid transformation name '" + printable_cut(t.name, 128) + "'");
  if (t.template_name != credit_card && t.template_name != social_security && t.template_name != any_digits)
    return invalid("unknown template '" + printable_cut(t.template_name, 128) + "' (this service has " +
                   std::string(credit_card) + ", " + std::string(social_security) + " and " + std::string(any_digits) +
                   ")");
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->named.find(t.name); it != state_->named.end()) {
    auto& kept = it->second.info;
    if (kept.template_name != t.template_name || kept.tweaks != t.tweaks || kept.algorithm != t.algorithm)
      return invalid("transformation '" + t.name +
                     "' exists with another template, tweak source or algorithm: what it encoded would not decode");
    const auto before = kept.allowed_roles;
    kept.allowed_roles = t.allowed_roles;
    if (auto saved = state_->save(); !saved) {
      kept.allowed_roles = before;
      return saved.error();
    }
    return kept;
  }
  auto key = state_->keys->generate(vault::key_type::data_key, vault::key_lifetime::persistent);
  if (!key) return internal("cannot make a key: " + key.error().message());
  stored_transformation stored{t, key.value(), {}, nullptr, nullptr};
  if (t.tweaks == tweak_source::internal) stored.internal_tweak = vault::random_bytes(fpe::ff3_1_tweak_size);
  auto [it, inserted] = state_->named.emplace(t.name, std::move(stored));
  if (auto saved = state_->save(); !saved) {
    (void)state_->keys->remove(key.value());
    state_->named.erase(it);
    return saved.error();
  }
  return it->second.info;
}

result_or_failure<fpe_transformation> transformations::read_transformation(std::string_view name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return not_found("no transformation '" + printable_cut(name, 128) + "'");
  return it->second.info;
}

std::vector<std::string> transformations::transformation_names() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto& [name, t] : state_->named) out.push_back(name);
  return out;
}

result_or_failure<> transformations::delete_transformation(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->named.find(name);
  if (it == state_->named.end()) return not_found("no transformation '" + printable_cut(name, 128) + "'");
  const auto key = it->second.key;
  state_->named.erase(it);
  if (auto saved = state_->save(); !saved) return saved.error();
  (void)state_->keys->remove(key);
  return outcome::success();
}

result_or_failure<transform_role> transformations::write_role(const transform_role& r) {
  if (!valid_key_name(r.name)) return invalid("invalid role name '" + printable_cut(r.name, 128) + "'");
  if (r.transformations.empty()) return invalid("a role needs at least one transformation");
  std::lock_guard lock(state_->mutex);
  for (const auto& t : r.transformations)
    if (!state_->named.contains(t)) return invalid("no transformation '" + printable_cut(t, 128) + "'");
  const auto before = state_->roles;
  state_->roles[r.name] = r;
  if (auto saved = state_->save(); !saved) {
    state_->roles = before;
    return saved.error();
  }
  return r;
}

result_or_failure<transform_role> transformations::read_role(std::string_view name) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->roles.find(name);
  if (it == state_->roles.end()) return not_found("no transform role '" + printable_cut(name, 128) + "'");
  return it->second;
}

std::vector<std::string> transformations::role_names() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto& [name, r] : state_->roles) out.push_back(name);
  return out;
}

result_or_failure<> transformations::delete_role(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->roles.find(name);
  if (it == state_->roles.end()) return not_found("no transform role '" + printable_cut(name, 128) + "'");
  state_->roles.erase(it);
  return state_->save();
}

namespace {

// The tweak a request uses: the transformation's own, the request's (base64, 7 bytes), or a new
// random one (generated), as its tweak source says.
result_or_failure<bytes> tweak_for(const stored_transformation& t, std::string_view given, bool encoding) {
  switch (t.info.tweaks) {
    case tweak_source::internal:
      if (!given.empty()) return invalid("transformation '" + t.info.name + "' has an internal tweak: give none");
      return t.internal_tweak;
    case tweak_source::generated:
      if (encoding) {
        if (!given.empty()) return invalid("transformation '" + t.info.name + "' generates its tweaks: give none");
        return vault::random_bytes(fpe::ff3_1_tweak_size);
      }
      [[fallthrough]];  // decoding a generated tweak: the one the encoding returned
    case tweak_source::supplied: {
      if (given.empty()) return invalid("transformation '" + t.info.name + "' needs a 'tweak' (7 bytes, base64)");
      auto tweak = base64_decode(given);
      if (!tweak || tweak->size() != fpe::ff3_1_tweak_size)
        return invalid("a tweak is 7 bytes (56 bits) in base64, not '" + printable_cut(given, 64) + "'");
      return std::move(*tweak);
    }
  }
  return invalid("bad tweak source");
}

// The transformation's cipher, made once from its vault key.
result_or_failure<> ready(const stored_transformation& t, vault::vault& keys) {
  if (t.ff3 || t.ff1) return outcome::success();
  auto secret = keys.export_data_key(t.key);
  if (!secret)
    return internal("the vault cannot use transformation '" + t.info.name + "': " + secret.error().message());
  if (t.info.algorithm == fpe_algorithm::ff3_1) {
    auto c = fpe::ff3_1_cipher::from_key(secret.value().view());
    if (!c) return internal(c.error().message());
    t.ff3 = std::make_shared<const fpe::ff3_1_cipher>(std::move(c).value());
  } else {
    auto c = fpe::aes_block_cipher::from_key(secret.value().view());
    if (!c) return internal(c.error().message());
    t.ff1 = std::make_shared<const fpe::aes_block_cipher>(std::move(c).value());
  }
  return outcome::success();
}

}  // namespace

namespace {

// `value` encoded or decoded as `p` says.
result_or_failure<std::string> run(const prepared& p, std::string_view value, bool encoding) {
  auto digits = digits_of(p.template_name, value);
  if (!digits) return digits.error();
  const auto& d = digits.value();
  auto out = p.ff3
                 ? (encoding ? fpe::ff3_1_encrypt(*p.ff3, p.tweak, d, 10) : fpe::ff3_1_decrypt(*p.ff3, p.tweak, d, 10))
                 : (encoding ? fpe::ff1_encrypt(*p.ff1, p.tweak, d, 10) : fpe::ff1_decrypt(*p.ff1, p.tweak, d, 10));
  if (!out) return invalid(out.error().message());
  return with_digits(value, out.value());
}

}  // namespace

result_or_failure<prepared> transformations::state::prepare(std::string_view role, std::string_view transformation,
                                                            std::string_view tweak, bool encoding) const {
  std::lock_guard lock(mutex);
  auto found = usable(role, transformation);
  if (!found) return found.error();
  const auto& stored = *found.value();
  auto chosen = tweak_for(stored, tweak, encoding);
  if (!chosen) return chosen.error();
  if (auto made = ready(stored, *keys); !made) return made.error();
  return prepared{stored.ff3, stored.ff1, stored.info.template_name, std::move(chosen).value(),
                  stored.info.tweaks == tweak_source::generated};
}

result_or_failure<encoded_value> transformations::encode(std::string_view role, std::string_view transformation,
                                                         std::string_view value, std::string_view tweak) const {
  auto p = state_->prepare(role, transformation, tweak, true);
  if (!p) return p.error();
  auto out = run(p.value(), value, true);
  if (!out) return out.error();
  return encoded_value{std::move(out).value(), p.value().generated ? base64_encode(p.value().tweak) : std::string()};
}

result_or_failure<std::string> transformations::decode(std::string_view role, std::string_view transformation,
                                                       std::string_view value, std::string_view tweak) const {
  auto p = state_->prepare(role, transformation, tweak, false);
  if (!p) return p.error();
  return run(p.value(), value, false);
}

}  // namespace nodus::transit
