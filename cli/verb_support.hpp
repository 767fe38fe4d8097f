#pragma once
// What the verbs that call a node's control API share (service_commands.cpp,
// kafka_portal_commands.cpp): a verb's command line, printing its answers, routes and trust
// options, and dispatching a noun's verbs.

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "home.hpp"
#include "node_client.hpp"
#include "route_text.hpp"

namespace nodus::cli {
namespace po = boost::program_options;

// One verb's command line: its options, what it must be given, and what it prints.
struct verb_line {
  std::string command;  // e.g. "relay create"
  std::string synopsis;
  std::string examples;
  po::options_description options{"options"};
  po::positional_options_description positional;
  po::variables_map values;
  std::string node = default_node_name;
  std::string output;

  verb_line(std::string c, std::string s, std::string e, const char* node_flag = "at")
      : command(std::move(c)), synopsis(std::move(s)), examples(std::move(e)) {
    options.add_options()("help,h", "show this help")(
        node_flag, po::value(&node)->default_value(default_node_name),
        "the node that does it (default: the default node, created on first use)")("output", po::value(&output),
                                                                                   "text (default) or json");
  }
  // Parsed, or the exit code to return now.
  std::optional<int> parse(const std::vector<std::string>& args) {
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
      std::cout << "usage: nodus " << command << ' ' << synopsis << "\n\n" << options;
      if (!examples.empty()) std::cout << "\nexamples:\n" << examples;
      return 0;
    }
    if (auto done = cli::parse(command, synopsis, args, options, positional, values)) return done;
    if (!parse_output(output)) return fail(command, "--output is text or json, not '" + output + "'", exit_usage);
    if (auto valid = check_node_name(node); !valid) return fail(command, valid.error().message(), exit_usage);
    return std::nullopt;
  }
  output_format format() const { return *parse_output(output); }
};

/// Prints each entry of a list as its `fields`, two spaces apart (a missing field as -).
std::function<void(const json::value&)> rows(std::vector<std::string> fields);
/// Prints one created or deleted thing: `label` and its fields.
std::function<void(const json::value&)> one(std::string label, std::vector<std::string> fields);
json::value text_list(const std::vector<std::string>& items);
/// A route option as the API wants it (Nodus text), or a usage error.
std::optional<int> route_option(const std::string& command, const std::string& text, user_route& out);
void add_trust_options(verb_line& v, std::vector<std::string>& authorized, bool& everyone);
/// Whether node.json of `node` makes it a project's member or authority.
bool node_has_project(const std::string& node);
/// One of --authorized and --trust-everyone, or neither for a `node` with a project (its
/// members), checked before any node is started for the command.
std::optional<int> check_trust(const std::string& command, const std::vector<std::string>& authorized, bool everyone,
                               const std::string& node);
void put_trust(json::value& body, const std::vector<std::string>& authorized, bool everyone);

/// An inlet's --to, --via and trust options into `body` (`to`, `via`, the trust choice), or a
/// usage error; `outlet` names the outlet's usual address in the hint.
std::optional<int> put_inlet_way(const std::string& command, const std::string& to, const std::string& via,
                                 const std::vector<std::string>& authorized, bool everyone, const std::string& outlet,
                                 const std::string& node, json::value& body);

using verb_handler = int (*)(const std::vector<std::string>&);
struct verb_entry {
  const char* name;
  verb_handler run;
};
/// Runs the verb `args[0]` of `noun`; a usage line when there is none or it is unknown.
int dispatch(const std::string& noun, const std::vector<std::string>& args, std::initializer_list<verb_entry> verbs);

}  // namespace nodus::cli
