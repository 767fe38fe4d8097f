#include <algorithm>
#include <array>
#include <utility>

#include "nodus/secure_channel/noise.hpp"

namespace nodus::secure_channel {
namespace {

constexpr std::size_t dh_size = 32;
constexpr std::size_t hash_size = 32;

vault::key_type aead_key_type(cipher_suite suite) {
  return suite == cipher_suite::chacha20_poly1305 ? vault::key_type::chacha20_poly1305 : vault::key_type::aes256_gcm;
}

// Noise's nonce formats: 32 zero bits then the counter, big-endian for AESGCM and
// little-endian for ChaChaPoly.
std::array<std::uint8_t, vault::aead_nonce_size> nonce_bytes(cipher_suite suite, std::uint64_t n) {
  std::array<std::uint8_t, vault::aead_nonce_size> nonce{};
  for (int i = 0; i < 8; ++i) {
    auto byte = static_cast<std::uint8_t>(n >> (8 * i));
    if (suite == cipher_suite::aes256_gcm)
      nonce[11 - i] = byte;
    else
      nonce[4 + i] = byte;
  }
  return nonce;
}

}  // namespace

std::string noise_protocol_name(cipher_suite suite) {
  return suite == cipher_suite::chacha20_poly1305 ? "Noise_XX_25519_ChaChaPoly_SHA256" : "Noise_XX_25519_AESGCM_SHA256";
}

result<> noise_cipher::seal(std::uint64_t nonce, byte_view ad, byte_view plaintext, bytes& out) {
  auto n = nonce_bytes(suite_, nonce);
  return cipher_.seal(n, ad, plaintext, out);
}

result<> noise_cipher::open(std::uint64_t nonce, byte_view ad, byte_view ciphertext, bytes& out) {
  auto n = nonce_bytes(suite_, nonce);
  return cipher_.open(n, ad, ciphertext, out);
}

result<> noise_cipher::seal_in_place(std::uint64_t nonce, byte_view ad, std::span<std::uint8_t> text_and_tag) {
  auto n = nonce_bytes(suite_, nonce);
  return cipher_.seal_in_place(n, ad, text_and_tag);
}

result<> noise_cipher::open_in_place(std::uint64_t nonce, byte_view ad, std::span<std::uint8_t> text_and_tag) {
  auto n = nonce_bytes(suite_, nonce);
  return cipher_.open_in_place(n, ad, text_and_tag);
}

/// Noise's HandshakeState with its SymmetricState and CipherState inlined. Keys are vault
/// handles; every handle this state creates is removed when it is replaced or the state dies.
struct noise_xx_handshake::state {
  std::shared_ptr<vault::vault> vault;
  options opts;
  int next = 0;
  bool failed = false;

  bytes h;                              // handshake hash
  std::optional<vault::key_id> ck;      // chaining key
  std::optional<vault::aead_cipher> k;  // handshake cipher, once a DH has been mixed in
  std::uint64_t n = 0;                  // its nonce
  vault::key_id e;                      // our ephemeral key
  bool own_ephemeral = false;           // generated here (so removed here)
  bytes e_public, s_public, re, rs;

  ~state() {
    if (ck) (void)vault->remove(*ck);
    if (own_ephemeral) (void)vault->remove(e);
  }

  bool is_initiator() const { return opts.side == role::initiator; }

  void mix_hash(byte_view data) {
    bytes input;
    input.reserve(h.size() + data.size());
    input.insert(input.end(), h.begin(), h.end());
    input.insert(input.end(), data.begin(), data.end());
    h = vault::sha256(input);
  }

  // MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); k = temp_k, n = 0. The DH output is a vault
  // handle and is removed once mixed in.
  result<> mix_key(const vault::key_id& ikm) {
    const std::array<vault::derived_key, 2> outputs{vault::derived_key{vault::key_type::secret_bytes, hash_size},
                                                    vault::derived_key{aead_key_type(opts.suite), 32}};
    auto derived = vault->hkdf_sha256(*ck, ikm, {}, outputs);
    (void)vault->remove(ikm);
    if (!derived) return derived.error();
    (void)vault->remove(*ck);
    ck = derived.value()[0];
    auto cipher = vault->aead(derived.value()[1]);
    (void)vault->remove(derived.value()[1]);
    if (!cipher) return cipher.error();
    k.emplace(std::move(cipher.value()));
    n = 0;
    return ok();
  }

