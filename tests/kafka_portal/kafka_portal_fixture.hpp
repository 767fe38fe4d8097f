#pragma once
// What the Kafka portal tests share: starting an outlet and an inlet from a test's node.

#include "nodus/kafka_portal/kafka_portal.hpp"

namespace nodus::test {

inline task<result_or_failure<portal::tcp_outlet>> make_kafka_outlet(context& ctx, kafka_portal::outlet_options o) {
  co_return co_await kafka_portal::create_kafka_outlet(ctx, "kafka", std::move(o));
}
inline task<result_or_failure<kafka_portal::kafka_inlet>> make_kafka_inlet(context& ctx,
                                                                           kafka_portal::inlet_options o) {
  co_return co_await kafka_portal::create_kafka_inlet(ctx, "kafka-inlet", std::move(o));
}

}  // namespace nodus::test
