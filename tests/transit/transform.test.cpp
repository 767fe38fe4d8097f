// Format-preserving transformations: a card number encodes to another card number and back,
// tweak sources, roles and templates checked, and the same encoding after a restart.
#include <doctest/doctest.h>

#include "nodus/core/base64.hpp"
#include "nodus/transit/transform.hpp"
#include "temp_dir.hpp"

using namespace nodus;
using namespace nodus::transit;

namespace {

std::shared_ptr<transformations> in_memory() {
  return transformations::open(vault::vault::create_in_memory(), "").value();
}

std::shared_ptr<transformations> with_card_role(tweak_source source, fpe_algorithm algorithm = fpe_algorithm::ff3_1) {
  auto t = in_memory();
  REQUIRE(t->write_transformation({"card", "builtin/creditcardnumber", source, algorithm, {"payments"}}));
  REQUIRE(t->write_role({"payments", {"card"}}));
  return t;
}

bool same_shape(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] >= '0' && a[i] <= '9') != (b[i] >= '0' && b[i] <= '9') || ((a[i] < '0' || a[i] > '9') && a[i] != b[i]))
      return false;
  return true;
}

}  // namespace

TEST_CASE("a card number encodes to another of the same shape and decodes back, with either algorithm") {
  for (const auto algorithm : {fpe_algorithm::ff3_1, fpe_algorithm::ff1}) {
    auto t = with_card_role(tweak_source::internal, algorithm);
    for (const std::string card : {"4111-1111-1111-1111", "5500 0000 0000 0004", "4012888888881881"}) {
      const auto encoded = t->encode("payments", "card", card, "");
      REQUIRE(encoded);
      CHECK(encoded.value().value != card);
      CHECK(same_shape(encoded.value().value, card));
      CHECK(encoded.value().tweak.empty());
      CHECK(t->encode("payments", "", card, "").value().value == encoded.value().value);  // deterministic
      CHECK(t->decode("payments", "card", encoded.value().value, "").value() == card);
    }
  }
}

TEST_CASE("tweaks: supplied by each request, or generated and returned with the encoding") {
  auto supplied = with_card_role(tweak_source::supplied);
  const auto t1 = base64_encode(bytes(7, 1)), t2 = base64_encode(bytes(7, 2));
  const auto a = supplied->encode("payments", "card", "4111111111111111", t1).value().value;
  const auto b = supplied->encode("payments", "card", "4111111111111111", t2).value().value;
  CHECK(a != b);
  CHECK(supplied->decode("payments", "card", a, t1).value() == "4111111111111111");
  CHECK(supplied->decode("payments", "card", a, t2).value() != "4111111111111111");
  CHECK(supplied->encode("payments", "card", "4111111111111111", "").error().message().find("needs a 'tweak'") !=
        std::string::npos);
  CHECK(supplied->encode("payments", "card", "4111111111111111", base64_encode(bytes(8, 1)))
            .error()
            .message()
            .find("7 bytes") != std::string::npos);

  auto generated = with_card_role(tweak_source::generated);
  const auto e = generated->encode("payments", "card", "4111111111111111", "").value();
  CHECK(base64_decode(e.tweak)->size() == 7);
  CHECK(generated->decode("payments", "card", e.value, e.tweak).value() == "4111111111111111");
  CHECK(generated->encode("payments", "card", "4111111111111111", t1).error().message().find("give none") !=
        std::string::npos);
}