  result<> mix_dh(const vault::key_id& ours, const bytes& theirs) {
    auto shared = vault->x25519_agree(ours, theirs);
    if (!shared) return shared.error();
    return mix_key(shared.value());
  }

  result<> encrypt_and_hash(byte_view plaintext, bytes& out) {
    auto start = out.size();
    if (k) {
      auto nonce = nonce_bytes(opts.suite, n);
      if (auto sealed = k->seal(nonce, h, plaintext, out); !sealed) return sealed;
      ++n;
    } else {
      out.insert(out.end(), plaintext.begin(), plaintext.end());
    }
    mix_hash(byte_view(out).subspan(start));
    return ok();
  }

  result<bytes> decrypt_and_hash(byte_view ciphertext) {
    bytes plaintext;
    if (k) {
      if (ciphertext.size() < vault::aead_tag_size) return nodus::errc::malformed;
      auto nonce = nonce_bytes(opts.suite, n);
      if (auto opened = k->open(nonce, h, ciphertext, plaintext); !opened) return opened.error();
      ++n;
    } else {
      plaintext.assign(ciphertext.begin(), ciphertext.end());
    }
    mix_hash(ciphertext);
    return plaintext;
  }

  // Reads a public key (32 bytes) or an encrypted one (48) from the front of `message`.
  result<bytes> read_static(byte_view& message) {
    std::size_t size = dh_size + (k ? vault::aead_tag_size : 0);
    if (message.size() < size) return nodus::errc::malformed;
    auto key = decrypt_and_hash(message.first(size));
    message = message.subspan(size);
    return key;
  }

  result<> read_ephemeral(byte_view& message) {
    if (message.size() < dh_size) return nodus::errc::malformed;
    re.assign(message.begin(), message.begin() + dh_size);
    message = message.subspan(dh_size);
    mix_hash(re);
    return ok();
  }

