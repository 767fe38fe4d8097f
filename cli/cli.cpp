#include "cli.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "nodus/core/address.hpp"
#include "nodus/core/bytes.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

int fail(const std::string& command, const std::string& message, int code) {
  std::cerr << "nodus " << command << ": " << message << '\n';
  return code;
}

std::optional<int> parse(const std::string& command, const std::string& synopsis, const std::vector<std::string>& args,
                         const po::options_description& options, const po::positional_options_description& positional,
                         po::variables_map& values, const po::options_description* hidden) {
  try {
    po::options_description all;
    all.add(options);
    if (hidden) all.add(*hidden);
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), values);
    if (values.count("help")) {
      std::cout << "usage: nodus " << command << ' ' << synopsis << "\n\n" << options;
      return 0;
    }
    po::notify(values);
  } catch (const po::error& e) {
    return fail(command, std::string(e.what()) + " (see: nodus " + command + " --help)", exit_usage);
  }
  return std::nullopt;
}

}  // namespace nodus::cli

namespace nodus::cli {

result_or_failure<std::vector<std::string>> parse_host_ports(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto comma = text.find(',', start);
    const auto entry = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() : comma + 1;
    const auto colon = entry.rfind(':');
    const auto port = colon == std::string::npos ? std::string() : entry.substr(colon + 1);
    const bool numeric = !port.empty() && port.size() <= 5 &&
                         std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
    if (colon == 0 || !numeric || std::stoul(port) == 0 || std::stoul(port) > 65535 || !address::valid_value(entry))
      return nodus::fail(std::make_error_code(std::errc::invalid_argument),
                         "'" + printable(as_bytes(entry)) + "' is not HOST:PORT (e.g. 127.0.0.1:9092)");
    out.push_back(entry);
  }
  return out;
}

}  // namespace nodus::cli
