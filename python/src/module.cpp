// pybind11 bindings: the C++ co-simulation as the _veridian extension. The
// Pythonic surface (veridian.Simulation, RtlNic, ...) is in veridian/*.py.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>

#include "veridian/abi.hpp"
#include "veridian/sim/simulation.hpp"
#include "veridian/sim/testbench.hpp"

namespace py = pybind11;
using namespace vd;

void bind_topology(py::module_& m);  // topology.cpp: faults, NICs, switches

namespace {

stack::Ipv4Addr parse_ip(const std::string& s) {
  auto a = stack::Ipv4Addr::parse(s);
  if (!a) throw py::value_error("not an IPv4 address: '" + s + "'");
  return *a;
}

// An address string of either family ("10.0.0.1", "2001:db8::1").
bool is_v6(const std::string& s) { return s.find(':') != std::string::npos; }

stack::Ipv6Addr parse_ip6(const std::string& s) {
  auto a = stack::Ipv6Addr::parse(s);
  if (!a) throw py::value_error("not an IPv6 address: '" + s + "'");
  return *a;
}

std::uint16_t parse_port(long p) {
  if (p < 0 || p > 65535) throw py::value_error("port out of range: " + std::to_string(p));
  return static_cast<std::uint16_t>(p);
}

[[noreturn]] void raise_ec(std::error_code ec, const std::string& what) {
  throw std::system_error(ec, what);
}

// MMIO read for Python: RtlNic only, a 4-aligned register address.
std::uint32_t checked_read_reg(dev::RtlNic* r, std::uint32_t addr, const std::string& who) {
  if (!r) throw py::type_error("read_reg: " + who + " has a SoftNic, not an RtlNic");
  if (addr % 4 || addr > 0xffff) throw py::value_error("read_reg: register address must be 4-aligned and < 0x10000");
  return r->read_reg(addr);
}

py::dict stack_stats(const stack::StackStats& s) {
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

}  // namespace

PYBIND11_MODULE(_veridian, m) {
  m.doc() = "Veridian co-simulation core (C++)";

  py::register_exception<dev::AbiMismatch>(m, "AbiMismatchError", PyExc_RuntimeError);
  // Socket errors surface as OSError with errno set, like Python's socket module.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::system_error& e) {
      const int code = e.code().category() == std::generic_category() ? e.code().value() : 0;
      PyErr_SetObject(PyExc_OSError, py::make_tuple(code, e.what()).ptr());
    }
  });

  m.def("abi_constants", [] {
    py::dict d;
    for (const auto& c : vd::abi::kAllConstants) d[c.name] = c.value;
    return d;
  }, "Every ABI constant as compiled into the C++ driver.");
  m.def("rtl_widths", &rtl::NicModel::available_widths, "Data widths the NIC RTL was Verilated for.");

  py::class_<rtl::DmaConfig>(m, "DmaConfig")
      .def(py::init<>())
      .def_readwrite("latency_ns", &rtl::DmaConfig::latency_ns)
      .def_readwrite("gbps", &rtl::DmaConfig::gbps)
      .def_readwrite("max_payload", &rtl::DmaConfig::max_payload)
      .def_readwrite("tlp_overhead", &rtl::DmaConfig::tlp_overhead)
      .def_readwrite("max_tags", &rtl::DmaConfig::max_tags)
      .def_static("pcie_gen3_x16", &rtl::DmaConfig::pcie_gen3_x16)
      .def_static("pcie_gen4_x16", &rtl::DmaConfig::pcie_gen4_x16);

  py::class_<sim::NicSpec> spec(m, "NicSpec");
  py::enum_<sim::NicSpec::Kind>(spec, "Kind").value("RTL", sim::NicSpec::Kind::Rtl).value("SOFT", sim::NicSpec::Kind::Soft);
  spec.def(py::init<>())
      .def_readwrite("kind", &sim::NicSpec::kind)
      .def_readwrite("queues", &sim::NicSpec::queues)
      .def_readwrite("mtu", &sim::NicSpec::mtu)
      .def_readwrite("tx_csum", &sim::NicSpec::tx_csum)
      .def_readwrite("tso", &sim::NicSpec::tso)
      .def_readwrite("data_width", &sim::NicSpec::data_width)
      .def_readwrite("clock_mhz", &sim::NicSpec::clock_mhz)
      .def_readwrite("dma", &sim::NicSpec::dma)
      .def_readwrite("ring_log2", &sim::NicSpec::ring_log2)
      .def_readwrite("irq_frames", &sim::NicSpec::irq_frames)
      .def_readwrite("rx_csum", &sim::NicSpec::rx_csum)
      .def_readwrite("irq_delay_ns", &sim::NicSpec::irq_delay_ns)
      .def_readwrite("expect_abi_id", &sim::NicSpec::expect_abi_id)
      .def_readwrite("trace_path", &sim::NicSpec::trace_path);

  py::class_<stack::UdpSocket, std::shared_ptr<stack::UdpSocket>>(m, "UdpSocket")
      .def("bind", [](stack::UdpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip), parse_port(port)) : s.bind(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "bind " + ip + ":" + std::to_string(port));
      })
      .def("sendto", [](stack::UdpSocket& s, py::bytes data, const std::string& ip, long port) {
        std::string_view v = data;
        const std::span<const std::uint8_t> bytes{reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
        std::error_code ec;
        if (is_v6(ip)) {
          ec = s.sendto(bytes, parse_ip6(ip), parse_port(port));
        } else {
          ec = s.sendto(bytes, parse_ip(ip), parse_port(port));
        }
        if (ec) raise_ec(ec, "sendto " + ip + ":" + std::to_string(port));
        return v.size();
      })
      .def("recvfrom", [](stack::UdpSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        py::bytes b(reinterpret_cast<const char*>(d->data.data()), d->data.size());
        return py::make_tuple(b, py::make_tuple(d->v6 ? d->src_addr6.str() : d->src_addr.str(), d->src_port));
      })
      .def_property_readonly("pending", &stack::UdpSocket::pending)
      .def_property_readonly("local_port", &stack::UdpSocket::local_port)
      .def_property_readonly("local_addr", [](const stack::UdpSocket& s) {
        return s.is_v6() ? s.local_addr6().str() : s.local_addr().str();
      })
      .def_property("ttl", &stack::UdpSocket::ttl, [](stack::UdpSocket& s, int ttl) {
        if (ttl < 0 || ttl > 255) throw py::value_error("ttl must be 0..255 (0 = the stack's default)");
        s.set_ttl(static_cast<std::uint8_t>(ttl));
      })
      .def_property("reuse_addr", &stack::UdpSocket::reuse_addr, &stack::UdpSocket::set_reuse_addr)
      .def_property("recv_timeout_ps", &stack::UdpSocket::recv_timeout, &stack::UdpSocket::set_recv_timeout)
      .def("close", &stack::UdpSocket::close);

  // Raw IP sockets: (payload, source address) datagrams; IPv4 ones include
  // their IP header.
  py::class_<stack::RawSocket, std::shared_ptr<stack::RawSocket>>(m, "RawSocket")
      .def("bind", [](stack::RawSocket& s, const std::string& ip) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip)) : s.bind(parse_ip(ip));
        if (ec) raise_ec(ec, "bind " + ip);
      })
      .def("sendto", [](stack::RawSocket& s, py::bytes data, const std::string& ip) {
        std::string_view v = data;
        const std::span<const std::uint8_t> bytes{reinterpret_cast<const std::uint8_t*>(v.data()), v.size()};
        const auto ec = is_v6(ip) ? s.sendto(bytes, parse_ip6(ip)) : s.sendto(bytes, parse_ip(ip));
        if (ec) raise_ec(ec, "sendto " + ip);
        return v.size();
      })
      .def("recvfrom", [](stack::RawSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        py::bytes b(reinterpret_cast<const char*>(d->data.data()), d->data.size());
        return py::make_tuple(b, d->v6 ? d->src_addr6.str() : d->src_addr.str());
      })
      .def_property_readonly("pending", &stack::RawSocket::pending)
      .def_property_readonly("family", &stack::RawSocket::family)
      .def_property_readonly("protocol", &stack::RawSocket::protocol)
      .def_property_readonly("is_open", &stack::RawSocket::is_open)
      .def_property("ttl", &stack::RawSocket::ttl, [](stack::RawSocket& s, int ttl) {
        if (ttl < 0 || ttl > 255) throw py::value_error("ttl must be 0..255 (0 = the stack's default)");
        s.set_ttl(static_cast<std::uint8_t>(ttl));
      })
      .def_property("rx_queue_limit", &stack::RawSocket::rx_queue_limit, &stack::RawSocket::set_rx_queue_limit)
      .def_property("recv_timeout_ps", &stack::RawSocket::recv_timeout, &stack::RawSocket::set_recv_timeout)
      .def("close", &stack::RawSocket::close);

  // Local (Unix-domain style) sockets, named by strings inside one host.
  py::class_<stack::LocalSocket, std::shared_ptr<stack::LocalSocket>>(m, "LocalSocket")
      .def_property_readonly("kind", [](const stack::LocalSocket& s) {
        return s.kind() == stack::LocalSocket::Kind::Stream ? "stream" : "dgram";
      })
      .def("bind", [](stack::LocalSocket& s, const std::string& path) {
        if (auto ec = s.bind(path)) raise_ec(ec, "bind " + path);
      })
      .def("listen", [](stack::LocalSocket& s, int backlog) {
        if (auto ec = s.listen(backlog)) raise_ec(ec, "listen");
      })
      .def("accept", &stack::LocalSocket::accept)
      .def_property_readonly("pending_accepts", &stack::LocalSocket::pending_accepts)
      .def("connect", [](stack::LocalSocket& s, const std::string& path) {
        if (auto ec = s.connect(path)) raise_ec(ec, "connect " + path);
      })
      .def("send", [](stack::LocalSocket& s, py::bytes data) {
        std::string_view v = data;
        std::error_code ec;
        const std::size_t n = s.send({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, ec);
        if (ec) raise_ec(ec, "send");
        return n;
      })
      .def("recv", [](stack::LocalSocket& s, std::size_t max) {
        std::string out(max, '\0');
        std::error_code ec;
        const std::size_t n = s.recv({reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, ec);
        if (ec) raise_ec(ec, "recv");
        out.resize(n);
        return py::bytes(out);
      })
      .def("sendto", [](stack::LocalSocket& s, py::bytes data, const std::string& path) {
        std::string_view v = data;
        if (auto ec = s.sendto({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, path))
          raise_ec(ec, "sendto " + path);
        return v.size();
      })
      .def("recvfrom", [](stack::LocalSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        return py::make_tuple(py::bytes(reinterpret_cast<const char*>(d->data.data()), d->data.size()), d->from);
      })
      .def("shutdown_write", [](stack::LocalSocket& s) {
        if (auto ec = s.shutdown_write()) raise_ec(ec, "shutdown");
      })
      .def("close", &stack::LocalSocket::close)
      .def_property_readonly("eof", &stack::LocalSocket::eof)
      .def_property_readonly("readable", &stack::LocalSocket::readable)
      .def_property_readonly("writable", &stack::LocalSocket::writable)
      .def_property_readonly("pending", &stack::LocalSocket::pending)
      .def_property_readonly("connected", &stack::LocalSocket::connected)
      .def_property_readonly("is_open", &stack::LocalSocket::is_open)
      .def_property_readonly("local_path", &stack::LocalSocket::local_path)
      .def_property_readonly("peer_path", &stack::LocalSocket::peer_path)
      .def("set_rcvbuf", [](stack::LocalSocket& s, std::size_t n) {
        if (auto ec = s.set_rcvbuf(n)) raise_ec(ec, "SO_RCVBUF (2 KiB..64 MiB)");
      })
      .def_property("recv_timeout_ps", &stack::LocalSocket::recv_timeout, &stack::LocalSocket::set_recv_timeout);

  py::class_<stack::TcpSocket, std::shared_ptr<stack::TcpSocket>>(m, "TcpSocket")
      .def("bind", [](stack::TcpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip), parse_port(port)) : s.bind(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "bind " + ip + ":" + std::to_string(port));
      })
      .def("listen", [](stack::TcpSocket& s, int backlog) {
        if (auto ec = s.listen(backlog)) raise_ec(ec, "listen");
      })
      .def("accept", &stack::TcpSocket::accept)
      .def_property_readonly("pending_accepts", &stack::TcpSocket::pending_accepts)
      .def("connect", [](stack::TcpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.connect(parse_ip6(ip), parse_port(port)) : s.connect(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "connect " + ip + ":" + std::to_string(port));
      })
      .def("send", [](stack::TcpSocket& s, py::bytes data) {
        std::string_view v = data;
        std::error_code ec;
        const std::size_t n = s.send({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, ec);
        if (ec) raise_ec(ec, "send");
        return n;
      })
      .def("recv", [](stack::TcpSocket& s, std::size_t max) {
        std::string buf(std::min<std::size_t>(max, s.readable()), '\0');
        std::error_code ec;
        const std::size_t n = s.recv({reinterpret_cast<std::uint8_t*>(buf.data()), buf.size()}, ec);
        if (ec) raise_ec(ec, "recv");
        buf.resize(n);
        return py::bytes(buf);
      })
      .def("shutdown_write", [](stack::TcpSocket& s) {
        if (auto ec = s.shutdown_write()) raise_ec(ec, "shutdown");
      })
      .def("close", &stack::TcpSocket::close)
      .def("abort", &stack::TcpSocket::abort)
      .def_property_readonly("state", [](const stack::TcpSocket& s) { return std::string(stack::tcp_state_name(s.state())); })
      .def_property_readonly("eof", &stack::TcpSocket::eof)
      .def_property_readonly("readable", &stack::TcpSocket::readable)
      .def_property_readonly("writable", &stack::TcpSocket::writable)
      .def_property_readonly("unacked", &stack::TcpSocket::unacked)
      .def_property_readonly("error", [](const stack::TcpSocket& s) -> py::object {
        if (!s.error()) return py::none();
        return py::make_tuple(s.error().value(), s.error().message());
      })
      .def_property_readonly("local_addr", [](const stack::TcpSocket& s) {
        return py::make_tuple(s.is_v6() ? s.local_addr6().str() : s.local_addr().str(), s.local_port());
      })
      .def_property_readonly("remote_addr", [](const stack::TcpSocket& s) {
        return py::make_tuple(s.is_v6() ? s.remote_addr6().str() : s.remote_addr().str(), s.remote_port());
      })
      .def_property_readonly("is_v6", &stack::TcpSocket::is_v6)
      .def_property("nodelay", &stack::TcpSocket::nodelay, &stack::TcpSocket::set_nodelay)
      .def("set_keepalive", &stack::TcpSocket::set_keepalive)
      .def_property("reuse_addr", &stack::TcpSocket::reuse_addr, &stack::TcpSocket::set_reuse_addr)
      .def_property("recv_timeout_ps", &stack::TcpSocket::recv_timeout, &stack::TcpSocket::set_recv_timeout)
      .def("set_buffers", [](stack::TcpSocket& s, std::size_t sndbuf, std::size_t rcvbuf) {
        if (sndbuf)
          if (auto ec = s.set_sndbuf(sndbuf)) raise_ec(ec, "SO_SNDBUF (2 KiB..64 MiB, before connect/listen)");
        if (rcvbuf)
          if (auto ec = s.set_rcvbuf(rcvbuf)) raise_ec(ec, "SO_RCVBUF (2 KiB..64 MiB, before connect/listen)");
      })
      .def("set_congestion_control", [](stack::TcpSocket& s, const std::string& name) {
        if (name == "cubic") s.set_congestion_control(stack::CongestionControl::Cubic);
        else if (name == "newreno" || name == "reno") s.set_congestion_control(stack::CongestionControl::NewReno);
        else throw py::value_error("congestion control must be 'cubic' or 'newreno', not '" + name + "'");
      })
      .def("info", [](const stack::TcpSocket& s) {
        const auto i = s.info();
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
      });

  py::class_<sim::Link>(m, "Link")
      .def_property_readonly("rate_gbps", [](const sim::Link& l) { return l.config().rate_gbps; })
      .def_property_readonly("latency_ns", [](const sim::Link& l) { return double(l.config().latency) / 1000.0; })
      .def("stats", [](const sim::Link& l, int side) {
        if (side != 0 && side != 1) throw py::value_error("side must be 0 or 1");
        const auto& s = l.stats(side);
        py::dict d;
        d["frames"] = s.frames;
        d["bytes"] = s.bytes;
        d["busy_ns"] = double(s.busy_ps) / 1000.0;
        return d;
      });

  py::class_<sim::Host>(m, "Host")
      .def_property_readonly("name", &sim::Host::name)
      .def_property_readonly("nic_kind", [](sim::Host& h) { return h.nic().kind(); })
      .def_property_readonly("mac", [](sim::Host& h) { return stack::mac_str(h.nic().mac()); })
      .def("add_address", [](sim::Host& h, const std::string& cidr) {
        if (is_v6(cidr)) {
          auto c = stack::parse_cidr6(cidr);
          if (!c) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
          h.stack().add_address6(h.ifindex(), c->first, c->second);
          return;
        }
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 address/prefix: '" + cidr + "'");
        h.stack().add_address(h.ifindex(), c->first, c->second);
      })
      .def("enable_ipv6", [](sim::Host& h) { h.stack().enable_ipv6(h.ifindex()); })
      .def("addresses6", [](sim::Host& h) {
        py::list out;
        for (const auto& a : h.stack().addresses6(h.ifindex()))
          out.append(py::make_tuple(a.addr.str(), a.prefix_len, stack::to_string(a.state), a.autoconf));
        return out;
      })
      .def("add_route6", [](sim::Host& h, const std::string& cidr, const std::string& gateway, std::uint32_t metric) {
        auto c = stack::parse_cidr6(cidr);
        if (!c) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
        std::optional<stack::Ipv6Addr> gw;
        if (!gateway.empty()) gw = parse_ip6(gateway);
        return h.stack().add_route6(c->first, c->second, gw, h.ifindex(), metric);
      })
      .def("set_router_advert", [](sim::Host& h, std::vector<std::string> prefixes, double interval_s,
                                   std::uint16_t lifetime_s, std::uint32_t mtu) {
        if (!(interval_s > 0)) throw py::value_error("interval_s must be > 0");
        stack::RouterAdvertConfig ra;
        for (const auto& p : prefixes) {
          auto c = stack::parse_cidr6(p);
          if (!c) throw py::value_error("not an IPv6 prefix: '" + p + "'");
          stack::PrefixAdvert pa;
          pa.prefix = c->first;
          pa.prefix_len = c->second;
          ra.prefixes.push_back(pa);
        }
        ra.interval = static_cast<TimePs>(interval_s * 1e12);
        ra.router_lifetime_s = lifetime_s;
        ra.mtu = mtu;
        h.stack().set_router_advert(h.ifindex(), ra);
      })
      .def("default_router6", [](sim::Host& h) -> py::object {
        const auto r = h.stack().default_router6();
        return r ? py::object(py::str(r->str())) : py::object(py::none());
      })
      .def("path_mtu6", [](sim::Host& h, const std::string& dst) { return h.stack().path_mtu6(parse_ip6(dst)); })
      .def("stats", [](sim::Host& h) { return stack_stats(h.stack().stats()); })
      .def("nic_stats", [](sim::Host& h) { return h.nic().stats(); })
      .def("nic_registers", [](sim::Host& h) {
        auto* r = h.rtl_nic();
        if (!r) throw py::type_error("nic_registers: host '" + h.name() + "' has a SoftNic, not an RtlNic");
        return r->nic_registers();
      })
      .def("read_reg", [](sim::Host& h, std::uint32_t addr) {
        return checked_read_reg(h.rtl_nic(), addr, "host '" + h.name() + "'");
      })
      .def("pool_stats", [](sim::Host& h) {
        const auto& s = h.nic().pool().stats();
        py::dict d;
        d["allocs"] = s.allocs;
        d["frees"] = s.frees;
        d["alloc_failures"] = s.alloc_failures;
        d["bytes_copied_in"] = s.bytes_copied_in;
        d["bytes_copied_out"] = s.bytes_copied_out;
        d["available"] = h.nic().pool().available();
        return d;
      })
      .def("udp_socket", [](sim::Host& h) { return h.stack().udp_socket(); })
      .def("tcp_socket", [](sim::Host& h) { return h.stack().tcp_socket(); })
      .def("raw_socket", [](sim::Host& h, int proto, int family) {
        if (proto < 0 || proto > 255) throw py::value_error("protocol must be 0..255");
        if (family != 4 && family != 6)
          raise_ec(std::make_error_code(std::errc::address_family_not_supported), "raw_socket: family must be 4 or 6");
        return h.stack().raw_socket(family, static_cast<std::uint8_t>(proto));
      })
      .def("local_socket", [](sim::Host& h, const std::string& kind) {
        if (kind == "stream") return h.stack().local_socket(stack::LocalSocket::Kind::Stream);
        if (kind == "dgram" || kind == "datagram") return h.stack().local_socket(stack::LocalSocket::Kind::Datagram);
        throw py::value_error("kind must be 'stream' or 'dgram', not '" + kind + "'");
      })
      .def("inject", [](sim::Host& h, py::bytes frame, bool fcs_error) {
        std::string_view v = frame;
        h.nic().inject(std::vector<std::uint8_t>(v.begin(), v.end()), fcs_error);
      }, py::arg("frame"), py::arg("fcs_error") = false)
      // Routing, forwarding, VLANs and what ICMP told us (IPv4).
      .def("add_route", [](sim::Host& h, const std::string& cidr, std::optional<std::string> via,
                           std::optional<int> ifindex, std::uint32_t metric) {
        if (is_v6(cidr)) {
          auto c6 = stack::parse_cidr6(cidr);
          if (!c6) throw py::value_error("not an IPv6 prefix: '" + cidr + "'");
          std::optional<stack::Ipv6Addr> gw6;
          if (via) gw6 = parse_ip6(*via);
          if (!h.stack().add_route6(c6->first, c6->second, gw6, ifindex.value_or(h.ifindex()), metric))
            throw py::value_error("add_route: " + cidr + " exists with that metric, or a bad interface/gateway");
          return;
        }
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 prefix: '" + cidr + "'");
        std::optional<stack::Ipv4Addr> gw;
        if (via) gw = parse_ip(*via);
        h.stack().add_route(c->first, c->second, gw, ifindex, metric);  // std::invalid_argument -> ValueError
      }, py::arg("cidr"), py::arg("via") = py::none(), py::arg("ifindex") = py::none(), py::arg("metric") = 0)
      .def("remove_route", [](sim::Host& h, const std::string& cidr) {
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 prefix: '" + cidr + "'");
        return h.stack().remove_route(c->first, c->second);
      })
      .def("routes", [](sim::Host& h) {
        py::list out;
        for (const auto& r : h.stack().routes().entries()) {
          py::dict d;
          d["prefix"] = r.prefix.str() + "/" + std::to_string(r.len);
          d["via"] = r.gateway ? py::object(py::str(r.gateway->str())) : py::object(py::none());
          d["ifindex"] = r.ifindex;
          d["metric"] = r.metric;
          d["connected"] = r.connected;
          out.append(d);
        }
        for (const auto& r : h.stack().routes6().entries()) {
          py::dict d;
          d["prefix"] = r.prefix.str() + "/" + std::to_string(r.len);
          d["via"] = r.gateway ? py::object(py::str(r.gateway->str())) : py::object(py::none());
          d["ifindex"] = r.ifindex;
          d["metric"] = r.metric;
          d["connected"] = r.connected;
          out.append(d);
        }
        return out;
      })
      .def("set_forwarding", [](sim::Host& h, bool on) {
        h.stack().set_forwarding(on);
        h.stack().set_forwarding6(on);
      })
      .def("add_vlan", [](sim::Host& h, int vid, int parent) {
        if (vid < 1 || vid > 4094) throw py::value_error("add_vlan: VLAN id must be 1..4094");
        return h.stack().add_vlan(parent, static_cast<std::uint16_t>(vid));
      }, py::arg("vid"), py::arg("parent") = 0)
      .def("add_address_on", [](sim::Host& h, int ifindex, const std::string& cidr) {
        if (is_v6(cidr)) {
          auto c6 = stack::parse_cidr6(cidr);
          if (!c6) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
          h.stack().add_address6(ifindex, c6->first, c6->second);
          return;
        }
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 address/prefix: '" + cidr + "'");
        h.stack().add_address(ifindex, c->first, c->second);
      })
      .def("path_mtu", [](sim::Host& h, const std::string& dst) -> std::size_t {
        if (is_v6(dst)) return h.stack().path_mtu6(parse_ip6(dst));
        return h.stack().path_mtu(parse_ip(dst));
      })
      .def("icmp_errors", [](sim::Host& h) {
        py::list out;
        for (const auto& e : h.stack().icmp_errors()) {
          py::dict d;
          d["from"] = e.from.str();
          d["type"] = e.type;
          d["code"] = e.code;
          d["orig_src"] = e.orig_src.str();
          d["orig_dst"] = e.orig_dst.str();
          d["orig_proto"] = e.orig_proto;
          d["orig_src_port"] = e.orig_src_port;
          d["orig_dst_port"] = e.orig_dst_port;
          d["mtu"] = e.mtu;
          d["at_ns"] = double(e.at) / 1000.0;
          out.append(d);
        }
        return out;
      })
      .def("neighbors", [](sim::Host& h) {
        py::list out;
        auto all = h.stack().neighbors();
        for (auto& n : h.stack().neighbors6()) all.push_back(std::move(n));
        for (const auto& n : all) {
          py::dict d;
          d["ifindex"] = n.ifindex;
          d["addr"] = n.addr;
          d["mac"] = stack::mac_str(n.mac);
          d["state"] = stack::nud_state_name(n.state);
          out.append(d);
        }
        return out;
      });

  // NicTestbench: raw NIC tests (veridian.NicTestbench wraps it).
  py::class_<sim::NicTestbench>(m, "NicTestbench")
      .def(py::init([](const sim::NicSpec& nic_spec, double rate_gbps, double latency_ns) {
             if (!(rate_gbps > 0)) throw py::value_error("rate_gbps must be > 0");
             if (latency_ns < 0) throw py::value_error("latency_ns must be >= 0");
             return std::make_unique<sim::NicTestbench>(
                 nic_spec, sim::LinkConfig{rate_gbps, static_cast<TimePs>(latency_ns * 1000.0)});
           }),
           py::arg("spec"), py::arg("rate_gbps") = 100.0, py::arg("latency_ns") = 0.0)
      .def("set_rss", [](sim::NicTestbench& tb, py::bytes key, std::vector<std::uint16_t> table, std::uint32_t types) {
        std::string_view k = key;
        if (k.size() != 40) throw py::value_error("set_rss: key must be 40 bytes, got " + std::to_string(k.size()));
        RssConfig c;
        std::copy(k.begin(), k.end(), c.key.begin());
        c.table = std::move(table);
        c.types = types;
        tb.set_rss(c);
      })
      .def("inject", [](sim::NicTestbench& tb, py::bytes frame) {
        std::string_view v = frame;
        if (v.empty()) throw py::value_error("inject: empty frame");
        tb.inject(std::vector<std::uint8_t>(v.begin(), v.end()));
      })
      .def("send", [](sim::NicTestbench& tb, py::bytes frame, bool ip, bool l4, bool partial, std::uint16_t start,
                      std::uint16_t offset, std::uint16_t mss, std::uint16_t queue) {
        std::string_view v = frame;
        sim::TxRequest r{ip, l4, partial, start, offset, mss, queue};
        return tb.send({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}, r);
      })
      .def("run_until_idle", [](sim::NicTestbench& tb, TimePs timeout) {
        py::gil_scoped_release nogil;
        return tb.run_until_idle(timeout);
      })
      .def("take_rx", [](sim::NicTestbench& tb) {
        py::list out;
        for (auto& c : tb.take_rx())
          out.append(py::make_tuple(py::bytes(reinterpret_cast<const char*>(c.data.data()), c.data.size()), c.queue,
                                    c.rss_hash, c.rss_type, c.csum_ip, c.csum_l4, c.time));
        return out;
      })
      .def("take_wire", [](sim::NicTestbench& tb) {
        py::list out;
        for (auto& f : tb.take_wire())
          out.append(py::make_tuple(py::bytes(reinterpret_cast<const char*>(f.data.data()), f.data.size()), f.time));
        return out;
      })
      .def_property_readonly("now_ps", [](sim::NicTestbench& tb) { return tb.events().now(); })
      .def_property_readonly("kind", [](sim::NicTestbench& tb) { return tb.nic().kind(); })
      .def("features", [](sim::NicTestbench& tb) {
        const auto& f = tb.nic().features();
        py::dict d;
        d["tx_csum_ip"] = f.tx_csum_ip;
        d["tx_csum_l4"] = f.tx_csum_l4;
        d["tx_csum_partial"] = f.tx_csum_partial;
        d["tso"] = f.tso;
        d["rx_csum"] = f.rx_csum;
        d["rx_hash"] = f.rx_hash;
        d["tx_queues"] = f.tx_queues;
        d["rx_queues"] = f.rx_queues;
        return d;
      })
      .def("nic_stats", [](sim::NicTestbench& tb) { return tb.nic().stats(); })
      .def("cycles", [](sim::NicTestbench& tb) -> py::object {
        auto* r = tb.rtl_nic();
        if (!r) return py::none();
        return py::int_(r->model().cycle());
      })
      .def("read_reg", [](sim::NicTestbench& tb, std::uint32_t addr) {
        return checked_read_reg(tb.rtl_nic(), addr, "the testbench");
      });

  py::class_<sim::TapBridge>(m, "TapBridge")
      .def_property_readonly("name", &sim::TapBridge::name)
      .def("link", &sim::TapBridge::link, py::return_value_policy::reference_internal)
      .def("stats", [](const sim::TapBridge& t) {
        const auto& s = t.stats();
        py::dict d;
        d["frames_to_kernel"] = s.frames_to_kernel;
        d["bytes_to_kernel"] = s.bytes_to_kernel;
        d["frames_from_kernel"] = s.frames_from_kernel;
        d["bytes_from_kernel"] = s.bytes_from_kernel;
        d["write_errors"] = s.write_errors;
        d["dropped_fcs"] = s.dropped_fcs;
        d["dropped_oversize"] = s.dropped_oversize;
        return d;
      });

  py::class_<sim::Simulation>(m, "Simulation")
      .def(py::init<std::uint64_t>(), py::arg("seed") = 1)
      .def("attach_tap", [](sim::Simulation& s, sim::Host& h, const std::string& ifname, double rate_gbps,
                            double latency_ns) -> sim::TapBridge& {
        if (!(rate_gbps > 0)) throw py::value_error("rate_gbps must be > 0");
        if (latency_ns < 0) throw py::value_error("latency_ns must be >= 0");
        try {
          return s.attach_tap(h, ifname, sim::LinkConfig{rate_gbps, static_cast<TimePs>(latency_ns * 1000.0)});
        } catch (const std::system_error& e) {
          PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.what()).ptr());
          throw py::error_already_set();
        }
      }, py::return_value_policy::reference_internal)
      .def_property_readonly("realtime", &sim::Simulation::realtime)
      .def("add_host", &sim::Simulation::add_host, py::return_value_policy::reference_internal)
      .def("connect", [](sim::Simulation& s, sim::Host& a, sim::Host& b, double rate_gbps, double latency_ns) -> sim::Link& {
        if (!(rate_gbps > 0)) throw py::value_error("rate_gbps must be > 0");
        if (latency_ns < 0) throw py::value_error("latency_ns must be >= 0");
        return s.connect(a, b, sim::LinkConfig{rate_gbps, static_cast<TimePs>(latency_ns * 1000.0)});
      }, py::return_value_policy::reference_internal)
      .def("capture", &sim::Simulation::capture)
      .def("flush", &sim::Simulation::flush_captures)
      .def("run_for_ps", [](sim::Simulation& s, TimePs d) { s.run_for(d); })
      .def("run_until_ps", [](sim::Simulation& s, TimePs t) { s.run_until(t); })
      .def("run_until_pred", [](sim::Simulation& s, std::function<bool()> pred, TimePs timeout) {
        return s.run_until(pred, timeout);
      })
      .def_property_readonly("now_ps", &sim::Simulation::now)
      .def_property_readonly("events_run", [](sim::Simulation& s) { return s.events().events_run(); })
      .def_property_readonly("seed", &sim::Simulation::seed)
      .def("ping6", [](sim::Simulation& s, sim::Host& h, const std::string& dst_s, int count, TimePs timeout,
                       std::size_t size, int hop_limit) {
        // Like Simulation::ping, over ICMPv6 (echo_replies6).
        if (count < 0) throw py::value_error("ping6: count must be >= 0");
        if (hop_limit < 0 || hop_limit > 255) throw py::value_error("ping6: hop limit must be 0..255 (0 = default)");
        const auto dst = parse_ip6(dst_s);
        py::list out;
        const std::uint16_t id = h.next_ping_id();
        auto& st = h.stack();
        for (int i = 0; i < count; ++i) {
          const auto seq = static_cast<std::uint16_t>(i + 1);
          const std::size_t seen = st.echo_replies6().size();
          if (auto ec = st.send_echo6(dst, id, seq, size, -1, static_cast<std::uint8_t>(hop_limit)))
            raise_ec(ec, "ping6 " + dst_s);
          std::optional<TimePs> rtt;
          s.run_until([&] {
            const auto& r = st.echo_replies6();
            for (std::size_t k = seen; k < r.size(); ++k)
              if (r[k].id == id && r[k].seq == seq) {
                rtt = r[k].received_at - r[k].sent_at;
                return true;
              }
            return false;
          }, timeout);
          out.append(rtt ? py::object(py::float_(double(*rtt) / 1000.0)) : py::object(py::none()));
        }
        return out;
      })
      .def("ping", [](sim::Simulation& s, sim::Host& h, const std::string& dst, int count, TimePs timeout, std::size_t size,
                      int ttl) {
        if (ttl < 0 || ttl > 255) throw py::value_error("ping: ttl must be 0..255 (0 = the stack's default)");
        auto r = s.ping(h, parse_ip(dst), count, timeout, size, static_cast<std::uint8_t>(ttl));
        py::list out;
        for (auto& x : r) out.append(x ? py::object(py::float_(double(*x) / 1000.0)) : py::object(py::none()));
        return out;
      })
      .def("run_stats", [](sim::Simulation& s) {
        py::dict d;
        for (const auto& h : s.hosts()) {
          if (auto* r = h->rtl_nic()) {
            py::dict x;
            x["cycles_evaluated"] = r->model().stats().cycles;
            x["cycles_skipped"] = r->run_stats().cycles_skipped;
            x["wakeups"] = r->run_stats().wakeups;
            d[py::str(h->name())] = x;
          }
        }
        return d;
      });

  bind_topology(m);  // after Host, Link and Simulation: it adds methods to them
}
