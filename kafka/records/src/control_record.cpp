#include "nodus/kafka/records/control_record.hpp"

#include "wire.hpp"

namespace nodus::kafka::records {

result_or_failure<control_record> decode_control_record(const record& r) {
  if (!r.key || r.key->size() < 4) return fail(errc::malformed, "control record: key shorter than 4 bytes");
  detail::reader key(*r.key);
  control_record c;
  c.key_version = key.i16();
  c.type = key.i16();
  if (c.type != static_cast<std::int16_t>(control_type::abort) &&
      c.type != static_cast<std::int16_t>(control_type::commit))
    return c;
  if (!r.value || r.value->size() < 6)
    return fail(errc::malformed, "control record: marker value shorter than 6 bytes");
  detail::reader value(*r.value);
  c.value_version = value.i16();
  c.coordinator_epoch = value.i32();
  return c;
}

record make_control_record(control_type type, std::int32_t coordinator_epoch) {
  record r;
  r.key.emplace();
  detail::writer key(*r.key);
  key.be(0, 2);
  key.be(static_cast<std::uint16_t>(type), 2);
  r.value.emplace();
  detail::writer value(*r.value);
  value.be(0, 2);
  value.be(static_cast<std::uint32_t>(coordinator_epoch), 4);
  return r;
}

}  // namespace nodus::kafka::records
