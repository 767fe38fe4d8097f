// kafka.config files (Java properties, as the seeds and Kafka's own tools use them) and the small
// librdkafka helpers the rest of the Kafka layer shares.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "kafka_handles.hpp"

namespace nodus::stream_kafka {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ends_with_continuation(std::string_view line) {
  std::size_t backslashes = 0;
  for (auto it = line.rbegin(); it != line.rend() && *it == '\\'; ++it) ++backslashes;
  return backslashes % 2 == 1;
}

// A logical line of a properties file: continuations joined, with the number of its first line.
struct logical_line {
  std::string text;
  int number = 0;
};

std::vector<logical_line> logical_lines(std::string_view text) {
  std::vector<logical_line> lines;
  std::istringstream in{std::string(text)};
  std::string physical;
  bool continuing = false;
  int number = 0;
  while (std::getline(in, physical)) {
    ++number;
    if (!physical.empty() && physical.back() == '\r') physical.pop_back();
    std::string_view piece = physical;
    if (continuing) {
      piece = trim(piece).empty() ? std::string_view{} : piece.substr(piece.find_first_not_of(" \t\f"));
    } else {
      const auto first = trim(piece);
      if (first.empty() || first.front() == '#' || first.front() == '!') continue;  // comments never continue
      lines.push_back({{}, number});
    }
    continuing = ends_with_continuation(piece);
    if (continuing) piece.remove_suffix(1);
    lines.back().text += piece;
  }
  return lines;
}

// sasl.jaas.config, as the Java clients take it:
//   org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
// librdkafka has no JAAS; for the username/password modules it takes sasl.username/sasl.password.
result_or_failure<std::pair<std::string, std::string>> jaas_credentials(std::string_view jaas,
                                                                        const std::string& origin) {
  const auto bad = [&](std::string why) {
    return fail(std::make_error_code(std::errc::invalid_argument),
                fmt::format("{}: sasl.jaas.config: {}", origin, why));
  };
  std::string_view rest = trim(jaas);
  const auto module_end = rest.find_first_of(" \t");
  const auto module = rest.substr(0, module_end);
  if (!module.ends_with("PlainLoginModule") && !module.ends_with("ScramLoginModule"))
    return bad("only PlainLoginModule and ScramLoginModule (username and password) can be used with librdkafka");
  rest = module_end == std::string_view::npos ? std::string_view{} : trim(rest.substr(module_end));
  const auto flag_end = rest.find_first_of(" \t;");
  rest = flag_end == std::string_view::npos ? std::string_view{} : rest.substr(flag_end);
  std::string username, password;
  bool have_username = false, have_password = false;
  while (true) {
    rest = trim(rest);
    if (rest.empty() || rest.front() == ';') break;
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) return bad("expected key=\"value\" options after the login module");
    const auto key = trim(rest.substr(0, eq));
    rest = trim(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      if (i >= rest.size()) return bad(fmt::format("the value of '{}' has no closing quote", key));
      rest.remove_prefix(i + 1);
    } else {
      const auto end = std::min(rest.find_first_of(" \t;"), rest.size());
      value = rest.substr(0, end);
      rest.remove_prefix(end);
    }
    if (key == "username") username = std::move(value), have_username = true;
    if (key == "password") password = std::move(value), have_password = true;
  }
  if (!have_username || !have_password) return bad("expected both username=\"...\" and password=\"...\"");
  return std::pair{std::move(username), std::move(password)};
}

bool sensitive(std::string_view name) {
  return name.find("password") != std::string_view::npos || name.find("secret") != std::string_view::npos ||
         name.find("jaas") != std::string_view::npos || name.find("key") != std::string_view::npos;
}

// The Java clients' truststore (ssl.truststore.location, .type, .password): librdkafka reads CA
// certificates from PEM only (ssl.ca.location). A PEM truststore, which Java reads too since
// Kafka 2.7 (KIP-651), becomes ssl.ca.location; JKS and PKCS12 fail with what to do instead.
struct java_truststore {
  std::string location, type = "JKS", where;

  result_or_failure<> add_to(kafka_config& config) const {
    if (location.empty()) return outcome::success();
    std::string upper = type;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper == "PEM") {
      config.properties.push_back({"ssl.ca.location", location, where});
      return outcome::success();
    }
    return fail(std::make_error_code(std::errc::invalid_argument),
                fmt::format("{}: ssl.truststore.location is a {} truststore, which nodus (librdkafka) cannot read: "
                            "give the CA certificates as PEM, with ssl.truststore.type=PEM (Java clients read "
                            "it too) or ssl.ca.location=FILE.pem (`keytool -exportcert -rfc -keystore FILE` "
                            "writes one)",
                            where, upper));
  }
};

}  // namespace