  result<> write_ephemeral(bytes& out) {
    if (!opts.ephemeral_key) {
      auto generated = vault->generate(vault::key_type::x25519);
      if (!generated) return generated.error().code;
      e = generated.value();
      own_ephemeral = true;
    } else {
      e = *opts.ephemeral_key;
    }
    auto pub = vault->public_key(e);
    if (!pub) return pub.error();
    e_public = std::move(pub.value());
    out.insert(out.end(), e_public.begin(), e_public.end());
    mix_hash(e_public);
    return ok();
  }
};

result<noise_xx_handshake> noise_xx_handshake::create(std::shared_ptr<vault::vault> v, options o) {
  auto type = v->type_of(o.static_key);
  if (!type) return type.error();
  if (type.value() != vault::key_type::x25519) return vault::errc::wrong_key_type;
  auto s_public = v->public_key(o.static_key);
  if (!s_public) return s_public.error();

  auto st = std::make_unique<state>();
  st->vault = std::move(v);
  st->s_public = std::move(s_public.value());

  // InitializeSymmetric: a protocol name of at most 32 bytes is padded with zeros to become h.
  auto name = noise_protocol_name(o.suite);
  st->h.assign(hash_size, 0);
  std::copy(name.begin(), name.end(), st->h.begin());
  auto ck = st->vault->import_secret(vault::key_type::secret_bytes, st->h);
  if (!ck) return ck.error().code;
  st->ck = ck.value();
  st->mix_hash(o.prologue);
  st->opts = std::move(o);
  return noise_xx_handshake(std::move(st));
}

noise_xx_handshake::noise_xx_handshake(std::unique_ptr<state> s) : state_(std::move(s)) {}
noise_xx_handshake::noise_xx_handshake(noise_xx_handshake&&) noexcept = default;
noise_xx_handshake& noise_xx_handshake::operator=(noise_xx_handshake&&) noexcept = default;
noise_xx_handshake::~noise_xx_handshake() = default;

bool noise_xx_handshake::writes_next() const noexcept {
  // The initiator writes messages 0 and 2, the responder message 1.
  return !complete() && ((state_->next % 2 == 0) == state_->is_initiator());
}
bool noise_xx_handshake::complete() const noexcept { return state_->next >= 3; }
int noise_xx_handshake::next_message() const noexcept { return state_->next; }
const bytes& noise_xx_handshake::remote_static() const noexcept { return state_->rs; }
const bytes& noise_xx_handshake::handshake_hash() const noexcept { return state_->h; }

result<bytes> noise_xx_handshake::write_message(byte_view payload) {
  auto& st = *state_;
  if (st.failed || !writes_next()) return nodus::errc::not_supported;
  bytes out;
  auto step = [&]() -> result<> {
    switch (st.next) {
      case 0:  // -> e
        return st.write_ephemeral(out);
      case 1:  // <- e, ee, s, es
        if (auto r = st.write_ephemeral(out); !r) return r;
        if (auto r = st.mix_dh(st.e, st.re); !r) return r;
        if (auto r = st.encrypt_and_hash(st.s_public, out); !r) return r;
        return st.mix_dh(st.opts.static_key, st.re);
      default:  // -> s, se
        if (auto r = st.encrypt_and_hash(st.s_public, out); !r) return r;
        return st.mix_dh(st.opts.static_key, st.re);
    }
  };
  auto done = step();
  if (done) done = st.encrypt_and_hash(payload, out);
  if (done && out.size() > noise_max_message_size) done = nodus::errc::too_large;
  if (!done) {
    st.failed = true;
    return done.error();
  }
  ++st.next;
  return out;
}

result<bytes> noise_xx_handshake::read_message(byte_view message) {
  auto& st = *state_;
  if (st.failed || complete() || writes_next()) return nodus::errc::not_supported;
  if (message.size() > noise_max_message_size) {
    st.failed = true;
    return nodus::errc::too_large;
  }
  auto step = [&]() -> result<> {
    switch (st.next) {
      case 0:  // -> e
        return st.read_ephemeral(message);
      case 1: {  // <- e, ee, s, es
        if (auto r = st.read_ephemeral(message); !r) return r;
        if (auto r = st.mix_dh(st.e, st.re); !r) return r;
        auto rs = st.read_static(message);
        if (!rs) return rs.error();
        st.rs = std::move(rs.value());
        return st.mix_dh(st.e, st.rs);
      }
      default: {  // -> s, se
        auto rs = st.read_static(message);
        if (!rs) return rs.error();
        st.rs = std::move(rs.value());
        return st.mix_dh(st.e, st.rs);
      }
    }
  };
  result<bytes> payload = nodus::errc::malformed;
  if (auto done = step(); done)
    payload = st.decrypt_and_hash(message);
  else
    payload = done.error();
  if (!payload) {
    st.failed = true;
    return payload.error();
  }
  ++st.next;
  return payload;
}

result<noise_transport> noise_xx_handshake::split() {
  auto& st = *state_;
  if (!complete() || st.failed) return nodus::errc::not_supported;
  const auto type = aead_key_type(st.opts.suite);
  const std::array<vault::derived_key, 2> outputs{vault::derived_key{type, 32}, vault::derived_key{type, 32}};
  auto keys = st.vault->hkdf_sha256(*st.ck, std::nullopt, {}, outputs);
  if (!keys) return keys.error();
  auto c1 = st.vault->aead(keys.value()[0]);
  auto c2 = st.vault->aead(keys.value()[1]);
  (void)st.vault->remove(keys.value()[0]);
  (void)st.vault->remove(keys.value()[1]);
  if (!c1) return c1.error();
  if (!c2) return c2.error();
  // The initiator sends with the first key, the responder with the second.
  noise_cipher first(std::move(c1.value()), st.opts.suite), second(std::move(c2.value()), st.opts.suite);
  if (st.is_initiator()) return noise_transport{std::move(first), std::move(second), st.h, st.rs};
  return noise_transport{std::move(second), std::move(first), st.h, st.rs};
}

}  // namespace nodus::secure_channel
