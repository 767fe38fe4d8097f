// Fuzzes the secure channel's frame parser, `secure_channel::frame::parse`.
//
// Input: the frame's bytes, as a decryptor receives them from the route.
//
// Properties: `parse` accepts exactly the frames of version 1 with a known kind (an abort reason
// of at most 1 KiB, an encrypted frame with its whole 10-byte header); the body it returns is the
// rest of the input after the header, in place; the frame writers rebuild the same bytes from
// the parts (handshake, abort, timeout, encrypted header).

#include "channel_frame.hpp"
#include "fuzz_support.hpp"

using namespace nodus;
namespace frame = nodus::secure_channel::frame;

namespace {

// Whether `wire` is a frame, from the format's description alone.
bool is_frame(byte_view wire) {
  if (wire.size() < frame::header_size || wire[0] != frame::version) return false;
  switch (wire[1]) {
    case 1:
    case 2:
    case 3:
    case 6: return true;
    case 5: return wire.size() - frame::header_size <= frame::max_abort_reason;
    case 4: return wire.size() >= frame::encrypted_header_size;
    default: return false;
  }
}

bytes rebuilt(const frame::parsed& p) {
  switch (p.kind) {
    case frame::kind::handshake_1:
    case frame::kind::handshake_2:
    case frame::kind::handshake_3: return frame::handshake(static_cast<int>(p.kind) - 1, p.body);
    case frame::kind::abort:
      return frame::abort(std::string_view(reinterpret_cast<const char*>(p.body.data()), p.body.size()));
    case frame::kind::handshake_timeout: {
      bytes out = frame::timeout();
      out.insert(out.end(), p.body.begin(), p.body.end());  // a timeout frame's body is ignored
      return out;
    }
    case frame::kind::encrypted: {
      bytes out;
      frame::encrypted_header(p.sequence, out);
      NODUS_FUZZ_CHECK(std::equal(out.begin(), out.end(), p.header.begin(), p.header.end()));
      out.insert(out.end(), p.body.begin(), p.body.end());
      return out;
    }
  }
  NODUS_FUZZ_CHECK(!"parse returned an unknown kind");
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_view wire(data, size);
  const auto parsed = frame::parse(wire);
  NODUS_FUZZ_CHECK(parsed.has_value() == is_frame(wire));
  if (!parsed) return 0;
  const auto header = parsed->kind == frame::kind::encrypted ? frame::encrypted_header_size : frame::header_size;
  NODUS_FUZZ_CHECK(parsed->body.data() == data + header && parsed->body.size() == size - header);
  if (parsed->kind == frame::kind::encrypted) NODUS_FUZZ_CHECK(parsed->header.data() == data);
  const bytes again = rebuilt(*parsed);
  NODUS_FUZZ_CHECK(std::equal(again.begin(), again.end(), wire.begin(), wire.end()));
  return 0;
}
