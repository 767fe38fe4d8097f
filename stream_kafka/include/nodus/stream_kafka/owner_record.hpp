#pragma once
/// One record of the stream owners' topic (`owners.hpp`): its value is this struct as msgpack,
/// `[1, stream, owner, [parties...]]`, and its key the stream's name. Only msgpack here, so the
/// fuzz target of the stream protocol decodes it too (tests/fuzz/stream_protocol.fuzz.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include <msgpack.hpp>

namespace nodus::stream_kafka {

/// Who one stream belongs to, as kept in Kafka.
struct owner_record {
  std::uint8_t version = 1;
  std::string stream;                ///< the stream's name
  std::string owner;                 ///< the identifier that created it
  std::vector<std::string> parties;  ///< the identifiers it is for besides its owner
  MSGPACK_DEFINE(version, stream, owner, parties)
};

}  // namespace nodus::stream_kafka
