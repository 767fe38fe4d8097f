#pragma once
// Private: the bytes an attestation's signature covers, shared by `identity::attest` (which
// signs them) and `verify_attestation` (which checks them).

#include <cstdint>

#include "nodus/core/bytes.hpp"

namespace nodus::vault::detail {

/// msgpack ["nodus.identity.attestation", version, change_hash, subject_key, expires_at].
bytes attestation_signed_content(std::uint8_t version, byte_view change_hash, byte_view subject_key,
                                 std::int64_t expires_at);

}  // namespace nodus::vault::detail
