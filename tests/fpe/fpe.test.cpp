// FF1 and FF3-1 (NIST SP 800-38G Rev. 1) through the public API: NIST's known answers, round
// trips over random inputs, and every refusal with its reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hex.hpp"
#include "nodus/core/error.hpp"
#include "nodus/fpe/fpe.hpp"

using namespace nodus::fpe;
using nodus::byte_view;
using nodus::bytes;

namespace {

using nodus::test::hex;

constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

struct known_answer {
  std::string_view key, tweak;
  unsigned radix;
  std::string_view plaintext, ciphertext;
};

// NIST's FF1 samples: "FF1 - Examples with Intermediate Values" (FF1samples.pdf), the example
// values NIST publishes for SP 800-38G at csrc.nist.gov/projects/cryptographic-standards-and-
// guidelines/example-values (a US government work, public domain). Samples 1-3 AES-128, 4-6
// AES-192, 7-9 AES-256; in each, radix 10 with an empty and a 10-byte tweak, then radix 36.
constexpr known_answer ff1_samples[] = {
    {"2B7E151628AED2A6ABF7158809CF4F3C", "", 10, "0123456789", "2433477484"},
    {"2B7E151628AED2A6ABF7158809CF4F3C", "39383736353433323130", 10, "0123456789", "6124200773"},
    {"2B7E151628AED2A6ABF7158809CF4F3C", "3737373770717273373737", 36, "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "", 10, "0123456789", "2830668132"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "39383736353433323130", 10, "0123456789", "2496655549"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "3737373770717273373737", 36, "0123456789abcdefghi",
     "xbj3kv35jrawxv32ysr"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "", 10, "0123456789", "6657667009"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "39383736353433323130", 10, "0123456789",
     "1001623463"},
    {"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "3737373770717273373737", 36,
     "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
};

// FF3-1 known answers from NIST's Automated Cryptographic Validation Protocol (ACVP) server, the
// sample vector set for ACVP-AES-FF3-1 revision 1.0: github.com/usnistgov/ACVP-Server,
// gen-val/json-files/ACVP-AES-FF3-1-1.0/internalProjection.json (commit 8e6f5ee7; a US government
// work, public domain). NIST published no FF3-1 example PDF (its FF3 samples use 64-bit tweaks,
// which FF3-1 does not take). Taken from the groups: AES-128 radix 10 (tcId 1, 2, 9, 16) and radix
// 26 (26, 27, 38); AES-192 radix 10 (76, 77, 93) and 26 (101, 102, 103); AES-256 radix 10 (151,
// 152, 157) and 26 (176, 177, 184); the AES-128 decryption groups, radix 10 (226, 229, 239) and
// 26 (251, 253). ACVP writes radix 26 over the alphabet a-z: `from_acvp` maps it onto 0-9a-p.
// tcId 2, 77 and 152 are 56 digits and 27, 102 and 177 are 40 letters: the longest FF3-1 takes.
constexpr known_answer ff3_1_samples[] = {
    {"AD41EC5D2356DEAE53AE76F50B4BA6D2", "CF29DA1E18D970", 10, "6520935496", "4716569208"},
    {"3C0ABB8C4D50528320ED6EF4F536371C", "2E0B7EE01C1370", 10,
     "37411281822299620587806308530316674537844784195073078382",
     "45217408528208365340847148215470453887037524494034613315"},
    {"A84BB554854DCAB9CBFD9E298001518C", "7A773172C3F0F1", 10, "082360355025", "901934302943"},
    {"781105E76DACD0F97833947C1C89DFAB", "221A5FE5D3A2AB", 10, "16067833680985", "86260854118577"},
    {"F078DB4C3105463E559623AB7C2EA29F", "1A3FD500D121E9", 26, "aquxxnfnhq", "lkjcjcnohf"},
    {"C7630C6EE431283365A70B06D3FA6CD8", "9FC475DB5A5824", 26, "bnlilrtlwmleozfxpddesinwvuqostxzkovolgbe",
     "bdzzkydglpqydxwndiyakofjrfihynehnycbmxuc"},
    {"93AAD449369EAE63B65930172619150B", "223818F5B78A22", 26, "ishliuiglx", "zeytxlivfn"},
    {"22BD6067AD88AAAC544DC79CCAC30960CEAA57C7D0E7DBA1", "BD0A725A4EDBBE", 10, "8698753752", "9584404002"},
    {"BBD993513F2D702C1908A5A5E3D30713CF1C285192A42999", "49B1811181C487", 10,
     "92236061427629838278974317694598492483521930395322104702",
     "94037268165665356681944391643379743282209038945532418719"},
    {"A18E99529AAF75F7935AA9B0640B25F0738364FBB8A9B633", "A177F2C5624102", 10, "13236829634", "41200918813"},
    {"ABF2609099D17A8D9CE7340B9D37718FEB116FBA0F995062", "965E3665A67363", 26, "xnpkaymwxj", "odzyjsjldd"},
    {"538065F6E7314413D1B98054A2778D7B1C89DD87B3673C2F", "ACA134D06373C3", 26,
     "pjbwbfflepdoltpqggkclsjpaykbopohmjytvvim", "cxaaxiamzadlxcaosxduqtmgnxpldnjmtlhuutma"},
    {"EE01E74CA8F4100C0E2F72A4FCCCF291483E3DA8C4D937DC", "C13D12FE5CD8DB", 26, "nneuiowesjc", "ozyzaglvclf"},
    {"4567672BCE43B94922338FA16B421FCF81AAE0F202DA5BCD4C8EFD869097DC17", "92430092126DAA", 10, "3588314239",
     "6999297766"},
    {"2A9A6C4E879A5B5FA96861C8388C2ACCB89B5597144444AD96C8F1BA4709D30E", "676A0C1D745CAB", 10,
     "50156505507058999500133595691014717524220194828240635191",
     "44710351687030326610831310894502604883198716263639341517"},
    {"C6E6B726B9AA790BE3E606F0D2D678EF9D50BA80181895ACCE6BFBC3896D6797", "7EA8F0E33E4579", 10, "334527514365",
     "304454722000"},
    {"98EF72B4CB9585F6B55A3E3083BDA54AE161E822EB79EE1E9F6012BF1C2AA385", "7D9E02EE1BA963", 26, "cpgwnqztxg",
     "vdnyuqtuta"},
    {"B97E6C8186994CD64BDF0C25C0E604BA6EF2EB879ED7A46F1EB3338D3D736C0C", "1F09517BDB6E5F", 26,
     "zixxzizwdrrhvbifuplrdwfrptpgfpouykavxjsf", "bwisehvdebxalonsaoykdvuxtouzoliqkagzznpm"},
    {"D857403218583F863A66D452AE6A317C03BF1AD5F883CAD2C7F6A1440C382C7B", "5FE380CB7750B4", 26, "bkhzovaxfky",
     "jiaikirzwue"},
    {"E09E7482C2E82CD19772B96935BE2B2A", "92F966A9F90AB5", 10, "5022428309", "5316668701"},
    {"71B50E83055D9264DC0F5C88EBD0CB98", "7EFF1E76FEA266", 10, "29806896731", "26848439942"},
    {"8363E4DE2C0D02151820AD4A91D6A628", "8101D9804D6229", 10, "57039354415263702938", "01902709365576707772"},
    {"A31F851AF86EED1E02E7F1A0257D7F70", "86A1E08A35583A", 26, "fhpsttsgmp", "htqwvmnmbq"},
    {"CA4154CB66CD0D198FE0D31D9819E09C", "488C89C7575CAD", 26, "onahfrhlhnp", "bchaxvbixff"},
};

// ACVP's radix-26 alphabet a-z, as digits 0-9a-p; radix 10 is the same in both.
std::string from_acvp(std::string_view text, unsigned radix) {
  std::string out(text);
  if (radix == 26)
    for (char& c : out) c = alphabet[static_cast<std::size_t>(c - 'a')];
  return out;
}

aes_block_cipher aes(std::string_view key_hex) { return aes_block_cipher::from_key(hex(key_hex)).value(); }

std::string random_numerals(std::mt19937_64& rng, unsigned radix, std::size_t length) {
  std::string out(length, '0');
  for (char& c : out) c = alphabet[rng() % radix];
  return out;
}

bytes random_bytes(std::mt19937_64& rng, std::size_t size) {
  bytes out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

bool in_alphabet(std::string_view s, unsigned radix) {
  return s.find_first_not_of(alphabet.substr(0, radix)) == std::string_view::npos;
}

// The reason of a refused call, checked to be of `code`.
template <class Result>
std::string refusal(const Result& r, errc code) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == code);
  CHECK(r.error().code == nodus::condition::invalid_argument);
  return r.error().reason;
}

}  // namespace

