#include <algorithm>
#include <array>

#include "nodus/kafka_crypto/record_sealing.hpp"

namespace nodus::kafka_crypto {

std::uint32_t rekey_counter(const data_key& key, clock_type::time_point now) noexcept {
  if (now <= key.created || key.timing.rekey.count() <= 0) return 0;
  const auto periods = std::chrono::duration_cast<std::chrono::seconds>(now - key.created) / key.timing.rekey;
  return static_cast<std::uint32_t>(std::min<std::int64_t>(periods, UINT32_MAX));
}

cipher_cache::cipher_cache(std::size_t max_ciphers)
    : vault_(vault::vault::create_in_memory()), max_ciphers_(std::max<std::size_t>(1, max_ciphers)) {}

result_or_failure<vault::aead_cipher*> cipher_cache::cipher(const data_key& key, std::uint32_t counter) {
  const auto k = std::make_pair(key.name, counter);
  if (auto it = ciphers_.find(k); it != ciphers_.end()) return &it->second;
  auto base = vault_->import_secret(vault::key_type::secret_bytes, key.material.view());
  if (!base) return base.error();
  std::array<std::uint8_t, 27> info{'n', 'o', 'd', 'u', 's', ' ', 'k', 'a', 'f', 'k', 'a', ' ', 'r', 'e',
                                    'c', 'o', 'r', 'd', ' ', 'k', 'e', 'y', ' ', 0,   0,   0,   0};
  for (int i = 0; i < 4; ++i) info[23 + i] = static_cast<std::uint8_t>(counter >> (24 - 8 * i));
  const vault::derived_key out[] = {{vault::key_type::aes256_gcm, 32}};
  auto derived = vault_->hkdf_sha256(base.value(), std::nullopt, info, out);
  (void)vault_->remove(base.value());
  if (!derived) return failure(derived.error(), "deriving the record key");
  auto made = vault_->aead(derived.value().front());
  (void)vault_->remove(derived.value().front());
  if (!made) return failure(made.error(), "making the record cipher");
  if (ciphers_.size() >= max_ciphers_) {
    ciphers_.erase(order_.front());
    order_.erase(order_.begin());
  }
  order_.push_back(k);
  return &ciphers_.emplace(k, std::move(made.value())).first->second;
}

}  // namespace nodus::kafka_crypto
