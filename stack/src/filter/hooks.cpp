#include "veridian/stack/filter/hooks.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vd::stack::filter {

std::string_view to_string(Family f) {
  switch (f) {
    case Family::netdev: return "netdev";
    case Family::ipv4: return "ip";
    case Family::ipv6: return "ip6";
  }
  return "unknown";
}

std::string_view to_string(Hook h) {
  switch (h) {
    case Hook::ingress: return "ingress";
    case Hook::prerouting: return "prerouting";
    case Hook::input: return "input";
    case Hook::forward: return "forward";
    case Hook::output: return "output";
    case Hook::postrouting: return "postrouting";
  }
  return "unknown";
}

Hooks::Handle Hooks::add(Family f, Hook h, int priority, Handler fn) {
  if (static_cast<std::size_t>(f) >= kFamilies || static_cast<std::size_t>(h) >= kHooks)
    throw std::invalid_argument("filter::Hooks::add: no such family or hook");
  if ((f == Family::netdev) != (h == Hook::ingress))
    throw std::invalid_argument("filter::Hooks::add: family " + std::string(to_string(f)) + " has no hook " +
                                std::string(to_string(h)));
  if (!fn) throw std::invalid_argument("filter::Hooks::add: empty handler");
  auto& chain = chains_[slot(f, h)];
  const Handle id = next_id_++;
  // Stable: equal priorities keep the order they were added in.
  const auto at = std::upper_bound(chain.begin(), chain.end(), priority,
                                   [](int p, const Entry& e) { return p < e.priority; });
  chain.insert(at, Entry{priority, id, std::move(fn)});
  mask_ |= 1u << slot(f, h);
  return id;
}

bool Hooks::remove(Handle id) {
  for (std::size_t s = 0; s < chains_.size(); ++s) {
    auto& chain = chains_[s];
    const auto it = std::find_if(chain.begin(), chain.end(), [id](const Entry& e) { return e.id == id; });
    if (it == chain.end()) continue;
    chain.erase(it);
    if (chain.empty()) mask_ &= ~(1u << s);
    return true;
  }
  return false;
}

Verdict Hooks::run(Packet& p, const HookContext& ctx) const {
  // A copy of the chain's handlers would cost an allocation per packet; a
  // handler must not add or remove hooks while it runs (documented in
  // docs/stack.md), so iterating in place is safe.
  for (const Entry& e : chains_[slot(ctx.family, ctx.hook)])
    if (e.fn(p, ctx) == Verdict::drop) return Verdict::drop;
  return Verdict::accept;
}

}  // namespace vd::stack::filter