TEST_CASE("AES blocks: the FIPS-197 known answer, and REVB(K) for FF3-1") {
  const auto key = hex("000102030405060708090a0b0c0d0e0f");
  auto cipher = aes_block_cipher::from_key(key).value();
  CHECK(cipher.key_size() == 16);
  const auto in = hex("00112233445566778899aabbccddeeff");
  std::uint8_t block[16];
  std::copy(in.begin(), in.end(), block);
  REQUIRE(cipher.encrypt_block(block, block));
  CHECK(bytes(block, block + 16) == hex("69c4e0d86a7b0430d8cdb78070b4c55a"));

  // from_reversed_key(K) is from_key(REVB(K)).
  const auto key256 = hex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94");
  auto reversed = aes_block_cipher::from_reversed_key(key256).value();
  auto by_hand = aes_block_cipher::from_key(bytes(key256.rbegin(), key256.rend())).value();
  std::uint8_t a[16] = {1, 2, 3}, b[16] = {1, 2, 3};
  REQUIRE(reversed.encrypt_block(a, a));
  REQUIRE(by_hand.encrypt_block(b, b));
  CHECK(bytes(a, a + 16) == bytes(b, b + 16));
}

TEST_CASE("FF1: NIST's nine samples encrypt to the published ciphertext and decrypt back") {
  int passed = 0;
  for (const auto& v : ff1_samples) {
    CAPTURE(v.key);
    CAPTURE(v.plaintext);
    const auto cipher = aes(v.key);
    const auto tweak = hex(v.tweak);
    const auto encrypted = ff1_encrypt(cipher, tweak, v.plaintext, v.radix);
    REQUIRE(encrypted);
    CHECK(encrypted.value() == v.ciphertext);
    const auto decrypted = ff1_decrypt(cipher, tweak, v.ciphertext, v.radix);
    REQUIRE(decrypted);
    CHECK(decrypted.value() == v.plaintext);
    if (encrypted.value() == v.ciphertext && decrypted.value() == v.plaintext) ++passed;
  }
  CHECK(passed == 9);
}

