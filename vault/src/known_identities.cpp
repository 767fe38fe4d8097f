// The latest history seen per identifier: the comparison of a presented history with the one
// seen, and where the seen ones are kept (a map, or one file each under <vault dir>/known).
//
// Histories are compared change by change on their signed content (what the links hash), so a
// re-encoding of the same changes is the same history. Both histories verify, so a fork means
// that the key of the change before the fork signed two different successors: that key is in
// two hands, and which successor is genuine cannot be told. The one seen first is kept.
//
// In a directory, the read-compare-write is done under flock of the known directory, so two
// processes that share a vault cannot replace a longer history with a shorter one.

#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "identity_codec.hpp"
#include "known_file.hpp"
#include "known_store.hpp"

namespace nodus::vault {
namespace {

using detail::private_dir;
using seen_history = std::optional<change_history>;

constexpr std::string_view known_dir_name = "known";
constexpr std::string_view known_dir_label = "known identities directory";

detail::file_kind known_file_kind() { return {"known identity file", errc::insecure_permissions}; }

std::string count(std::size_t n) { return std::to_string(n) + (n == 1 ? " change" : " changes"); }

// Whether `presented` extends `seen` (true), is the same (false), or is refused.
result_or_failure<bool> compare(const identifier& id, const change_history& seen, const change_history& presented) {
  const auto& a = seen.changes();
  const auto& b = presented.changes();
  const std::size_t common = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (a[i].signed_content() == b[i].signed_content()) continue;
    return fail(errc::untrusted_identity,
                "identity " + id + ": history forks at change " + std::to_string(i) + " from the one already seen (" +
                    count(b.size()) + " presented, " + count(a.size()) + " seen): the key of change " +
                    std::to_string(i == 0 ? 0 : i - 1) + " has signed two different next changes");
  }
  if (b.size() < a.size())
    return fail(errc::untrusted_identity, "identity " + id + ": history of " + count(b.size()) +
                                              " is older than one already seen (" + count(a.size()) +
                                              "): its primary key has been rotated away since");
  return b.size() > a.size();
}

// Holds flock(LOCK_EX) on a directory for its lifetime.
class dir_lock {
public:
  explicit dir_lock(const private_dir& dir) : fd_(dir.fd()) {
    int r = 0;
    do {
      r = ::flock(fd_, LOCK_EX);
    } while (r != 0 && errno == EINTR);
    locked_ = r == 0;
    error_ = locked_ ? 0 : errno;
  }
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;
  ~dir_lock() {
    if (locked_) ::flock(fd_, LOCK_UN);
  }
  bool locked() const noexcept { return locked_; }
  int error() const noexcept { return error_; }

private:
  int fd_;
  bool locked_ = false;
  int error_ = 0;
};

result_or_failure<seen_history> read_seen(const private_dir& dir, const identifier& id) {
  auto contents = dir.read_file(id, detail::max_known_file_size, known_file_kind());
  if (!contents && contents.error().code == errc::not_found) return seen_history{};
  if (!contents) return std::move(contents).error();
  auto history = detail::decode_known_file((dir.path() / id).string(), id, contents.value().view());
  if (!history) return std::move(history).error();
  return seen_history(std::move(history).value());
}

result_or_failure<> write_seen(const private_dir& dir, const identifier& id, const change_history& history) {
  const bytes contents = detail::encode_known_file(id, history);
  const std::string temp = "." + id + "~" + detail::to_hex(random_bytes(8));
  return dir.write_file(id, temp, contents, true, known_file_kind());
}

}  // namespace

struct known_identities::impl {
  const private_dir* root = nullptr;  // the vault's directory; null for an in-memory vault
  mutable std::mutex mutex;
  std::map<identifier, change_history, std::less<>> memory;

  result_or_failure<identifier> check_in_memory(const identifier& id, const change_history& presented) {
    auto it = memory.find(id);
    if (it == memory.end()) {
      memory.emplace(id, presented);
      return id;
    }
    auto longer = compare(id, it->second, presented);
    if (!longer) return std::move(longer).error();
    if (longer.value()) it->second = presented;
    return id;
  }

  result_or_failure<identifier> check_in_directory(const identifier& id, const change_history& presented) {
    auto dir = root->open_sub(known_dir_name, true, known_dir_label);
    if (!dir) return std::move(dir).error();
    const dir_lock lock(dir.value());
    if (!lock.locked())
      return fail(errc::storage_failed, fmt::format("{} {}: cannot lock: {}", known_dir_label,
                                                    dir.value().path().string(), std::strerror(lock.error())));
    auto seen = read_seen(dir.value(), id);
    if (!seen) return std::move(seen).error();
    bool longer = true;
    if (seen.value()) {
      auto compared = compare(id, *seen.value(), presented);
      if (!compared) return std::move(compared).error();
      longer = compared.value();
    }
    if (longer) {
      if (auto written = write_seen(dir.value(), id, presented); !written) return std::move(written).error();
    }
    return id;
  }
};

known_identities::known_identities(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
known_identities::~known_identities() = default;

result_or_failure<identifier> known_identities::check_and_remember(const change_history& presented) {
  auto verified = verified_history::of(presented);
  if (!verified) return std::move(verified).error();
  return check_and_remember(verified.value());
}

result_or_failure<identifier> known_identities::check_and_remember(const verified_history& presented) {
  std::lock_guard lock(impl_->mutex);
  return impl_->root ? impl_->check_in_directory(presented.id(), presented.history())
                     : impl_->check_in_memory(presented.id(), presented.history());
}

result_or_failure<change_history> known_identities::latest(const identifier& id) const {
  if (!detail::valid_identifier(id))
    return fail(errc::invalid_argument, "'" + id.substr(0, 64) + "' is not an identifier (I and 40 hex digits)");
  const auto none = [&] { return fail(errc::not_found, "no history seen for identity " + id); };
  std::lock_guard lock(impl_->mutex);
  if (!impl_->root) {
    auto it = impl_->memory.find(id);
    if (it == impl_->memory.end()) return none();
    return it->second;
  }
  auto dir = impl_->root->open_sub(known_dir_name, false, known_dir_label);
  if (!dir && dir.error().code == errc::not_found) return none();
  if (!dir) return std::move(dir).error();
  auto seen = read_seen(dir.value(), id);
  if (!seen) return std::move(seen).error();
  if (!seen.value()) return none();
  return std::move(*seen.value());
}

namespace detail {

std::unique_ptr<known_identities> new_known_identities(const private_dir* root) {
  auto p = std::make_unique<known_identities::impl>();
  p->root = root;
  return std::make_unique<known_identities>(std::move(p));
}

}  // namespace detail
}  // namespace nodus::vault
