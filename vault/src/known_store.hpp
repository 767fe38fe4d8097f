#pragma once
// How a vault makes its known_identities. Private to vault/src.

#include <memory>

#include "nodus/vault/known_identities.hpp"
#include "private_dir.hpp"

namespace nodus::vault::detail {

/// The store of a vault whose directory is `root` (which must outlive it), or of an in-memory
/// vault when `root` is null.
std::unique_ptr<known_identities> new_known_identities(const private_dir* root);

}  // namespace nodus::vault::detail
