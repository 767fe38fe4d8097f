// Fuzzes the TCP framing: `tcp_frame::decoder` fed a byte stream in reads of any size, and
// `tcp_frame::decode` on every frame it hands out.
//
// Input: [config] then operations, each adding bytes to the current read:
//   0x00-0x7f  the next op+1 bytes
//   0x80-0xef  the next op-0x7f bytes, then the read is delivered
//   0xf0-0xff  u16 k, byte b: ((k & 0x1fff) * 16 + (op & 15) + 1) copies of b (at most 128 KiB),
//              then the read is delivered
// (the last one lets a short input carry a frame too big for the decoder's staging area).
// `config & 7` picks the decoder's maximum frame size (0 to 1 MiB).
//
// Properties: the frames handed out are those of a plain reference splitter, in order, up to
// the same first error; `buffer()` is never empty when bytes are waiting; a large frame split
// into head and payload has a head that `find_head` agrees with; `tcp_frame::decode` of a frame
// succeeds exactly when decoding its whole body does, with the same message; after an error
// every call fails.

#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "nodus/transports/tcp_frame.hpp"

using namespace nodus;
using nodus::fuzz::input;

namespace {

// Keep a run short: the stream is copied a few times, and decoding a malformed frame costs a
// msgpack exception (a stream of empty frames holds thousands), so only the first frames and
// every large one are decoded; all are compared with the reference.
constexpr std::size_t max_stream = 256 * 1024;
constexpr std::size_t max_decoded = 32;
// 1 MiB stands in for the 16 MiB default: the same code, but the decoder allocates (and zeroes)
// a large frame's declared size when its prefix arrives, and 16 MiB at a time made runs ~10x slower.
constexpr std::size_t max_sizes[8] = {0, 1, 16, 1024, 65532, 65533, 200000, 1024 * 1024};

struct split_result {
  std::vector<bytes> frames;
  std::optional<std::error_code> error;
  bool partial = false;  // bytes of an unfinished frame at the end
};

// The wire format read the simplest way: version byte, then [u32 length][body] frames.
split_result reference_split(byte_view stream, std::size_t max_size) {
  split_result out;
  if (stream.empty()) return out;
  if (stream[0] != tcp_frame::protocol_version) {
    out.error = make_error_code(errc::unsupported_version);
    return out;
  }
  std::size_t at = 1;
  while (at < stream.size()) {
    const auto left = stream.size() - at;
    if (left < 4) {
      out.partial = true;
      break;
    }
    const std::size_t body = (std::size_t{stream[at]} << 24) | (std::size_t{stream[at + 1]} << 16) |
                             (std::size_t{stream[at + 2]} << 8) | std::size_t{stream[at + 3]};
    if (body > max_size) {
      out.error = make_error_code(errc::too_large);
      break;
    }
    if (left - 4 < body) {
      out.partial = true;
      break;
    }
    out.frames.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(at + 4),
                            stream.begin() + static_cast<std::ptrdiff_t>(at + 4 + body));
    at += 4 + body;
  }
  return out;
}

bool same(const result<transport_message>& a, const result<transport_message>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || a.value() == b.value();
}

class harness {
public:
  explicit harness(std::size_t max_size) : max_size_(max_size), decoder_(max_size) {}

  // Writes one read into the decoder, as a socket would, and takes every frame out.
  void deliver(byte_view read) {
    stream_.insert(stream_.end(), read.begin(), read.end());
    for (std::size_t at = 0; at < read.size() && !error_;) {
      const auto into = decoder_.buffer();
      NODUS_FUZZ_CHECK(!into.empty());
      const auto n = std::min(into.size(), read.size() - at);
      std::memcpy(into.data(), read.data() + at, n);
      at += n;
      if (auto committed = decoder_.commit(n); !committed) {
        error_ = committed.error();
        break;
      }
      drain();
    }
  }

  void finish() {
    const auto expected = reference_split(stream_, max_size_);
    NODUS_FUZZ_CHECK(frames_ == expected.frames);
    NODUS_FUZZ_CHECK(error_ == expected.error);
    if (!stream_.empty()) NODUS_FUZZ_CHECK(decoder_.version_received() == stream_[0]);
    if (error_) {
      NODUS_FUZZ_CHECK(!decoder_.next_frame());
      NODUS_FUZZ_CHECK(!decoder_.commit(1));
    } else {
      NODUS_FUZZ_CHECK(decoder_.in_frame() == expected.partial);
    }
  }

  std::size_t size() const { return stream_.size(); }

private:
  void drain() {
    for (;;) {
      auto next = decoder_.next_frame();
      if (!next) {
        error_ = next.error();
        return;
      }
      if (!next.value()) return;
      check_frame(std::move(*next.value()));
    }
  }

  void check_frame(tcp_frame::frame f) {
    bytes whole = f.body;
    if (f.payload) {
      const auto head = find_head(f.body);
      NODUS_FUZZ_CHECK(head && head->length == f.body.size() && head->payload_size == f.payload->size());
      whole.insert(whole.end(), f.payload->begin(), f.payload->end());
    }
    frames_.push_back(whole);
    if (frames_.size() > max_decoded && !f.payload) return;
    NODUS_FUZZ_CHECK(same(tcp_frame::decode(std::move(f)), decode_transport_message(byte_view(whole))));
  }

  std::size_t max_size_;
  tcp_frame::decoder decoder_;
  bytes stream_;
  std::vector<bytes> frames_;
  std::optional<std::error_code> error_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  harness h(max_sizes[in.u8() & 7]);
  bytes read;
  while (!in.empty() && h.size() + read.size() < max_stream) {
    const auto op = in.u8();
    bool end_of_read = true;
    if (op <= 0x7f) {
      const auto b = in.take(op + 1u);
      read.insert(read.end(), b.begin(), b.end());
      end_of_read = false;
    } else if (op <= 0xef) {
      const auto b = in.take(op - 0x7fu);
      read.insert(read.end(), b.begin(), b.end());
    } else {
      const std::size_t count = (in.u16() & 0x1fffu) * 16u + (op & 0x0fu) + 1;
      read.insert(read.end(), count, in.u8());
    }
    if (end_of_read) {
      h.deliver(read);
      read.clear();
    }
  }
  h.deliver(read);
  h.finish();
  return 0;
}
