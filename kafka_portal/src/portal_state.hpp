#pragma once
// What a Kafka inlet's or outlet's connections share: the brokers known so far, and the way to
// open a portal for a new one. Lives on a strand of its own; the filters (filters.cpp) reach it
// from their connections' strands by hopping onto it.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>  // before Asio's awaitable.hpp (docs/contributing.md)
#include <vector>

#include <spdlog/logger.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "frame_capture.hpp"
#include "nodus/kafka_portal/kafka_portal.hpp"
#include "record_protection.hpp"
#include "response_rewrite.hpp"

namespace nodus::kafka_portal::detail {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

/// A lock for coroutines that all run on one strand: held across awaits (opening a portal), so
/// two connections learning of the same broker at once open it once.
class strand_lock {
public:
  explicit strand_lock(strand_type s) : strand_(std::move(s)) {}
  task<> lock();
  void unlock();

private:
  strand_type strand_;
  bool held_ = false;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiting_;
};

/// The control context the portals are opened with: released when the node stops (by a worker's
/// shutdown), since it holds the node.
class control_holder {
public:
  void set(std::shared_ptr<context> c);
  std::shared_ptr<context> get() const;
  void release();

private:
  mutable std::mutex mutex_;
  std::shared_ptr<context> control_;
};

class outlet_state : public std::enable_shared_from_this<outlet_state> {
public:
  outlet_state(nodus::address at, outlet_options o, strand_type s, spdlog::logger& log)
      : at(std::move(at)), options(std::move(o)), strand(s), log(log), lock_(s) {}

  const nodus::address at;
  const outlet_options options;
  const strand_type strand;
  spdlog::logger& log;
  control_holder control;

  /// Each connection's filter.
  portal::stream_filter_factory filter_factory();
  /// Opens a portal outlet for each broker not seen before (on this state's strand).
  task<result_or_failure<>> ensure_outlets(std::vector<broker_address> brokers);
  /// The portal outlets opened so far.
  std::vector<nodus::address> broker_outlets() const;

private:
  task<result_or_failure<>> ensure_on_strand(std::vector<broker_address> brokers);
  strand_lock lock_;
  mutable std::mutex mutex_;                     // guards brokers_ (read from other threads by broker_outlets)
  std::map<std::int32_t, std::string> brokers_;  // node id -> host:port, each with its outlet
};

class inlet_state : public std::enable_shared_from_this<inlet_state> {
public:
  inlet_state(nodus::address at, inlet_options o, std::string host, std::uint16_t first, std::uint16_t last,
              strand_type s, spdlog::logger& log)
      : at(std::move(at)),
        options(std::move(o)),
        host(std::move(host)),
        first_port(first),
        last_port(last),
        strand(s),
        log(log),
        lock_(s) {}

  const nodus::address at;
  const inlet_options options;
  const std::string host;  // the address clients are told
  const std::uint16_t first_port, last_port;
  const strand_type strand;
  spdlog::logger& log;
  control_holder control;
  std::shared_ptr<frame_capture> capture;        // null unless options.capture_path is set
  std::shared_ptr<protection_state> protection;  // null unless options.protection.keys is set

  portal::stream_filter_factory filter_factory();
  /// The local address of each broker, opening a listener for each one not seen before.
  using local_addresses = std::map<std::int32_t, std::pair<std::string, std::int32_t>>;
  task<result_or_failure<local_addresses>> ensure_listeners(std::vector<broker_address> brokers);
  std::vector<broker_port> brokers() const;
  /// The way to the outlet for the bootstrap listener (`broker` < 0) or broker `broker`'s.
  portal::inlet_options portal_options(std::int32_t broker, std::string bind);

private:
  task<result_or_failure<local_addresses>> ensure_on_strand(std::vector<broker_address> brokers);
  strand_lock lock_;
  mutable std::mutex mutex_;  // guards brokers_, next_port_
  std::map<std::int32_t, broker_port> brokers_;
  std::map<std::int32_t, std::int32_t> ports_;  // node id -> local port
  std::uint32_t next_port_ = 0;
};

/// The address of the portal for broker `id` next to the one at `base`: `<base>.broker.<id>`.
nodus::address broker_address_of(const nodus::address& base, std::int32_t id);

/// The registry of Kafka inlets and outlets of every node, for `stop_*` and `inlet_brokers`.
void register_state(const context& ctx, const nodus::address& at, std::shared_ptr<void> state, bool inlet);
std::shared_ptr<void> find_state(const context& ctx, const nodus::address& at, bool inlet);
void unregister_state(const context& ctx, const nodus::address& at, bool inlet);

}  // namespace nodus::kafka_portal::detail
