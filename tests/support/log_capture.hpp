#pragma once
// A logger that writes into memory, so tests can check what a node logged.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "eventually.hpp"

namespace nodus::test {

/// Keeps every formatted log line in a string.
class memory_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

private:
  std::string text_;
};

/// A logger for `node_options::logger` whose output tests can search.
class log_capture {
public:
  log_capture() : sink_(std::make_shared<memory_sink>()), logger_(std::make_shared<spdlog::logger>("test", sink_)) {
    logger_->set_level(spdlog::level::debug);
  }

  std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  std::string text() const { return sink_->text(); }
  bool contains(const std::string& needle) const { return text().find(needle) != std::string::npos; }
  /// Waits (at most `limit`) for a line containing `needle`. Use it for every line a test expects:
  /// a node writes its log from its own threads, so a line may lag behind the state a test
  /// waited for, and checking once right after is a race.
  bool eventually_contains(const std::string& needle, std::chrono::milliseconds limit = std::chrono::seconds(5)) const {
    return eventually([&] { return contains(needle); }, limit);
  }

private:
  std::shared_ptr<memory_sink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace nodus::test
