#pragma once
/// A stream filter sees, and may change, the bytes of one portal connection at one end: what
/// this end reads from its socket before it goes to the other end, and what the other end sent
/// before this end writes it to its socket. The Kafka portal (nodus/kafka_portal) uses one to
/// rewrite the broker addresses in Kafka responses and to answer some requests itself.
///
/// One filter per connection, made by the inlet's or outlet's `filter` factory when the
/// connection opens; its functions run on the connection's strand, one call at a time per
/// direction, in stream order. A filter may hold bytes back (a partial frame) and release them
/// with a later call; what it holds is its own to bound. The portal's windows keep applying to
/// the bytes on the wire between the two ends: a filter that answers the client itself, or
/// grows a frame, is still held to the other end's window.

#include <functional>
#include <memory>
#include <string>

#include "nodus/core/bytes.hpp"
#include "nodus/core/failure.hpp"
#include "nodus/node/task.hpp"

namespace nodus::portal {

class stream_filter {
public:
  virtual ~stream_filter() = default;

  /// What one call of `from_socket` gives.
  struct output {
    bytes to_peer;    ///< goes on to the other end
    bytes to_socket;  ///< goes back to this end's socket (answers made here), after what is queued
  };

  /// Bytes this end read from its socket. A failure closes the connection; its reason goes to
  /// the log (the filter escapes anything that came from the network) and to the other end.
  virtual task<result_or_failure<output>> from_socket(byte_view in) = 0;
  /// Bytes the other end sent, before they are written to this end's socket: what to write.
  /// A failure closes the connection as for `from_socket`.
  virtual task<result_or_failure<bytes>> to_socket(byte_view in) = 0;
};

/// Makes the filter of each new connection; `endpoint` is this end's socket's peer (the client's
/// `host:port` at an inlet, the target at an outlet), for log lines.
using stream_filter_factory = std::function<std::unique_ptr<stream_filter>(const std::string& endpoint)>;

}  // namespace nodus::portal
