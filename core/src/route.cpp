#include "nodus/core/route.hpp"

namespace nodus {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

result<route> route::parse(std::string_view text) {
  std::vector<address> hops;
  for (;;) {
    const auto arrow = text.find("=>");
    const auto hop_text = trim(text.substr(0, arrow));
    if (hop_text.empty() || hops.size() == max_route_length) return errc::invalid_route;
    auto hop = address::parse(hop_text);
    if (!hop) return errc::invalid_route;
    hops.push_back(std::move(hop).value());
    if (arrow == std::string_view::npos) break;
    text.remove_prefix(arrow + 2);
  }
  return route(std::move(hops));
}

result<address> route::step() {
  if (hops_.empty()) return errc::empty_route;
  address first = std::move(hops_.front());
  hops_.erase(hops_.begin());
  return first;
}

route& route::prepend(address a) {
  hops_.insert(hops_.begin(), std::move(a));
  return *this;
}

route& route::append(address a) {
  hops_.push_back(std::move(a));
  return *this;
}

route& route::append(const route& tail) {
  hops_.insert(hops_.end(), tail.begin(), tail.end());
  return *this;
}

std::string route::to_string() const {
  std::string text;
  for (const auto& hop : hops_) {
    if (!text.empty()) text += " => ";
    text += hop.to_string();
  }
  return text;
}

}  // namespace nodus
