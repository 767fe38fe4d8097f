#pragma once
// The three visitors every generated `visit_fields` is instantiated with: the decoder, the
// encoder and the JSON builder. A generated struct lists its fields once, with the versions each
// exists in; these classes know how each C++ type is read, written and printed.
//
// The decoder is total: after the first error every call returns at once, so a malformed input
// costs no more than its length. Counts are checked against the bytes left before anything is
// allocated, and what is allocated is charged to a budget proportional to the input's size.

#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nodus/core/json.hpp"
#include "nodus/kafka/message_support.hpp"

namespace nodus::kafka::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
// A Kafka array: a vector other than `bytes` (std::vector<std::uint8_t>).
template <class T>
inline constexpr bool is_array_v = is_vector<T>::value && !std::is_same_v<T, nodus::bytes>;
// A generated struct: anything with a static visit_fields.
template <class T>
concept message_struct = requires(T& t) {
  T::visit_fields(std::declval<int&>(), t, std::int16_t{});
};

// Reads one struct (and everything in it) for one version.
class decoder {
public:
  decoder(byte_view input, std::int16_t version, const decode_limits& limits);

  bool ok() const noexcept { return !failed_; }
  bool at_end() const noexcept { return pos_ == end_; }
  std::size_t offset() const noexcept { return pos_; }
  const std::string& error_text() const noexcept { return error_; }
  errc error_code() const noexcept { return code_; }
  // Records a failure (only the first counts): "Topics[2].Name: <what> at offset N".
  void fail(const char* field, const std::string& what, errc code = errc::malformed);

  template <class T>
  void operator()(T& x, const field_info& f) {
    if (f.present && !failed_) read(x, f);
  }
  void tags_begin();
  template <class T>
  void tagged(std::uint32_t tag, std::optional<T>& x, const field_info& f);
  void tags_end(unknown_tagged_fields& unknown);

private:
  struct tag_entry {
    std::uint32_t tag;
    std::size_t offset, size;
    bool claimed;
  };

  bool take(std::size_t n, const char* field);
  bool charge(std::size_t n, const char* field);
  template <class I>
  void read_int(I& x, const char* field);
  bool read_uvarint(std::uint32_t& x, const char* field);
  // A length or count: compact (unsigned varint of n + 1, 0 for null) or fixed (int16 for
  // strings, int32 otherwise; -1 for null). Nothing when null.
  bool read_length(std::optional<std::size_t>& n, const field_info& f, bool int16_length);
  bool null_allowed(const field_info& f);

  void read(bool& x, const field_info& f);
  void read(std::int8_t& x, const field_info& f) { read_int(x, f.name); }
  void read(std::int16_t& x, const field_info& f) { read_int(x, f.name); }
  void read(std::uint16_t& x, const field_info& f) { read_int(x, f.name); }
  void read(std::int32_t& x, const field_info& f) { read_int(x, f.name); }
  void read(std::uint32_t& x, const field_info& f) { read_int(x, f.name); }
  void read(std::int64_t& x, const field_info& f) { read_int(x, f.name); }
  void read(double& x, const field_info& f);
  void read(uuid& x, const field_info& f);
  void read(std::string& x, const field_info& f);
  void read(nodus::bytes& x, const field_info& f);
  template <class T>
  void read(std::optional<T>& x, const field_info& f);
  template <class T>
  void read(std::vector<T>& x, const field_info& f);
  template <message_struct T>
  void read(T& x, const field_info& f);

  void read_string_body(std::string& x, std::size_t n, const char* field);
  void read_bytes_body(nodus::bytes& x, std::size_t n, const char* field);
  template <class T>
  void read_elements(std::vector<T>& x, std::size_t n, const field_info& f);

  byte_view in_;
  std::size_t pos_ = 0, end_ = 0;
  std::int16_t version_;
  std::size_t budget_;
  bool failed_ = false;
  errc code_ = errc::malformed;
  std::string error_;
  std::vector<std::pair<const char*, std::size_t>> path_;  // struct fields and element indexes
  std::vector<std::vector<tag_entry>> tag_frames_;         // one per struct whose tags are open
};

template <class I>
void decoder::read_int(I& x, const char* field) {
  if (!take(sizeof(I), field)) return;
  std::make_unsigned_t<I> u = 0;
  for (std::size_t i = 0; i < sizeof(I); ++i) u = static_cast<decltype(u)>((u << 8) | in_[pos_ + i]);
  pos_ += sizeof(I);
  x = static_cast<I>(u);
}