result_or_failure<kafka_config> kafka_config::parse(std::string_view text, std::string_view origin) {
  kafka_config config;
  java_truststore truststore;
  for (const auto& line : logical_lines(text)) {
    const auto where = fmt::format("{}:{}", origin, line.number);
    const std::string_view content = trim(line.text);
    const auto separator = content.find_first_of("=:");
    if (separator == std::string_view::npos)
      return fail(std::make_error_code(std::errc::invalid_argument), fmt::format("{}: expected key=value", where));
    const std::string name(trim(content.substr(0, separator)));
    const std::string value(trim(content.substr(separator + 1)));
    if (name.empty())
      return fail(std::make_error_code(std::errc::invalid_argument),
                  fmt::format("{}: a property without a name", where));
    if (name == "bootstrap.servers") {
      config.bootstrap_servers = value;
    } else if (name == "sasl.jaas.config") {
      auto credentials = jaas_credentials(value, where);
      if (!credentials) return credentials.error();
      config.properties.push_back({"sasl.username", std::move(credentials.value().first), where});
      config.properties.push_back({"sasl.password", std::move(credentials.value().second), where});
    } else if (name == "ssl.truststore.location") {
      truststore.location = value, truststore.where = where;
    } else if (name == "ssl.truststore.type") {
      truststore.type = value;
    } else if (name == "ssl.truststore.password") {
      // Only a JKS or PKCS12 truststore has one, and those fail below.
    } else if (name == "ssl.truststore.certificates") {
      config.properties.push_back({"ssl.ca.pem", value, where});  // Java's inline PEM certificates
    } else if (name == "ssl.endpoint.identification.algorithm" && value.empty()) {
      config.properties.push_back({name, "none", where});  // empty: Java's way to say none
    } else {
      config.properties.push_back({name, value, where});
    }
  }
  if (auto added = truststore.add_to(config); !added) return added.error();
  // Every property must mean something to librdkafka: a typo fails here, by name.
  detail::conf_ptr scratch(rd_kafka_conf_new());
  for (const auto& p : config.properties)
    if (auto set = detail::set_property(scratch.get(), p.name, p.value, p.origin); !set) return set.error();
  return config;
}

result_or_failure<kafka_config> kafka_config::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(std::make_error_code(std::errc::no_such_file_or_directory),
                fmt::format("cannot read kafka config file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

bool valid_stream_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 200 || name == "." || name == ".." || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

namespace detail {

void route_logs(rd_kafka_conf_t* conf, log_target* target) {
  rd_kafka_conf_set_opaque(conf, target);
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    auto* to = static_cast<log_target*>(rd_kafka_opaque(rk));
    if (!to || !to->log) return;
    auto spd = level <= 3   ? spdlog::level::err
               : level == 4 ? spdlog::level::warn
               : level == 5 ? spdlog::level::info
                            : spdlog::level::debug;
    const std::string_view text(line);
    if (text.find("SASL authentication error") != std::string_view::npos ||
        text.find("SSL handshake failed") != std::string_view::npos) {
      to->refused = true;
      spd = spdlog::level::debug;
    } else if (to->refused && text.find("brokers are down") != std::string_view::npos) {
      spd = spdlog::level::debug;
    }
    if (spd >= spdlog::level::warn) {
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(to->mutex);
      auto [it, first] = to->last_loud.try_emplace(facility, now);
      if (!first && now - it->second < std::chrono::seconds(10))
        spd = spdlog::level::debug;
      else
        it->second = now;
    }
    to->log->log(spd, "{}: librdkafka {}: {}", to->prefix, facility, line);
  });
}

result_or_failure<> set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
                                 const std::string& origin) {
  char reason[512] = {};
  const auto res = rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason);
  if (res == RD_KAFKA_CONF_OK) return outcome::success();
  const auto where = origin.empty() ? std::string{} : origin + ": ";
  if (res == RD_KAFKA_CONF_UNKNOWN)
    return fail(std::make_error_code(std::errc::invalid_argument),
                fmt::format("{}unknown kafka property '{}' (librdkafka has no such setting)", where, name));
  return fail(std::make_error_code(std::errc::invalid_argument),
              fmt::format("{}invalid value for kafka property '{}'{}", where, name,
                          sensitive(name) ? std::string{} : fmt::format(": {}", reason)));
}

result_or_failure<conf_ptr> make_conf(const kafka_config& config,
                                      const std::vector<std::pair<std::string, std::string>>& defaults,
                                      const std::vector<std::pair<std::string, std::string>>& fixed, log_target* logs) {
  conf_ptr conf(rd_kafka_conf_new());
  if (auto set = set_property(conf.get(), "bootstrap.servers", config.bootstrap_servers); !set) return set.error();
  for (const auto& [name, value] : defaults)
    if (auto set = set_property(conf.get(), name, value); !set) return set.error();
  for (const auto& p : config.properties)
    if (auto set = set_property(conf.get(), p.name, p.value, p.origin); !set) return set.error();
  for (const auto& [name, value] : fixed)
    if (auto set = set_property(conf.get(), name, value); !set) return set.error();
  route_logs(conf.get(), logs);
  return conf;
}

kafka_config for_consumer(const kafka_config& config) {
  // The properties of librdkafka's CONFIGURATION.md marked P (producer only) that a Java
  // client's file may hold.
  static constexpr std::string_view producer_only[] = {"request.timeout.ms",      "acks",
                                                       "request.required.acks",   "linger.ms",
                                                       "queue.buffering.max.ms",  "message.timeout.ms",
                                                       "delivery.timeout.ms",     "compression.type",
                                                       "compression.codec",       "batch.size",
                                                       "batch.num.messages",      "enable.idempotence",
                                                       "transactional.id",        "retries",
                                                       "message.send.max.retries"};
  kafka_config consumer = config;
  std::erase_if(consumer.properties, [](const kafka_property& p) {
    return std::find(std::begin(producer_only), std::end(producer_only), p.name) != std::end(producer_only);
  });
  return consumer;
}

stream_error to_stream_error(rd_kafka_resp_err_t err, const std::string& what) {
  auto reason = fmt::format("{}: {}", what, rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return {};
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: return {stream_errc::too_large, std::move(reason)};
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return {stream_errc::unknown_stream, std::move(reason)};
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS: return {stream_errc::kafka_unavailable, std::move(reason)};
    default: return {stream_errc::internal, std::move(reason)};
  }
}

}  // namespace detail
}  // namespace nodus::stream_kafka
