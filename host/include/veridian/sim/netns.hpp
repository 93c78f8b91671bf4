// A network namespace of a simulated host: one whole protocol stack (its
// interfaces, addresses, routing tables, neighbour caches, sockets, port
// spaces, statistics and settings), as `ip netns add` makes one in Linux.
// A Host owns its namespaces; this is the handle to one. Handles are
// shared, so one that outlives `Host::delete_namespace` (a Python object,
// say) is safe: it reports deleted() and stack() throws.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "veridian/stack/stack.hpp"

namespace vd::sim {

class Host;

class NetNamespace : public std::enable_shared_from_this<NetNamespace> {
 public:
  NetNamespace(std::string name, std::unique_ptr<stack::Stack> st) : name_(std::move(name)), stack_(std::move(st)) {}
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  // "" for the host's root namespace (Linux's has no name either).
  const std::string& name() const { return name_; }
  bool is_root() const { return name_.empty(); }
  bool deleted() const { return stack_ == nullptr; }
  // std::logic_error once the namespace has been deleted.
  stack::Stack& stack() {
    if (!stack_) throw std::logic_error("network namespace '" + name_ + "' was deleted");
    return *stack_;
  }
  // The interface a command that names none acts on: the lowest ifindex
  // other than lo (NIC 0 in a root namespace that still has it), or lo
  // when the namespace has no other interface.
  int default_ifindex();
  // Echo identifiers for pings from this namespace, one per ping run.
  std::uint16_t next_ping_id() { return ++ping_id_; }

 private:
  friend class Host;
  std::string name_;
  std::unique_ptr<stack::Stack> stack_;
  std::uint16_t ping_id_ = 0;
};

}  // namespace vd::sim
