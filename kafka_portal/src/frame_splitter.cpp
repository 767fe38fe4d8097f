#include "frame_splitter.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "nodus/core/error.hpp"

namespace nodus::kafka_portal::detail {

void frame_splitter::emit_pass(std::vector<piece>& out, byte_view b) {
  if (b.empty()) return;
  if (out.empty() || out.back().held) out.push_back(piece{});
  out.back().data.insert(out.back().data.end(), b.begin(), b.end());
}

result_or_failure<> frame_splitter::feed(byte_view in, std::vector<piece>& out) {
  // Runs while there are bytes, and once more for a state that can move on without any (a head
  // or held frame just completed by the last bytes).
  const auto can_move = [&] {
    if (!in.empty()) return true;
    if (state_ == state::head) return pending_.size() - 4 >= std::min(size_, peek_);
    return state_ == state::holding && pending_.size() - 4 == size_;
  };
  while (can_move()) {
    switch (state_) {
      case state::size: {
        const auto take = std::min<std::size_t>(4 - pending_.size(), in.size());
        pending_.insert(pending_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        in = in.subspan(take);
        if (pending_.size() < 4) break;
        const std::uint32_t size = (std::uint32_t{pending_[0]} << 24) | (std::uint32_t{pending_[1]} << 16) |
                                   (std::uint32_t{pending_[2]} << 8) | std::uint32_t{pending_[3]};
        if (size > 0x7fffffffU)
          return fail(errc::malformed, fmt::format("a frame size of {} bytes, over Kafka's limit of 2^31-1", size));
        size_ = size;
        state_ = state::head;
        break;
      }
      case state::head: {
        const auto want = std::min(size_, peek_);
        const auto have = pending_.size() - 4;
        const auto take = std::min(want - have, in.size());
        pending_.insert(pending_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        in = in.subspan(take);
        if (pending_.size() - 4 < want) break;
        auto action = decide_(byte_view(pending_).subspan(4), size_);
        if (!action) return action.error();
        if (action.value() == frame_action::pass) {
          emit_pass(out, pending_);
          left_ = size_ - want;
          pending_.clear();
          state_ = left_ == 0 ? state::size : state::passing;
        } else {
          if (size_ > max_held_)
            return fail(errc::too_large, fmt::format("a frame of {} bytes, over the portal's limit of {} for the "
                                                     "frames it reads",
                                                     size_, max_held_));
          pending_.reserve(4 + size_);
          state_ = state::holding;  // completed below, at once when the head was the whole frame
        }
        break;
      }
      case state::passing: {
        const auto take = std::min(left_, in.size());
        emit_pass(out, in.first(take));
        in = in.subspan(take);
        left_ -= take;
        if (left_ == 0) state_ = state::size;
        break;
      }
      case state::holding: break;
    }
    if (state_ == state::holding) {
      const auto take = std::min(size_ - (pending_.size() - 4), in.size());
      pending_.insert(pending_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
      in = in.subspan(take);
      if (pending_.size() - 4 < size_) continue;
      if (done_)
        if (auto ok = done_(byte_view(pending_).subspan(4)); !ok) return ok.error();
      out.push_back(piece{.held = true, .data = bytes(pending_.begin() + 4, pending_.end())});
      pending_.clear();
      state_ = state::size;
    }
  }
  return outcome::success();
}

}  // namespace nodus::kafka_portal::detail
