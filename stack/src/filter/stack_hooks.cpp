// The stack's side of the hook points: running a hook and counting its
// drops. The calls themselves sit in the IPv4 and IPv6 paths (ipv4.cpp,
// ipv6.cpp) and the device receive path (stack.cpp).
#include <string>

#include "stack_impl.hpp"

namespace vd::stack {

filter::Hooks& Stack::hooks() { return impl_->hooks; }

bool Stack::Impl::run_hook(filter::Family f, filter::Hook h, Packet& p, int in_ifindex, int out_ifindex) {
  const filter::HookContext ctx{f, h, in_ifindex, out_ifindex};
  if (hooks.run(p, ctx) == filter::Verdict::accept) return true;
  std::string reason(filter::to_string(f));
  reason.append("_").append(filter::to_string(h));
  drop("filter", reason);
  return false;
}

}  // namespace vd::stack
