#include "nodus/kafka_crypto/protection.hpp"

namespace nodus::kafka_crypto {

result_or_failure<undecryptable_policy> undecryptable_policy_from(std::string_view text) {
  if (text == "fail") return undecryptable_policy::fail;
  if (text == "skip") return undecryptable_policy::skip;
  if (text == "tag") return undecryptable_policy::tag;
  return fail(std::make_error_code(std::errc::invalid_argument),
              "the undecryptable policy is fail, skip or tag, not '" + std::string(text) + "'");
}

std::string_view name(undecryptable_policy p) noexcept {
  switch (p) {
    case undecryptable_policy::fail: return "fail";
    case undecryptable_policy::skip: return "skip";
    case undecryptable_policy::tag: return "tag";
  }
  return "fail";
}

}  // namespace nodus::kafka_crypto