TEST_CASE("FF3-1: NIST's ACVP vectors encrypt to the published ciphertext and decrypt back") {
  int passed = 0;
  for (const auto& v : ff3_1_samples) {
    CAPTURE(v.key);
    CAPTURE(v.plaintext);
    const auto cipher = ff3_1_cipher::from_key(hex(v.key)).value();
    const auto tweak = hex(v.tweak);
    const auto plaintext = from_acvp(v.plaintext, v.radix), ciphertext = from_acvp(v.ciphertext, v.radix);
    const auto encrypted = ff3_1_encrypt(cipher, tweak, plaintext, v.radix);
    REQUIRE(encrypted);
    CHECK(encrypted.value() == ciphertext);
    const auto decrypted = ff3_1_decrypt(cipher, tweak, ciphertext, v.radix);
    REQUIRE(decrypted);
    CHECK(decrypted.value() == plaintext);
    if (encrypted.value() == ciphertext && decrypted.value() == plaintext) ++passed;
  }
  CHECK(passed == 24);
}

TEST_CASE("one const cipher serves several threads at once") {
  const auto cipher = aes(ff1_samples[8].key);
  const auto ff3 = ff3_1_cipher::from_key(hex(ff3_1_samples[0].key)).value();
  const auto tweak = hex(ff1_samples[8].tweak), tweak7 = hex(ff3_1_samples[0].tweak);
  std::vector<int> right(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < right.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto a = ff1_encrypt(cipher, tweak, ff1_samples[8].plaintext, 36);
        const auto b = ff3_1_decrypt(ff3, tweak7, ff3_1_samples[0].ciphertext, 10);
        if (a && a.value() == ff1_samples[8].ciphertext && b && b.value() == ff3_1_samples[0].plaintext) ++right[t];
      }
    });
  for (auto& t : threads) t.join();
  for (int r : right) CHECK(r == 200);
}