template <class T>
void decoder::read(std::optional<T>& x, const field_info& f) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, nodus::bytes> || is_array_v<T>) {
    std::optional<std::size_t> n;
    if (!read_length(n, f, std::is_same_v<T, std::string>)) return;
    if (!n) {
      if (null_allowed(f)) x.reset();
      return;
    }
    x.emplace(T{});
    if constexpr (std::is_same_v<T, std::string>) read_string_body(*x, *n, f.name);
    if constexpr (std::is_same_v<T, nodus::bytes>) read_bytes_body(*x, *n, f.name);
    if constexpr (is_array_v<T>) read_elements(*x, *n, f);
  } else {  // a nullable struct: an int8 marker, -1 for null and 1 for a struct
    std::int8_t marker = 0;
    read_int(marker, f.name);
    if (failed_) return;
    if (marker < 0) {
      if (null_allowed(f)) x.reset();
      return;
    }
    if (marker != 1) return fail(f.name, "a nullable struct's marker is neither -1 nor 1");
    x.emplace(T{});  // as in tagged()
    read(*x, f);
  }
}

template <class T>
void decoder::read(std::vector<T>& x, const field_info& f) {
  std::optional<std::size_t> n;
  if (!read_length(n, f, false)) return;
  if (!n) return fail(f.name, "null array in a field that is not nullable");
  read_elements(x, *n, f);
}

template <class T>
void decoder::read_elements(std::vector<T>& x, std::size_t n, const field_info& f) {
  // Every element takes at least one byte in any version that has elements worth sending; the
  // budget bounds the rest.
  if (n > end_ - pos_) return fail(f.name, "array of " + std::to_string(n) + " elements is longer than what is left");
  if (!charge(n * sizeof(T), f.name)) return;
  x.clear();
  x.reserve(n);
  for (std::size_t i = 0; i < n && !failed_; ++i) {
    path_.emplace_back(f.name, i);
    read(x.emplace_back(), field_info{f.name, true, false, f.compact});
    path_.pop_back();
  }
}

template <message_struct T>
void decoder::read(T& x, const field_info&) {
  T::visit_fields(*this, x, version_);
}

template <class T>
void decoder::tagged(std::uint32_t tag, std::optional<T>& x, const field_info& f) {
  if (failed_ || !f.present) return;
  auto& frame = tag_frames_.back();
  for (std::size_t i = 0; i < frame.size(); ++i) {
    if (frame[i].tag != tag || frame[i].claimed) continue;
    frame[i].claimed = true;
    const auto [offset, size] = std::pair{frame[i].offset, frame[i].size};
    const auto saved_pos = pos_, saved_end = end_;
    pos_ = offset;
    end_ = offset + size;
    x.emplace(T{});  // not emplace(): clang takes a nested struct with member initializers as not
                     // default-constructible (the trait was first asked inside its enclosing class)
    read(*x, f);     // may open tag frames of its own: `frame` is not used after this
    if (!failed_ && pos_ != end_)
      fail(f.name, "tagged field has " + std::to_string(end_ - pos_) + " bytes its value does not use");
    pos_ = saved_pos;
    end_ = saved_end;
    return;
  }
}

// Writes one struct for one version. Writing is total too: a null where this version allows
// none is written as empty, and fields the version does not have are left out.
class encoder {
public:
  encoder(nodus::bytes& out, std::int16_t version) : out_(&out), version_(version) {}

  template <class T>
  void operator()(const T& x, const field_info& f) {
    if (f.present) write(x, f);
  }
  void tags_begin() { tag_frames_.emplace_back(); }
  template <class T>
  void tagged(std::uint32_t tag, const std::optional<T>& x, const field_info& f);
  void tags_end(const unknown_tagged_fields& unknown);

  void write_uvarint(std::uint32_t x);

private:
  template <class I>
  void write_int(I x) {
    auto u = static_cast<std::make_unsigned_t<I>>(x);
    for (std::size_t i = sizeof(I); i-- > 0;) out_->push_back(static_cast<std::uint8_t>(u >> (8 * i)));
  }
  void write_length(std::optional<std::size_t> n, const field_info& f, bool int16_length);

  void write(bool x, const field_info&) { out_->push_back(x ? 1 : 0); }
  void write(std::int8_t x, const field_info&) { write_int(x); }
  void write(std::int16_t x, const field_info&) { write_int(x); }
  void write(std::uint16_t x, const field_info&) { write_int(x); }
  void write(std::int32_t x, const field_info&) { write_int(x); }
  void write(std::uint32_t x, const field_info&) { write_int(x); }
  void write(std::int64_t x, const field_info&) { write_int(x); }
  void write(double x, const field_info&) { write_int(std::bit_cast<std::uint64_t>(x)); }
  void write(const uuid& x, const field_info&) { out_->insert(out_->end(), x.bytes.begin(), x.bytes.end()); }
  void write(const std::string& x, const field_info& f);
  void write(const nodus::bytes& x, const field_info& f);
  template <class T>
  void write(const std::optional<T>& x, const field_info& f);
  template <class T>
  void write(const std::vector<T>& x, const field_info& f);
  template <message_struct T>
  void write(const T& x, const field_info&) {
    T::visit_fields(*this, x, version_);
  }