TEST_CASE("templates refuse what does not match them, saying what they expect") {
  auto t = in_memory();
  REQUIRE(t->write_transformation({"card", "builtin/creditcardnumber", tweak_source::internal, {}, {"*"}}));
  REQUIRE(t->write_transformation({"ssn", "builtin/socialsecuritynumber", tweak_source::internal, {}, {"*"}}));
  REQUIRE(t->write_transformation({"acct", "nodus/digits", tweak_source::internal, {}, {"*"}}));
  REQUIRE(t->write_role({"r", {"card", "ssn", "acct"}}));
  for (const std::string bad : {"4111-1111-1111", "4111-1111-1111-11112", "4111--1111-1111-1111", "4111-1111-1111-111a",
                                "41-11111111111111", "4111-1111-1111-1111-"})
    CHECK(t->encode("r", "card", bad, "").error().message().find("does not match template builtin/creditcardnumber") !=
          std::string::npos);
  CHECK(t->decode("r", "ssn", t->encode("r", "ssn", "078-05-1120", "").value().value, "").value() == "078-05-1120");
  CHECK(t->encode("r", "ssn", "078-0-51120", "").error().message().find("3-2-4") != std::string::npos);
  const auto acct = t->encode("r", "acct", "GB29 NWBK 6016 1331 9268 19", "").value().value;
  CHECK(acct.starts_with("GB"));
  CHECK(t->decode("r", "acct", acct, "").value() == "GB29 NWBK 6016 1331 9268 19");
  CHECK(t->encode("r", "acct", "12345", "").error().message().find("6 to 56 digits") != std::string::npos);
  CHECK(t->encode("r", "", "4111111111111111", "").error().message().find("name one with 'transformation'") !=
        std::string::npos);
  CHECK(t->write_transformation({"x", "builtin/phone", tweak_source::internal, {}, {}})
            .error()
            .message()
            .find("unknown template") == 0);
}

TEST_CASE("roles decide which transformations a caller may use, both ways") {
  auto t = in_memory();
  REQUIRE(t->write_transformation({"card", "builtin/creditcardnumber", tweak_source::internal, {}, {"payments"}}));
  REQUIRE(t->write_transformation({"other", "builtin/creditcardnumber", tweak_source::internal, {}, {"payments"}}));
  REQUIRE(t->write_role({"payments", {"card"}}));
  REQUIRE(t->write_role({"support", {"card"}}));
  CHECK(t->encode("payments", "other", "4111111111111111", "").error().message().find("not in role") !=
        std::string::npos);
  CHECK(t->encode("support", "card", "4111111111111111", "").error().message().find("does not allow role 'support'") !=
        std::string::npos);
  CHECK(t->encode("nosuch", "card", "4111111111111111", "").error().code == transit_errc::key_not_found);
  CHECK(t->write_role({"broken", {"missing"}}).error().message() == "no transformation 'missing'");
  // Changing what would make old encodings undecodable is refused; changing roles is not.
  CHECK(t->write_transformation({"card", "nodus/digits", tweak_source::internal, {}, {"payments"}})
            .error()
            .message()
            .find("would not decode") != std::string::npos);
  REQUIRE(t->write_transformation({"card", "builtin/creditcardnumber", tweak_source::internal, {}, {"*"}}));
  CHECK(t->encode("support", "card", "4111111111111111", ""));
}

TEST_CASE("after a restart the same transformation decodes what it encoded; deleting it shreds its key") {
  test::temp_dir dir("nodus-transit-transform");
  std::string encoded;
  {
    auto v = vault::vault::open_directory(dir.path / "vault").value();
    auto t = transformations::open(v, dir.path / "transit-transforms.json").value();
    REQUIRE(t->write_transformation({"card", "builtin/creditcardnumber", tweak_source::internal, {}, {"payments"}}));
    REQUIRE(t->write_role({"payments", {"card"}}));
    encoded = t->encode("payments", "card", "4111-1111-1111-1111", "").value().value;
  }
  auto v = vault::vault::open_directory(dir.path / "vault").value();
  auto t = transformations::open(v, dir.path / "transit-transforms.json").value();
  CHECK(t->decode("payments", "card", encoded, "").value() == "4111-1111-1111-1111");
  CHECK(t->encode("payments", "card", "4111-1111-1111-1111", "").value().value == encoded);
  CHECK(v->list().size() == 1);
  REQUIRE(t->delete_transformation("card"));
  CHECK(v->list().empty());
  CHECK_FALSE(t->decode("payments", "card", encoded, ""));
}