TEST_CASE("the length limits of SP 800-38G Rev. 1") {
  CHECK(min_length(10) == 6);
  CHECK(min_length(36) == 4);
  CHECK(min_length(16) == 5);
  CHECK(min_length(2) == 20);
  CHECK(min_length(1000) == 0);
  CHECK(ff3_1_max_length(10) == 56);
  CHECK(ff3_1_max_length(26) == 40);
  CHECK(ff3_1_max_length(36) == 36);
  CHECK(ff3_1_max_length(16) == 48);  // 16^24 is 2^96 exactly
  CHECK(ff3_1_max_length(2) == 192);
  CHECK(ff3_1_max_length(37) == 0);
}

TEST_CASE("FF1: random inputs, radixes, lengths and tweaks round-trip") {
  std::mt19937_64 rng(20261204);
  const auto cipher = aes_block_cipher::from_key(random_bytes(rng, 32)).value();
  for (unsigned radix : {2u, 3u, 8u, 10u, 11u, 16u, 26u, 36u}) {
    for (int trial = 0; trial < 40; ++trial) {
      const std::size_t length = min_length(radix) + rng() % 120;
      const auto tweak = random_bytes(rng, rng() % 40);
      const auto x = random_numerals(rng, radix, length);
      CAPTURE(radix);
      CAPTURE(x);
      const auto y = ff1_encrypt(cipher, tweak, x, radix);
      REQUIRE(y);
      CHECK(y.value().size() == x.size());
      CHECK(in_alphabet(y.value(), radix));
      const auto back = ff1_decrypt(cipher, tweak, y.value(), radix);
      REQUIRE(back);
      CHECK(back.value() == x);
    }
  }
  // The longest tweak and the longest string taken; a changed tweak changes the ciphertext.
  const auto tweak = random_bytes(rng, ff1_max_tweak_size);
  const auto x = random_numerals(rng, 10, ff1_max_length);
  const auto y = ff1_encrypt(cipher, tweak, x, 10);
  REQUIRE(y);
  CHECK(ff1_decrypt(cipher, tweak, y.value(), 10).value() == x);
  auto other = tweak;
  other[0] ^= 1;
  CHECK(ff1_encrypt(cipher, other, x, 10).value() != y.value());
}

TEST_CASE("FF3-1: random inputs, radixes and lengths round-trip, up to the longest taken") {
  std::mt19937_64 rng(4096);
  for (std::size_t key_size : {16u, 24u, 32u}) {
    const auto cipher = ff3_1_cipher::from_key(random_bytes(rng, key_size)).value();
    for (unsigned radix : {2u, 7u, 10u, 16u, 26u, 36u}) {
      for (std::size_t length = min_length(radix); length <= ff3_1_max_length(radix); ++length) {
        const auto tweak = random_bytes(rng, ff3_1_tweak_size);
        const auto x = random_numerals(rng, radix, length);
        CAPTURE(radix);
        CAPTURE(x);
        const auto y = ff3_1_encrypt(cipher, tweak, x, radix);
        REQUIRE(y);
        CHECK(y.value().size() == x.size());
        CHECK(in_alphabet(y.value(), radix));
        const auto back = ff3_1_decrypt(cipher, tweak, y.value(), radix);
        REQUIRE(back);
        CHECK(back.value() == x);
      }
    }
  }
}

TEST_CASE("a radix outside 2..36 is refused") {
  const auto cipher = aes(ff1_samples[0].key);
  const auto ff3 = ff3_1_cipher::from_key(hex(ff1_samples[0].key)).value();
  const bytes tweak7(7, 0);
  for (unsigned radix : {0u, 1u, 37u, 62u, 65536u}) {
    const auto expected = " is not supported: the radix must be 2 to 36 (digits 0-9 and a-z)";
    CHECK(refusal(ff1_encrypt(cipher, {}, "0123456789", radix), errc::invalid_radix) ==
          "FF1: radix " + std::to_string(radix) + expected);
    CHECK(refusal(ff1_decrypt(cipher, {}, "0123456789", radix), errc::invalid_radix) ==
          "FF1: radix " + std::to_string(radix) + expected);
    CHECK(refusal(ff3_1_encrypt(ff3, tweak7, "0123456789", radix), errc::invalid_radix) ==
          "FF3-1: radix " + std::to_string(radix) + expected);
    CHECK(refusal(ff3_1_decrypt(ff3, tweak7, "0123456789", radix), errc::invalid_radix) ==
          "FF3-1: radix " + std::to_string(radix) + expected);
  }
}

