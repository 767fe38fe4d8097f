// Indexes: committed offsets of consumer groups, written and read through the Admin API
// (AlterConsumerGroupOffsets, ListConsumerGroupOffsets) on the producer's handle.

#include <fmt/format.h>

#include "kafka_client_impl.hpp"

namespace nodus::stream_kafka {

using detail::admin_pending;
using detail::guarded;

namespace {

// The error of an admin result for one group and partition 0 of one topic, and its offset.
std::pair<std::int64_t, stream_error> group_offset(const rd_kafka_group_result_t* const* groups, std::size_t count,
                                                   const std::string& what) {
  if (count != 1) return {-1, {stream_errc::internal, what + ": no result for the group"}};
  if (const auto* error = rd_kafka_group_result_error(groups[0]))
    return {-1, detail::to_stream_error(rd_kafka_error_code(error), what)};
  const auto* partitions = rd_kafka_group_result_partitions(groups[0]);
  if (!partitions || partitions->cnt != 1) return {-1, {stream_errc::internal, what + ": no result for the partition"}};
  const auto& p = partitions->elems[0];
  if (p.err) return {-1, detail::to_stream_error(p.err, what)};
  return {p.offset, {}};
}

}  // namespace

detail::admin_options_ptr kafka_client::impl::admin_options(rd_kafka_admin_op_t op, admin_pending* pending) {
  detail::admin_options_ptr admin(rd_kafka_AdminOptions_new(producer.get(), op));
  char reason[256];
  rd_kafka_AdminOptions_set_request_timeout(admin.get(), timeout_ms(), reason, sizeof reason);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
    rd_kafka_AdminOptions_set_operation_timeout(admin.get(), timeout_ms(), reason, sizeof reason);
  if (pending) rd_kafka_AdminOptions_set_opaque(admin.get(), pending);
  return admin;
}

// Called with saves_mutex held. The newest waiting save is committed; those before it are
// answered with it, since it replaces them.
void kafka_client::impl::start_save(const std::pair<std::string, std::string>& key) {
  auto& queue = saves[key];
  auto batch = std::move(queue.waiting);
  queue.waiting.clear();
  queue.in_flight = true;
  const auto index = batch.back().first;
  const auto what = fmt::format("cannot save the index of '{}' on '{}'", key.first, key.second);
  auto* pending = new admin_pending{[this, key, batch = std::move(batch), what](rd_kafka_event_t* ev) mutable {
    auto error = detail::to_stream_error(rd_kafka_event_error(ev), what);
    if (!error) {
      std::size_t count = 0;
      const auto* groups =
          rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &count);
      error = group_offset(groups, count, what).second;
    }
    for (auto& [i, done] : batch) guarded(log(), done, error);
    std::lock_guard lock(saves_mutex);
    auto& q = saves[key];
    q.in_flight = false;
    if (!q.waiting.empty())
      start_save(key);
    else
      saves.erase(key);
  }};
  detail::partitions_ptr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), key.second.c_str(), 0)->offset = index;
  auto* alter = rd_kafka_AlterConsumerGroupOffsets_new(key.first.c_str(), offsets.get());
  auto admin = admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, pending);
  rd_kafka_AlterConsumerGroupOffsets(producer.get(), &alter, 1, admin.get(), events.get());
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
}

void kafka_client::save_offset(std::string group, std::string stream, std::int64_t index,
                               std::function<void(stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream,
                 [p, group = std::move(group), stream, index, done = std::move(done)](stream_error error) mutable {
                   if (error) return guarded(p->log(), done, std::move(error));
                   std::lock_guard lock(p->saves_mutex);
                   auto key = std::pair{group, stream};
                   auto& queue = p->saves[key];
                   queue.waiting.emplace_back(index, std::move(done));
                   if (!queue.in_flight) p->start_save(key);
                 });
}

void kafka_client::load_offset(std::string group, std::string stream,
                               std::function<void(std::int64_t, stream_error)> done) {
  auto* p = impl_.get();
  p->with_stream(stream, [p, group = std::move(group), stream, done = std::move(done)](stream_error error) mutable {
    if (error) return guarded(p->log(), done, -1, std::move(error));
    const auto what = fmt::format("cannot read the index of '{}' on '{}'", group, stream);
    auto* pending = new admin_pending{[p, done = std::move(done), what](rd_kafka_event_t* ev) mutable {
      if (auto err = rd_kafka_event_error(ev)) return guarded(p->log(), done, -1, detail::to_stream_error(err, what));
      std::size_t count = 0;
      const auto* groups =
          rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &count);
      auto [offset, failed] = group_offset(groups, count, what);
      guarded(p->log(), done, failed ? -1 : std::max<std::int64_t>(offset, -1), std::move(failed));
    }};
    detail::partitions_ptr partitions(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(partitions.get(), stream.c_str(), 0);
    auto* list = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions.get());
    auto admin = p->admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, pending);
    rd_kafka_ListConsumerGroupOffsets(p->producer.get(), &list, 1, admin.get(), p->events.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(list);
  });
}

}  // namespace nodus::stream_kafka
