#include "cli.hpp"

#include <iostream>

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