TEST_CASE("a numeral string too short or too long is refused") {
  const auto cipher = aes(ff1_samples[0].key);
  const auto ff3 = ff3_1_cipher::from_key(hex(ff1_samples[0].key)).value();
  const bytes tweak7(7, 0);
  CHECK(refusal(ff1_encrypt(cipher, {}, "12345", 10), errc::invalid_length) ==
        "FF1: a numeral string of 5 characters is too short: radix 10 needs at least 6 (radix^length >= 1000000)");
  CHECK(refusal(ff1_decrypt(cipher, {}, "", 36), errc::invalid_length) ==
        "FF1: a numeral string of 0 characters is too short: radix 36 needs at least 4 (radix^length >= 1000000)");
  CHECK(refusal(ff3_1_encrypt(ff3, tweak7, "0101010101010101010", 2), errc::invalid_length) ==
        "FF3-1: a numeral string of 19 characters is too short: radix 2 needs at least 20 (radix^length >= 1000000)");
  CHECK(refusal(ff1_encrypt(cipher, {}, std::string(ff1_max_length + 1, '7'), 10), errc::invalid_length) ==
        "FF1: a numeral string of 65537 characters is too long: at most 65536");
  CHECK(
      refusal(ff3_1_encrypt(ff3, tweak7, std::string(57, '7'), 10), errc::invalid_length) ==
      "FF3-1: a numeral string of 57 characters is too long: radix 10 allows at most 56 (2 * floor(log_radix(2^96)))");
  CHECK(
      refusal(ff3_1_decrypt(ff3, tweak7, std::string(37, 'z'), 36), errc::invalid_length) ==
      "FF3-1: a numeral string of 37 characters is too long: radix 36 allows at most 36 (2 * floor(log_radix(2^96)))");
  // The limits themselves are taken.
  CHECK(ff1_encrypt(cipher, {}, "123456", 10));
  CHECK(ff3_1_encrypt(ff3, tweak7, "123456", 10));
  CHECK(ff3_1_encrypt(ff3, tweak7, std::string(56, '7'), 10));
}

TEST_CASE("a character not in the radix's alphabet is refused, naming it and its index") {
  const auto cipher = aes(ff1_samples[0].key);
  const auto ff3 = ff3_1_cipher::from_key(hex(ff1_samples[0].key)).value();
  const bytes tweak7(7, 0);
  CHECK(refusal(ff1_encrypt(cipher, {}, "01234a6789", 10), errc::invalid_numeral) ==
        "FF1: character 'a' at index 5 is not a digit of radix 10 (0-9)");
  CHECK(refusal(ff1_decrypt(cipher, {}, "0123-56789", 10), errc::invalid_numeral) ==
        "FF1: character '-' at index 4 is not a digit of radix 10 (0-9)");
  CHECK(refusal(ff1_encrypt(cipher, {}, "00000000000000000002", 2), errc::invalid_numeral) ==
        "FF1: character '2' at index 19 is not a digit of radix 2 (0-1)");
  CHECK(refusal(ff1_encrypt(cipher, {}, "0123456789AB", 16), errc::invalid_numeral) ==
        "FF1: character 'A' at index 10 is not a digit of radix 16 (0-9 and a-f)");
  CHECK(refusal(ff3_1_encrypt(ff3, tweak7, "aaaaabaaaa", 11), errc::invalid_numeral) ==
        "FF3-1: character 'b' at index 5 is not a digit of radix 11 (0-9 and a)");
  CHECK(refusal(ff3_1_decrypt(ff3, tweak7,
                              std::string("12345\xff"
                                          "789",
                                          9),
                              36),
                errc::invalid_numeral) ==
        "FF3-1: character byte 0xff at index 5 is not a digit of radix 36 (0-9 and a-z)");
  CHECK(refusal(ff3_1_encrypt(ff3, tweak7, std::string("0123456789\0", 11), 10), errc::invalid_numeral) ==
        "FF3-1: character byte 0x00 at index 10 is not a digit of radix 10 (0-9)");
}

