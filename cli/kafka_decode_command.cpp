// nodus kafka decode: one Kafka frame as JSON, for people debugging a client and for tests.
//
//   nodus kafka decode [--request | --response API VERSION] [--hex] FILE
//
// FILE (or - for stdin) holds one frame: binary, or hex text with --hex (whitespace ignored),
// with its 4-byte size as on the wire or without it (a leading size equal to the length of what
// follows is taken off). A request says its API in its header; a response does not, so
// --response names the API (Metadata, MetadataResponse or its key, 3) and the version of the
// request it answers. Prints {"header": ..., "body": ...} with the schema's field names; a body
// this build passes through prints as {"raw_hex": ...}.

#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli.hpp"
#include "nodus/kafka/frame.hpp"

namespace nodus::cli {
namespace {

constexpr const char* decode_usage = "usage: nodus kafka decode [--request | --response API VERSION] [--hex] FILE\n";

struct decode_options {
  bool response = false;
  std::string api, version, file;
  bool hex = false;
};

// The command line, or a one-line reason it is wrong.
result_or_failure<decode_options> parse_decode(const std::vector<std::string>& args) {
  const auto wrong = [](const std::string& why) {
    return nodus::fail(std::make_error_code(std::errc::invalid_argument), why);
  };
  decode_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--request") {
      o.response = false;
    } else if (a == "--response") {
      if (i + 2 >= args.size()) return wrong("--response needs an API and a version");
      o.response = true;
      o.api = args[++i];
      o.version = args[++i];
    } else if (a == "--hex") {
      o.hex = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return wrong("unknown option " + a);
    } else if (!o.file.empty()) {
      return wrong("one FILE only");
    } else {
      o.file = a;
    }
  }
  if (o.file.empty()) return wrong("no FILE given");
  return o;
}

result_or_failure<bytes> read_frame(const decode_options& o) {
  std::stringstream text;
  if (o.file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory), "cannot read " + o.file);
    text << in.rdbuf();
  }
  const auto s = text.str();
  if (!o.hex) return bytes(s.begin(), s.end());
  bytes out;
  int high = -1;
  for (unsigned char c : s) {
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) return nodus::fail(std::make_error_code(std::errc::invalid_argument), o.file + ": not hex");
    const int v = std::isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0)
      high = v;
    else
      out.push_back(static_cast<std::uint8_t>(high << 4 | v)), high = -1;
  }
  if (high >= 0)
    return nodus::fail(std::make_error_code(std::errc::invalid_argument), o.file + ": odd number of hex digits");
  return out;
}

byte_view without_size(const bytes& frame) {
  if (frame.size() < 4) return frame;
  const auto size = std::uint32_t{frame[0]} << 24 | std::uint32_t{frame[1]} << 16 | frame[2] << 8 | frame[3];
  return size == frame.size() - 4 ? byte_view(frame).subspan(4) : byte_view(frame);
}

// The API by name or by key.
const kafka::api_info* find_api(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }) &&
      text.size() < 6)
    return kafka::find_api(static_cast<std::int16_t>(std::stoi(text)));
  return kafka::find_api(std::string_view(text));
}

}  // namespace

int kafka_decode(const std::vector<std::string>& args) {
  const std::string command = "kafka decode";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << decode_usage;
    return 0;
  }
  auto options = parse_decode(args);
  if (!options) return fail(command, options.error().message() + " (see: nodus kafka decode --help)", exit_usage);
  const auto& o = options.value();
  const kafka::api_info* api = nullptr;
  int version = -1;
  if (o.response) {
    api = find_api(o.api);
    if (!api) return fail(command, "no Kafka API named " + o.api, exit_usage);
    const bool numeric =
        !o.version.empty() && o.version.size() < 6 &&
        std::all_of(o.version.begin(), o.version.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!numeric || (version = std::stoi(o.version)) > 32767)
      return fail(command, "bad version " + o.version, exit_usage);
  }
  auto frame = read_frame(o);
  if (!frame) return fail(command, frame.error().message());
  const auto body = without_size(frame.value());
  json::value out;
  if (o.response) {
    auto r = kafka::decode_response(body, api->key, static_cast<std::int16_t>(version));
    if (!r) return fail(command, o.file + ": " + r.error().message());
    out = kafka::to_json(r.value());
  } else {
    auto r = kafka::decode_request(body);
    if (!r) return fail(command, o.file + ": " + r.error().message());
    out = kafka::to_json(r.value());
  }
  std::cout << json::dump(out, true) << '\n';
  return 0;
}

int kafka(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "decode") return kafka_decode({args.begin() + 1, args.end()});
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << decode_usage;
    return 0;
  }
  return fail("kafka", "expected 'decode' (see: nodus kafka decode --help)", exit_usage);
}

}  // namespace nodus::cli
