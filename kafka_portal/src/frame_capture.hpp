#pragma once
// A Kafka inlet's record of every frame its clients sent and received, in the format the Kafka
// golden test reads (NODUS_KAFKA_FRAMES, tests/kafka/golden.test.cpp): a JSON object whose
// `items` each have `kind` (request or response), `api`, `api_version` and `frame_hex` (the
// frame with its size). The file is valid JSON after every frame: each new item is written over
// the closing `]}` of the one before.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::kafka_portal::detail {

class frame_capture {
public:
  /// Frames recorded at most; later ones are counted, not written (a capture is for debugging).
  static constexpr std::size_t max_frames = 100000;

  static result_or_failure<std::shared_ptr<frame_capture>> open(const std::string& path);
  ~frame_capture();

  /// Records one frame (`frame` without its size).
  void add(bool request, std::int16_t api_key, std::int16_t api_version, byte_view frame);

private:
  explicit frame_capture(std::FILE* f) : file_(f) {}
  std::mutex mutex_;
  std::FILE* file_;
  std::size_t frames_ = 0;
};

}  // namespace nodus::kafka_portal::detail
