#pragma once
// Cuts one direction of a Kafka connection into frames (a 4-byte big-endian size, then that many
// bytes), as the bytes arrive in chunks cut anywhere. For each frame it asks `decide`, given the
// frame's first bytes, whether to pass the frame on as it arrives (most frames: Produce and Fetch
// bodies are never held) or to hold it whole for the filter to read and perhaps rewrite.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"

namespace nodus::kafka_portal::detail {

/// What to do with one frame.
enum class frame_action {
  pass,  ///< pass it on unchanged as it arrives
  hold,  ///< hold it whole (up to `max_held_frame`) and hand it over as a `piece`
};

/// One piece of the output, in stream order.
struct piece {
  bool held = false;  ///< a whole frame's body (no size) for the filter; else bytes to pass on as they are
  bytes data;
};

class frame_splitter {
public:
  /// Given the first `min(size, peek_bytes)` bytes of a frame's body and its size: what to do.
  using decider = std::function<result_or_failure<frame_action>(byte_view head, std::size_t size)>;

  /// Called with each held frame's body as it completes, before the bytes after it are looked
  /// at (so what it records stays in stream order).
  using completion = std::function<result_or_failure<>(byte_view body)>;

  frame_splitter(decider decide, std::size_t max_held_frame, std::size_t peek_bytes = 1024, completion done = {})
      : decide_(std::move(decide)), done_(std::move(done)), max_held_(max_held_frame), peek_(peek_bytes) {}

  /// Takes `in`; appends what is ready to `out`. A failure (from `decide`, or a held frame over
  /// the limit) leaves the splitter unusable: the connection is to be closed.
  result_or_failure<> feed(byte_view in, std::vector<piece>& out);

private:
  enum class state { size, head, passing, holding };
  void emit_pass(std::vector<piece>& out, byte_view b);

  decider decide_;
  completion done_;
  std::size_t max_held_, peek_;
  state state_ = state::size;
  bytes pending_;         // the size, then the head, then (holding) the body so far
  std::size_t size_ = 0;  // the current frame's body size
  std::size_t left_ = 0;  // bytes of the current frame still to come, while passing
};

}  // namespace nodus::kafka_portal::detail
