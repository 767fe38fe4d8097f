// Identity changes and change histories: the signed content, the versioned msgpack encoding and
// the verification of every link and signature.
//
// Encoding of a history: [1, [change, ...]] where a change is
// [version, previous, public_key, created_at, self_signature, previous_signature] (bin fields
// as msgpack bin, created_at as an integer). The encoding is not what is signed: the signatures
// cover `signed_content()`, so a re-encoding of the same values verifies the same way.
//
// What verification alone does not (and cannot) catch: a history cut after any change is the
// valid history the identity had before its later rotations. known_identities remembers the
// latest history seen per identifier and refuses older ones. `created_at` is informational: it
// is signed but not required to grow, so a clock stepping back does not make a rotation invalid.
//
// The number of changes is checked first, in decode before the changes are even unpacked, and
// in verify before any signature, so that a long history costs nothing to refuse.

#include <algorithm>
#include <string>

#include "identity_codec.hpp"
#include "nodus/vault/identity.hpp"

namespace nodus::vault {

namespace {

constexpr std::string_view change_label = "nodus.identity.change";
constexpr std::size_t identifier_hash_bytes = 20;

auto malformed(const std::string& what) { return fail(nodus::errc::malformed, "identity history: " + what); }

// `who` is "identity I..." or, when change 0 is unreadable, "identity history".
auto too_long(const std::string& who, std::size_t count) {
  return fail(nodus::errc::too_large, who + ": history of " + std::to_string(count) + " changes, more than the " +
                                          std::to_string(max_history_changes) + " a history may carry");
}

void pack_change(detail::packer& pk, const identity_change& c) {
  pk.pack_array(6);
  pk.pack_uint8(c.version);
  detail::pack_bin(pk, c.previous);
  detail::pack_bin(pk, c.public_key);
  pk.pack_int64(c.created_at);
  detail::pack_bin(pk, c.self_signature);
  detail::pack_bin(pk, c.previous_signature);
}

bool unpack_change(const msgpack::object& o, identity_change& c) {
  const auto* f = detail::array_of(o, 6);
  std::uint64_t version = 0;
  if (f == nullptr || !detail::read_uint(f[0], 0xff, version)) return false;
  c.version = static_cast<std::uint8_t>(version);
  return detail::read_bin(f[1], c.previous) && detail::read_bin(f[2], c.public_key) &&
         detail::read_int64(f[3], c.created_at) && detail::read_bin(f[4], c.self_signature) &&
         detail::read_bin(f[5], c.previous_signature);
}

// What is wrong with change `i` (given the one before it, if any), or an empty string.
std::string check_change(const identity_change& c, const identity_change* before) {
  if (c.version != detail::change_content_version) return "unknown version " + std::to_string(c.version);
  if (c.public_key.size() != detail::public_key_size)
    return "public key of " + std::to_string(c.public_key.size()) + " bytes, expected 32";
  const bytes content = c.signed_content();
  if (!verify_ed25519(c.public_key, content, c.self_signature)) return "self signature does not verify";
  if (before == nullptr) {
    if (!c.previous.empty()) return "first change links to a previous change";
    if (!c.previous_signature.empty()) return "first change carries a previous signature";
    return {};
  }
  if (c.previous != sha256(before->signed_content())) return "does not link to the change before it";
  if (!verify_ed25519(before->public_key, content, c.previous_signature))
    return "previous signature does not verify against the previous key";
  return {};
}

}  // namespace

bytes identity_change::signed_content() const {
  bytes out;
  nodus::detail::byte_writer writer{out};
  detail::packer pk(writer);
  pk.pack_array(5);
  detail::pack_str(pk, change_label);
  pk.pack_uint8(version);
  detail::pack_bin(pk, previous);
  detail::pack_bin(pk, public_key);
  pk.pack_int64(created_at);
  return out;
}

bytes change_history::encode() const {
  bytes out;
  nodus::detail::byte_writer writer{out};
  detail::packer pk(writer);
  pk.pack_array(2);
  pk.pack_uint8(detail::identity_encoding_version);
  pk.pack_array(static_cast<std::uint32_t>(changes_.size()));
  for (const auto& c : changes_) pack_change(pk, c);
  return out;
}

result_or_failure<change_history> change_history::decode(byte_view encoded) {
  auto handle = nodus::detail::unpack_bounded(encoded);
  if (!handle)
    return fail(handle.error(), "identity history: not one msgpack value (" + handle.error().message() + ")");
  const msgpack::object& root = handle.value().get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size < 1) return malformed("not an array");
  std::uint64_t version = 0;
  if (!detail::read_uint(root.via.array.ptr[0], 0xff, version)) return malformed("no version");
  if (version != detail::identity_encoding_version)
    return fail(nodus::errc::unsupported_version, "identity history: unknown version " + std::to_string(version));
  const auto* f = detail::array_of(root, 2);
  if (f == nullptr || f[1].type != msgpack::type::ARRAY) return malformed("no list of changes");
  const auto& list = f[1].via.array;
  if (list.size > max_history_changes) {
    // Only change 0 is unpacked, to name the identifier (it is the hash of change 0).
    identity_change first;
    if (!unpack_change(list.ptr[0], first)) return too_long("identity history", list.size);
    return too_long("identity " + change_history({std::move(first)}).id(), list.size);
  }
  std::vector<identity_change> changes(list.size);
  for (std::size_t i = 0; i < list.size; ++i)
    if (!unpack_change(list.ptr[i], changes[i])) return malformed("change " + std::to_string(i) + " is malformed");
  return change_history(std::move(changes));
}

result_or_failure<identifier> change_history::verify() const {
  if (changes_.empty()) return fail(errc::untrusted_identity, "identity history is empty");
  const identifier ident = id();
  if (changes_.size() > max_history_changes) return too_long("identity " + ident, changes_.size());
  for (std::size_t i = 0; i < changes_.size(); ++i) {
    const std::string problem = check_change(changes_[i], i == 0 ? nullptr : &changes_[i - 1]);
    if (!problem.empty())
      return fail(errc::untrusted_identity, "identity " + ident + ": change " + std::to_string(i) + " of " +
                                                std::to_string(changes_.size()) + ": " + problem);
  }
  return ident;
}

result_or_failure<verified_history> verified_history::of(change_history history) {
  auto id = history.verify();
  if (!id) return std::move(id).error();
  return verified_history(std::move(history), std::move(id).value());
}

identifier change_history::id() const {
  if (changes_.empty()) return {};
  const bytes digest = sha256(changes_.front().signed_content());
  const auto n = std::min(digest.size(), identifier_hash_bytes);
  return "I" + detail::to_hex(byte_view(digest).first(n));
}

const bytes& change_history::primary_public_key() const {
  static const bytes none;
  return changes_.empty() ? none : changes_.back().public_key;
}

}  // namespace nodus::vault
