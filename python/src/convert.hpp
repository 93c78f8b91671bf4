// Conversions shared by the bind_*.cpp files of the _veridian module:
// address strings to stack addresses, Python bytes to byte spans, C++
// counters to Python dicts, and std::error_code to OSError (module.cpp
// translates std::system_error).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "veridian/sim/simulation.hpp"
#include "veridian/sim/switch.hpp"
#include "veridian/sim/tap.hpp"

namespace vd::python {

namespace py = pybind11;

// -- addresses ---------------------------------------------------------------

inline stack::Ipv4Addr parse_ip(const std::string& s) {
  auto a = stack::Ipv4Addr::parse(s);
  if (!a) throw py::value_error("not an IPv4 address: '" + s + "'");
  return *a;
}

// An address string of either family ("10.0.0.1", "2001:db8::1").
inline bool is_v6(const std::string& s) { return s.find(':') != std::string::npos; }

inline stack::Ipv6Addr parse_ip6(const std::string& s) {
  auto a = stack::Ipv6Addr::parse(s);
  if (!a) throw py::value_error("not an IPv6 address: '" + s + "'");
  return *a;
}

inline std::uint16_t parse_port(long p) {
  if (p < 0 || p > 65535) throw py::value_error("port out of range: " + std::to_string(p));
  return static_cast<std::uint16_t>(p);
}

inline MacAddr parse_mac(const std::string& s) {
  MacAddr m{};
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
    throw py::value_error("not a MAC address: '" + s + "'");
  for (int i = 0; i < 6; ++i) m[std::size_t(i)] = static_cast<std::uint8_t>(v[i]);
  return m;
}

// -- bytes and errors --------------------------------------------------------

// The bytes of a Python bytes object (valid while it is alive).
inline std::span<const std::uint8_t> byte_span(std::string_view v) {
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
}

inline std::vector<std::uint8_t> byte_vector(std::string_view v) { return {v.begin(), v.end()}; }

inline py::bytes to_bytes(const std::vector<std::uint8_t>& data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

// Raises OSError(errno, what) through the std::system_error translator.
[[noreturn]] inline void raise_ec(std::error_code ec, const std::string& what) { throw std::system_error(ec, what); }

// -- statistics ----------------------------------------------------------------

inline py::dict stack_stats(const stack::StackStats& s) {
  py::dict layers;
  for (const auto& [k, v] : s.layers) {
    py::dict d;
    d["rx_packets"] = v.rx_packets;
    d["rx_bytes"] = v.rx_bytes;
    d["tx_packets"] = v.tx_packets;
    d["tx_bytes"] = v.tx_bytes;
    layers[py::str(k)] = d;
  }
  py::dict out;
  out["layers"] = layers;
  out["drops"] = s.drops;
  out["events"] = s.events;
  return out;
}

inline py::dict pool_stats(const BufferPool& p) {
  const auto& s = p.stats();
  py::dict d;
  d["allocs"] = s.allocs;
  d["frees"] = s.frees;
  d["alloc_failures"] = s.alloc_failures;
  d["bytes_copied_in"] = s.bytes_copied_in;
  d["bytes_copied_out"] = s.bytes_copied_out;
  d["available"] = p.available();
  d["capacity"] = p.capacity();
  return d;
}
inline py::dict pool_stats(dev::WiredDevice& n) { return pool_stats(n.pool()); }

// Cycles evaluated and skipped, wakeups: Simulation.run_stats() per RtlNic.
inline py::dict rtl_run_stats(dev::RtlNic& r) {
  py::dict x;
  x["cycles_evaluated"] = r.model().stats().cycles;
  x["cycles_skipped"] = r.run_stats().cycles_skipped;
  x["wakeups"] = r.run_stats().wakeups;
  return x;
}

inline py::dict link_stats(const sim::LinkDirStats& s) {
  py::dict d;
  d["frames"] = s.frames;
  d["bytes"] = s.bytes;
  d["busy_ns"] = double(s.busy_ps) / 1000.0;
  return d;
}

inline py::dict fault_stats(const sim::LinkFaultStats& s) {
  py::dict d;
  d["sent"] = s.sent;
  d["delivered"] = s.delivered;
  d["dropped"] = s.dropped;
  d["queue_drops"] = s.queue_drops;
  d["duplicated"] = s.duplicated;
  d["reordered"] = s.reordered;
  d["corrupted"] = s.corrupted;
  d["bits_flipped"] = s.bits_flipped;
  d["delayed"] = s.delayed;
  d["delay_added_ns"] = double(s.delay_added_ps) / 1000.0;
  return d;
}

inline py::dict switch_stats(const sim::SwitchStats& x) {
  py::dict d;
  d["rx_frames"] = x.rx_frames;
  d["forwarded"] = x.forwarded;
  d["flooded"] = x.flooded;
  d["filtered"] = x.filtered;
  d["fcs_drops"] = x.fcs_drops;
  d["runts"] = x.runts;
  d["learned"] = x.learned;
  d["moved"] = x.moved;
  d["aged_out"] = x.aged_out;
  d["table_full"] = x.table_full;
  return d;
}

inline py::dict switch_port_stats(const sim::SwitchPortStats& x) {
  py::dict d;
  d["rx_frames"] = x.rx_frames;
  d["rx_bytes"] = x.rx_bytes;
  d["tx_frames"] = x.tx_frames;
  d["tx_bytes"] = x.tx_bytes;
  d["rx_fcs_errors"] = x.rx_fcs_errors;
  return d;
}

inline py::dict tap_stats(const sim::TapStats& s) {
  py::dict d;
  d["frames_to_kernel"] = s.frames_to_kernel;
  d["bytes_to_kernel"] = s.bytes_to_kernel;
  d["frames_from_kernel"] = s.frames_from_kernel;
  d["bytes_from_kernel"] = s.bytes_from_kernel;
  d["write_errors"] = s.write_errors;
  d["dropped_fcs"] = s.dropped_fcs;
  d["dropped_oversize"] = s.dropped_oversize;
  return d;
}

inline py::dict tcp_info(const stack::TcpInfo& i) {
  py::dict d;
  d["state"] = stack::tcp_state_name(i.state);
  d["mss"] = i.mss;
  d["cwnd"] = i.cwnd;
  d["ssthresh"] = i.ssthresh;
  d["snd_wnd"] = i.snd_wnd;
  d["rcv_wnd"] = i.rcv_wnd;
  d["srtt_ns"] = double(i.srtt) / 1000.0;
  d["rto_ns"] = double(i.rto) / 1000.0;
  d["bytes_sent"] = i.bytes_sent;
  d["bytes_acked"] = i.bytes_acked;
  d["bytes_received"] = i.bytes_received;
  d["segs_out"] = i.segs_out;
  d["segs_in"] = i.segs_in;
  d["tso_sends"] = i.tso_sends;
  d["retransmits"] = i.retransmits;
  d["timeouts"] = i.timeouts;
  d["fast_retransmits"] = i.fast_retransmits;
  d["dup_acks"] = i.dup_acks;
  d["ooo_segments"] = i.ooo_segments;
  d["zero_window_probes"] = i.zero_window_probes;
  d["sack_ok"] = i.sack_ok;
  d["sack_blocks_received"] = i.sack_blocks_received;
  d["sack_recovery_rexmits"] = i.sack_recovery_rexmits;
  d["tx_copy_bytes"] = i.tx_copy_bytes;
  d["zero_copy_bytes"] = i.zero_copy_bytes;
  d["zero_copy_sends"] = i.zero_copy_sends;
  d["rx_zero_copy_bytes"] = i.rx_zero_copy_bytes;
  d["timestamps"] = i.timestamps;
  d["snd_wscale"] = i.snd_wscale;
  d["rcv_wscale"] = i.rcv_wscale;
  return d;
}

}  // namespace vd::python
