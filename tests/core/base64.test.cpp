// Base64 and base64url against RFC 4648's test vectors (section 10), and strict decoding.
#include <doctest/doctest.h>

#include "nodus/core/base64.hpp"

using namespace nodus;

namespace {
bytes of(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("RFC 4648 section 10 vectors, both ways") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(of(plain)) == encoded);
    CHECK(base64_decode(encoded) == of(plain));
  }
  CHECK(base64url_encode(of("fo")) == "Zm8");
  CHECK(base64url_decode("Zm8") == of("fo"));
  const bytes high{0xfb, 0xff};
  CHECK(base64_encode(high) == "+/8=");
  CHECK(base64url_encode(high) == "-_8");
  CHECK(base64url_decode("-_8") == high);
}

TEST_CASE("anything but canonical text decodes to nothing") {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v=", "Zm=v", "Zh==", "Zm9vYg=a", "-_8=", "Zm9v\n", "===="})
    CHECK_FALSE(base64_decode(bad));
  for (const char* bad : {"Z", "Zh", "+/8", "Zg=="}) CHECK_FALSE(base64url_decode(bad));
}
