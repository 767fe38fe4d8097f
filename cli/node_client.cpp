#include "node_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "home.hpp"
#include "project_files.hpp"

namespace nodus::cli {
namespace fs = std::filesystem;

namespace {

std::string last_log_lines(const std::string& name, std::size_t count) {
  std::ifstream in(node_directory(name) / "node.log");
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.pop_front();
  }
  std::string out;
  for (const auto& line : lines) out += "\n  " + line;
  return out;
}

// The child: a session of its own (a terminal's ^C does not reach it), output to node.log,
// then this very program again as `nodus node run NAME`.
[[noreturn]] void become_node(const std::string& name) {
  ::setsid();
  const auto log = node_directory(name) / "node.log";
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out >= 0) {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
  }
  if (in >= 0) ::dup2(in, STDIN_FILENO);
  const char* argv[] = {"nodus", "node", "run", name.c_str(), nullptr};
  ::execv("/proc/self/exe", const_cast<char* const*>(argv));
  _exit(127);
}

}  // namespace

result_or_failure<json::value> start_node_process(const std::string& name) {
  const pid_t child = ::fork();
  if (child < 0) return nodus::fail(std::error_code(errno, std::generic_category()), "cannot start a process");
  if (child == 0) become_node(name);
  const auto socket = node_directory(name) / "api.sock";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Waits for the state itself: the API answering. The node process reports its own end too.
  long long expected = child;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (!exited && ::waitpid(child, &status, WNOHANG) == child) {
      exited = true;
      // Another command may have started the same node a moment before us: then it is theirs.
      const auto other = running_pid(name);
      if (!other)
        return nodus::fail(std::make_error_code(std::errc::no_such_process),
                           "node '" + name + "' did not start; the end of its log:" + last_log_lines(name, 5));
      expected = *other;
    }
    if (fs::exists(socket)) {
      auto answer = control::call(socket, "GET", "/node", {}, std::chrono::seconds(2));
      const auto* pid = answer ? answer.value().body.find("pid") : nullptr;
      if (answer && answer.value().status == 200 && pid && (pid->as_int() == expected || expected == 0))
        return answer.value().body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nodus::fail(std::make_error_code(std::errc::timed_out),
                     "node '" + name + "' did not answer within 20 s (pid " + std::to_string(child) +
                         "); the end of its log:" + last_log_lines(name, 5));
}

result_or_failure<> write_new_node(const std::string& name, const std::string& identity, const std::string& listener,
                                   const std::string& api_tcp, const std::string& metrics, bool relay_service,
                                   const json::value& project) {
  const auto directory = node_directory(name);
  std::error_code ec;
  fs::create_directories(directory.parent_path(), ec);
  if (!ec) fs::create_directory(directory, ec);
  if (ec) return nodus::fail(ec, directory.string() + ": " + ec.message());
  fs::permissions(directory, fs::perms::owner_all, ec);
  fs::permissions(nodus_home(), fs::perms::owner_all, ec);
  json::value config;
  config["name"] = name;
  config["identity"] = identity.empty() ? name : identity;
  if (!identity.empty() && fs::exists(default_vault_directory() / "identities" / identity))
    config["vault"] = default_vault_directory().string();
  if (!project.is_null()) config["project"] = project;
  if (!api_tcp.empty()) config["api_tcp"] = api_tcp;
  if (!metrics.empty()) config["metrics"] = metrics;
  json::value listeners = json::array{};
  if (!listener.empty()) {
    json::value entry;
    entry["address"] = listener;
    entry["expose"] = json::array{};
    if (relay_service) entry["expose"].push_back("forwarding_service");
    listeners.push_back(std::move(entry));
  }
  config["services"]["tcp_listeners"] = std::move(listeners);
  return write_json_file(directory / "node.json", config);
}

result_or_failure<> ensure_running(const std::string& name) {
  if (auto valid = check_node_name(name); !valid) return valid.error();
  if (running_pid(name)) return outcome::success();
  if (!fs::exists(node_directory(name) / "node.json")) {
    if (name != default_node_name)
      return nodus::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                         "no node named '" + name + "' (create it with: nodus node create " + name + ")");
    if (auto written = write_new_node(name, "", "127.0.0.1:0", "", ""); !written) return written.error();
    std::cerr << "nodus: created the default node '" << name << "'\n";
  }
  auto started = start_node_process(name);
  if (!started) return started.error();
  return outcome::success();
}

result_or_failure<control::response> call_node(const std::string& name, const std::string& method,
                                               const std::string& path, const json::value& body,
                                               std::chrono::milliseconds timeout) {
  if (auto running = ensure_running(name); !running) return running.error();
  return control::call(node_directory(name) / "api.sock", method, path, body, timeout);
}

std::optional<output_format> parse_output(const std::string& text) {
  if (text == "text" || text.empty()) return output_format::text;
  if (text == "json") return output_format::json;
  return std::nullopt;
}

int run_call(const std::string& command, const std::string& node, const std::string& method, const std::string& path,
             const json::value& body, output_format format, const std::function<void(const json::value&)>& print_text,
             std::chrono::milliseconds timeout) {
  auto answer = call_node(node, method, path, body, timeout);
  if (!answer) return fail(command, answer.error().message());
  const auto& r = answer.value();
  if (r.status >= 300) {
    const auto* error = r.body.find("error");
    const std::string message = error && error->as_string() ? *error->as_string() : json::dump(r.body);
    return fail(command, message, r.status == 400 ? exit_usage : exit_failure);
  }
  if (format == output_format::json)
    std::cout << json::dump(r.body, true) << '\n';
  else
    print_text(r.body);
  return 0;
}

std::string path_segment(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace nodus::cli