TEST_CASE("a tweak of the wrong length is refused") {
  const auto cipher = aes(ff1_samples[0].key);
  const auto ff3 = ff3_1_cipher::from_key(hex(ff1_samples[0].key)).value();
  for (std::size_t size : {0u, 6u, 8u, 16u}) {
    const std::string expected =
        "FF3-1: a tweak of " + std::to_string(size) + " bytes: it must be exactly 7 bytes (56 bits)";
    CHECK(refusal(ff3_1_encrypt(ff3, bytes(size, 1), "0123456789", 10), errc::invalid_tweak) == expected);
    CHECK(refusal(ff3_1_decrypt(ff3, bytes(size, 1), "0123456789", 10), errc::invalid_tweak) == expected);
  }
  CHECK(refusal(ff1_encrypt(cipher, bytes(ff1_max_tweak_size + 1, 1), "0123456789", 10), errc::invalid_tweak) ==
        "FF1: a tweak of 257 bytes is too long: at most 256");
  CHECK(ff1_encrypt(cipher, bytes(ff1_max_tweak_size, 1), "0123456789", 10));
}

TEST_CASE("a key of the wrong size, or a moved-from cipher, is refused") {
  for (std::size_t size : {0u, 1u, 15u, 17u, 31u, 33u, 64u}) {
    const std::string expected = "fpe: an AES key of " + std::to_string(size) + " bytes: it must be 16, 24 or 32 bytes";
    CHECK(refusal(aes_block_cipher::from_key(bytes(size, 7)), errc::invalid_key) == expected);
    CHECK(refusal(ff3_1_cipher::from_key(bytes(size, 7)), errc::invalid_key) == expected);
  }
  auto cipher = aes(ff1_samples[0].key);
  auto taken = std::move(cipher);
  CHECK(taken.key_size() == 16);
  CHECK(cipher.key_size() == 0);  // NOLINT(bugprone-use-after-move): what a moved-from cipher does
  CHECK(refusal(ff1_encrypt(cipher, {}, "0123456789", 10), errc::invalid_key) ==
        "fpe: FF1 with a cipher that holds no key (moved from)");
  std::uint8_t block[16] = {};
  CHECK(cipher.encrypt_block(block, block).error() == errc::invalid_key);
}

TEST_CASE("any input gives a value or a failure: random bytes, radixes and tweaks") {
  std::mt19937_64 rng(77);
  const auto cipher = aes_block_cipher::from_key(random_bytes(rng, 16)).value();
  const auto ff3 = ff3_1_cipher::from_key(random_bytes(rng, 16)).value();
  for (int trial = 0; trial < 2000; ++trial) {
    const unsigned radix = static_cast<unsigned>(rng() % 40);
    std::string x(rng() % 70, '0');
    // Mostly valid digits, sometimes any byte.
    for (char& c : x) c = rng() % 50 == 0 ? static_cast<char>(rng()) : alphabet[rng() % 36];
    const auto tweak = random_bytes(rng, rng() % 10);
    const auto e1 = ff1_encrypt(cipher, tweak, x, radix);
    if (e1) CHECK(ff1_decrypt(cipher, tweak, e1.value(), radix).value() == x);
    const auto e3 = ff3_1_encrypt(ff3, tweak, x, radix);
    if (e3) CHECK(ff3_1_decrypt(ff3, tweak, e3.value(), radix).value() == x);
    const auto d1 = ff1_decrypt(cipher, tweak, x, radix);
    CHECK(bool(d1) == bool(e1));
    const auto d3 = ff3_1_decrypt(ff3, tweak, x, radix);
    CHECK(bool(d3) == bool(e3));
    if (!e1) CHECK_FALSE(e1.error().reason.empty());
    if (!e3) CHECK_FALSE(e3.error().reason.empty());
  }
}