  nodus::bytes* out_;
  std::int16_t version_;
  std::vector<std::vector<tagged_field>> tag_frames_;
};

template <class T>
void encoder::write(const std::optional<T>& x, const field_info& f) {
  constexpr bool length_prefixed = std::is_same_v<T, std::string> || std::is_same_v<T, nodus::bytes> || is_array_v<T>;
  if (!x && f.nullable) {
    if constexpr (length_prefixed) {
      write_length(std::nullopt, f, std::is_same_v<T, std::string>);
    } else {
      write_int(std::int8_t{-1});
    }
    return;
  }
  if constexpr (!length_prefixed) {
    if (f.nullable) write_int(std::int8_t{1});
  }
  write(x ? *x : T{}, f);
}

template <class T>
void encoder::write(const std::vector<T>& x, const field_info& f) {
  write_length(x.size(), f, false);
  for (const auto& e : x) write(e, field_info{f.name, true, false, f.compact});
}

template <class T>
void encoder::tagged(std::uint32_t tag, const std::optional<T>& x, const field_info& f) {
  if (!f.present || !x) return;
  tagged_field field{tag, {}};
  auto* const saved = out_;
  out_ = &field.data;
  write(*x, f);
  out_ = saved;
  tag_frames_.back().push_back(std::move(field));
}

// Builds the JSON of one struct for one version: the schema's field names, tagged fields that
// were present under "_tagged", unknown ones under "_unknown_tagged" (tag and hex).
class json_builder {
public:
  json_builder(json::object& out, std::int16_t version) : out_(&out), version_(version) {}

  template <class T>
  void operator()(const T& x, const field_info& f) {
    if (f.present) out_->emplace_back(f.name, value_of(x));
  }
  void tags_begin() { tagged_.emplace_back(); }
  template <class T>
  void tagged(std::uint32_t, const std::optional<T>& x, const field_info& f) {
    if (!f.present || !x) return;
    auto value = value_of(*x);  // first: a struct's value opens tag scopes of its own
    tagged_.back().emplace_back(f.name, std::move(value));
  }
  void tags_end(const unknown_tagged_fields& unknown);

private:
  template <class T>
  json::value value_of(const T& x);

  json::object* out_;
  std::int16_t version_;
  std::vector<json::object> tagged_;
};

std::string to_hex(byte_view data);

template <class T>
json::value json_builder::value_of(const T& x) {
  if constexpr (is_optional<T>::value) {
    if (!x) return nullptr;
    return value_of(*x);
  } else if constexpr (is_array_v<T>) {
    json::array a;
    for (const auto& e : x) a.push_back(value_of(e));
    return a;
  } else if constexpr (message_struct<T>) {
    json::object o;
    auto* const saved = out_;
    out_ = &o;
    T::visit_fields(*this, x, version_);
    out_ = saved;
    return o;
  } else if constexpr (std::is_same_v<T, nodus::bytes>) {
    return to_hex(x);
  } else if constexpr (std::is_same_v<T, uuid>) {
    return x.to_string();
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> || std::is_same_v<T, double>) {
    return x;
  } else {
    return static_cast<std::int64_t>(x);
  }
}

// The bodies of a generated message's decode, encode and to_json.
template <class T>
result_or_failure<T> decode_message(byte_view body, std::int16_t version, const decode_limits& limits,
                                    const char* message_name);
template <class T>
void encode_message(const T& m, nodus::bytes& out, std::int16_t version) {
  encoder e(out, version);
  T::visit_fields(e, m, version);
}
template <class T>
json::value message_json(const T& m, std::int16_t version) {
  json::object o;
  json_builder b(o, version);
  T::visit_fields(b, m, version);
  return o;
}

// "MetadataResponse v12: " before a decoder's error text.
failure decode_failure(const decoder& d, const char* message_name, std::int16_t version);

template <class T>
result_or_failure<T> decode_message(byte_view body, std::int16_t version, const decode_limits& limits,
                                    const char* message_name) {
  if (body.size() > limits.max_frame_size)
    return failure{errc::too_large, std::string(message_name) + ": " + std::to_string(body.size()) +
                                        " bytes is over the limit of " + std::to_string(limits.max_frame_size)};
  decoder d(body, version, limits);
  T m{};
  T::visit_fields(d, m, version);
  if (d.ok() && !d.at_end()) d.fail("", std::to_string(body.size() - d.offset()) + " trailing bytes");
  if (!d.ok()) return decode_failure(d, message_name, version);
  return m;
}

}  // namespace nodus::kafka::detail
