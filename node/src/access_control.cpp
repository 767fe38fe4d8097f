#include "nodus/node/access_control.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace nodus {

incoming_access_control incoming_access_control::allow_all() { return incoming_access_control(); }

incoming_access_control incoming_access_control::allow_from(std::vector<address> senders) {
  return incoming_access_control([senders = std::move(senders)](const local_message& m) -> std::string {
    if (!m.return_route.empty() && std::find(senders.begin(), senders.end(), m.return_route.next()) != senders.end())
      return {};
    return m.return_route.empty() ? "no sender on the return route" : "sender is not on the allow list";
  });
}

incoming_access_control incoming_access_control::predicate(std::string description,
                                                           std::function<bool(const local_message&)> accept) {
  return incoming_access_control(
      [description = std::move(description), accept = std::move(accept)](const local_message& m) -> std::string {
        return accept(m) ? std::string() : fmt::format("refused by '{}'", description);
      });
}

}  // namespace nodus
