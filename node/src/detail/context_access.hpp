#pragma once
// The runtime's access to a context's internals: making a context over a mailbox, and the node
// behind a context (for the functions of nodus/node/extension.hpp and nodus/node/main.hpp).
// Private to the node library; the public headers only name the struct.

#include <memory>

#include "nodus/node/context.hpp"

namespace nodus::detail {

struct context_access {
  /// A context over `box`; `owns_box` makes it close and unregister the mailbox when destroyed.
  static context make(std::shared_ptr<node_impl> node, std::shared_ptr<mailbox> box, bool owns_box) {
    return context(std::move(node), std::move(box), owns_box);
  }
  static const std::shared_ptr<node_impl>& node(const context& ctx) { return ctx.node_; }
  static const std::shared_ptr<mailbox>& box(const context& ctx) { return ctx.box_; }
};

}  // namespace nodus::detail
