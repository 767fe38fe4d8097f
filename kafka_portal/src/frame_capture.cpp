#include "frame_capture.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "nodus/kafka/api.hpp"

namespace nodus::kafka_portal::detail {

namespace {
constexpr const char* closing = "\n]}\n";
constexpr long closing_size = 4;
}  // namespace

result_or_failure<std::shared_ptr<frame_capture>> frame_capture::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f)
    return fail(std::error_code(errno, std::generic_category()),
                fmt::format("cannot write the capture file {}: {}", path, std::strerror(errno)));
  std::fputs("{\"title\": \"Kafka frames recorded by a nodus kafka inlet\", \"items\": [", f);
  std::fputs(closing, f);
  std::fflush(f);
  return std::shared_ptr<frame_capture>(new frame_capture(f));
}

frame_capture::~frame_capture() { std::fclose(file_); }

void frame_capture::add(bool request, std::int16_t api_key, std::int16_t api_version, byte_view frame) {
  std::lock_guard lock(mutex_);
  if (frames_ >= max_frames) return;
  std::string hex;
  hex.reserve(2 * (frame.size() + 4));
  const auto size = static_cast<std::uint32_t>(frame.size());
  for (auto b : {size >> 24, (size >> 16) & 0xffU, (size >> 8) & 0xffU, size & 0xffU}) hex += fmt::format("{:02x}", b);
  for (auto b : frame) hex += fmt::format("{:02x}", b);
  std::fseek(file_, -closing_size, SEEK_END);
  fmt::print(file_, "{}\n {{\"kind\": \"{}\", \"api\": \"{}\", \"api_version\": {}, \"frame_hex\": \"{}\"}}",
             frames_ == 0 ? "" : ",", request ? "request" : "response", kafka::api_name(api_key), api_version, hex);
  std::fputs(closing, file_);
  std::fflush(file_);
  ++frames_;
}

}  // namespace nodus::kafka_portal::detail
