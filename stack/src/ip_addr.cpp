#include "veridian/stack/ip_addr.hpp"

#include <cstdio>
#include <vector>

namespace vd::stack {

namespace {

// A decimal number of 1..max_digits digits without sign, spaces or leading
// zeros (leading zeros are refused because some parsers read them as octal).
std::optional<unsigned> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + unsigned(c - '0');
  }
  return v;
}

}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  Ipv4Addr a{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t dot = s.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const auto v = parse_decimal(s.substr(0, dot), 3);
    if (!v || *v > 255) return std::nullopt;
    a.b[i] = static_cast<std::uint8_t>(*v);
    if (!last) s.remove_prefix(dot + 1);
  }
  return a;
}

std::string Ipv4Addr::str() const {
  return std::to_string(b[0]) + '.' + std::to_string(b[1]) + '.' + std::to_string(b[2]) + '.' +
         std::to_string(b[3]);
}

std::optional<std::pair<Ipv4Addr, int>> parse_cidr(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = Ipv4Addr::parse(s.substr(0, slash));
  const auto len = parse_decimal(s.substr(slash + 1), 2);
  if (!addr || !len || *len > 32) return std::nullopt;
  return std::pair{*addr, static_cast<int>(*len)};
}

// ------------------------------------------------------------ IPv6

namespace {

std::optional<unsigned> parse_hex_group(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = unsigned(c - '0');
    else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
    else return std::nullopt;
    v = v * 16 + d;
  }
  return v;
}

// Parses colon-separated groups (possibly ending in a dotted quad) into
// 16-bit words; false on any syntax error.
bool parse_groups(std::string_view s, std::vector<std::uint16_t>& out, bool allow_v4_tail) {
  if (s.empty()) return true;
  for (;;) {
    const std::size_t colon = s.find(':');
    const std::string_view tok = s.substr(0, colon);
    if (colon == std::string_view::npos && allow_v4_tail && tok.find('.') != std::string_view::npos) {
      const auto v4 = Ipv4Addr::parse(tok);
      if (!v4) return false;
      out.push_back(std::uint16_t(v4->to_u32() >> 16));
      out.push_back(std::uint16_t(v4->to_u32()));
      return true;
    }
    const auto g = parse_hex_group(tok);
    if (!g) return false;
    out.push_back(static_cast<std::uint16_t>(*g));
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

}  // namespace

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view s) {
  std::vector<std::uint16_t> head, tail;
  const std::size_t dc = s.find("::");
  if (dc == std::string_view::npos) {
    if (!parse_groups(s, head, true) || head.size() != 8) return std::nullopt;
  } else {
    if (s.find("::", dc + 1) != std::string_view::npos) return std::nullopt;
    const std::string_view l = s.substr(0, dc), r = s.substr(dc + 2);
    if (!parse_groups(l, head, false) || !parse_groups(r, tail, true)) return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;  // "::" stands for at least one group
  }
  Ipv6Addr a{};
  std::size_t i = 0;
  for (auto g : head) a.b[i++] = std::uint8_t(g >> 8), a.b[i++] = std::uint8_t(g);
  i = 16 - 2 * tail.size();
  for (auto g : tail) a.b[i++] = std::uint8_t(g >> 8), a.b[i++] = std::uint8_t(g);
  return a;
}

std::string Ipv6Addr::str() const {
  if (is_v4_mapped()) return "::ffff:" + Ipv4Addr{{b[12], b[13], b[14], b[15]}}.str();
  int best = -1, best_len = 1;  // a single zero group is not shortened (RFC 5952 4.2.2)
  for (int i = 0; i < 8;) {
    if (group(std::size_t(i)) != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && group(std::size_t(j)) == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", group(std::size_t(i)));
    out += buf;
  }
  return out;
}

bool Ipv6Addr::is_loopback() const {
  for (std::size_t i = 0; i < 15; ++i)
    if (b[i]) return false;
  return b[15] == 1;
}

bool Ipv6Addr::is_v4_mapped() const {
  for (std::size_t i = 0; i < 10; ++i)
    if (b[i]) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

Ipv6Addr Ipv6Addr::solicited_node() const {
  Ipv6Addr s{};
  s.b[0] = 0xff, s.b[1] = 0x02, s.b[11] = 0x01, s.b[12] = 0xff;
  s.b[13] = b[13], s.b[14] = b[14], s.b[15] = b[15];
  return s;
}

MacAddr Ipv6Addr::multicast_mac() const { return MacAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}; }

Ipv6Addr Ipv6Addr::from_prefix_and_mac(const Ipv6Addr& prefix, const MacAddr& m) {
  Ipv6Addr a = prefix_of(prefix, 64);
  a.b[8] = static_cast<std::uint8_t>(m[0] ^ 0x02);  // flip the universal/local bit
  a.b[9] = m[1], a.b[10] = m[2], a.b[11] = 0xff, a.b[12] = 0xfe;
  a.b[13] = m[3], a.b[14] = m[4], a.b[15] = m[5];
  return a;
}

Ipv6Addr Ipv6Addr::link_local_from_mac(const MacAddr& m) {
  Ipv6Addr p{};
  p.b[0] = 0xfe, p.b[1] = 0x80;
  return from_prefix_and_mac(p, m);
}

std::optional<std::pair<Ipv6Addr, int>> parse_cidr6(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = Ipv6Addr::parse(s.substr(0, slash));
  const auto len = parse_decimal(s.substr(slash + 1), 3);
  if (!addr || !len || *len > 128) return std::nullopt;
  return std::pair{*addr, static_cast<int>(*len)};
}

std::string mac_str(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace vd::stack
