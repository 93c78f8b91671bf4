#include "veridian/core/mac_table.hpp"

#include <stdexcept>

namespace vd {

MacTable::MacTable(const Scheduler& sched, TimePs ageing, std::size_t capacity)
    : sched_(sched), ageing_(ageing), capacity_(capacity) {
  if (ageing == 0) throw std::invalid_argument("MacTable: ageing must be positive");
}

std::uint64_t MacTable::key(const MacAddr& m) {
  std::uint64_t k = 0;
  for (auto b : m) k = (k << 8) | b;
  return k;
}

std::optional<unsigned> MacTable::lookup(const MacAddr& mac) {
  auto it = table_.find(key(mac));
  if (it == table_.end()) return std::nullopt;
  if (expired(it->second.last_seen)) {
    table_.erase(it);
    ++stats_.aged_out;
    return std::nullopt;
  }
  return it->second.port;
}

std::vector<MacEntry> MacTable::entries() {
  std::vector<MacEntry> out;
  for (auto it = table_.begin(); it != table_.end();) {
    if (expired(it->second.last_seen)) {
      it = table_.erase(it);
      ++stats_.aged_out;
    } else {
      out.push_back(it->second);
      ++it;
    }
  }
  return out;
}

void MacTable::learn(const MacAddr& src, unsigned port) {
  const std::uint64_t k = key(src);
  auto it = table_.find(k);
  if (it != table_.end()) {
    if (expired(it->second.last_seen)) {
      ++stats_.aged_out;
      ++stats_.learned;  // gone, then heard again: a new entry
    } else if (it->second.port != port) {
      ++stats_.moved;
    }
    it->second.port = port;
    it->second.last_seen = sched_.now();
    return;
  }
  if (table_.size() >= capacity_) {
    entries();  // make room by ageing
    if (table_.size() >= capacity_) {
      ++stats_.table_full;
      return;
    }
  }
  table_.emplace(k, MacEntry{src, port, sched_.now()});
  ++stats_.learned;
}

void MacTable::forget_port(unsigned port) {
  std::erase_if(table_, [port](const auto& kv) { return kv.second.port == port; });
}

}  // namespace vd
