// pybind11 bindings of sim::NetNamespace (a stack: addresses, IPv4 and
// IPv6 routing and what ICMP told us, the sockets it makes) and sim::Host
// (its NICs, CPUs and namespaces). veridian/host.py wraps them.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bind.hpp"
#include "convert.hpp"

namespace vd::python {

namespace {

using HostClass = py::class_<sim::Host>;

// An IPv4 or IPv6 address/prefix on interface `ifindex`.
void add_address_to(sim::NetNamespace& h, int ifindex, const std::string& cidr) {
  if (is_v6(cidr)) {
    auto c6 = stack::parse_cidr6(cidr);
    if (!c6) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
    h.stack().add_address6(ifindex, c6->first, c6->second);  // std::invalid_argument -> ValueError
    return;
  }
  auto c = stack::parse_cidr(cidr);
  if (!c) throw py::value_error("not an IPv4 address/prefix: '" + cidr + "'");
  h.stack().add_address(ifindex, c->first, c->second);  // std::invalid_argument -> ValueError
}

// Router advertisements; an argument left out keeps RouterAdvertConfig's default.
void set_router_advert(sim::NetNamespace& h, const std::vector<std::string>& prefixes, std::optional<double> interval_s,
                       std::optional<std::uint16_t> lifetime_s, std::optional<std::uint32_t> mtu) {
  stack::RouterAdvertConfig ra;
  if (interval_s) {
    if (!(*interval_s > 0)) throw py::value_error("interval_s must be > 0");
    ra.interval = static_cast<TimePs>(*interval_s * 1e12);
  }
  for (const auto& p : prefixes) {
    auto c = stack::parse_cidr6(p);
    if (!c) throw py::value_error("not an IPv6 prefix: '" + p + "'");
    stack::PrefixAdvert pa;
    pa.prefix = c->first;
    pa.prefix_len = c->second;
    ra.prefixes.push_back(pa);
  }
  if (lifetime_s) ra.router_lifetime_s = *lifetime_s;
  if (mtu) ra.mtu = *mtu;
  h.stack().set_router_advert(h.default_ifindex(), ra);
}

void add_route(sim::NetNamespace& h, const std::string& cidr, std::optional<std::string> via, std::optional<int> ifindex,
               std::uint32_t metric) {
  if (is_v6(cidr)) {
    auto c6 = stack::parse_cidr6(cidr);
    if (!c6) throw py::value_error("not an IPv6 prefix: '" + cidr + "'");
    std::optional<stack::Ipv6Addr> gw6;
    if (via) gw6 = parse_ip6(*via);
    if (!h.stack().add_route6(c6->first, c6->second, gw6, ifindex.value_or(h.default_ifindex()), metric))
      throw py::value_error("add_route: " + cidr + " exists with that metric, or a bad interface/gateway");
    return;
  }
  auto c = stack::parse_cidr(cidr);
  if (!c) throw py::value_error("not an IPv4 prefix: '" + cidr + "'");
  std::optional<stack::Ipv4Addr> gw;
  if (via) gw = parse_ip(*via);
  h.stack().add_route(c->first, c->second, gw, ifindex, metric);  // std::invalid_argument -> ValueError
}

// One routing table entry (IPv4 or IPv6) as a dict.
template <typename Route>
py::dict route_dict(const Route& r) {
  py::dict d;
  d["prefix"] = r.prefix.str() + "/" + std::to_string(r.len);
  d["via"] = r.gateway ? py::object(py::str(r.gateway->str())) : py::object(py::none());
  d["ifindex"] = r.ifindex;
  d["metric"] = r.metric;
  d["connected"] = r.connected;
  return d;
}

py::dict icmp_error_dict(const stack::IcmpErrorInfo& e) {
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
  return d;
}

void bind_addresses(NsClass& host) {
  host.def("add_address", [](sim::NetNamespace& h, const std::string& cidr) { add_address_to(h, h.default_ifindex(), cidr); })
      .def("add_address_if", &add_address_to)
      .def("add_address_on", &add_address_to)
      .def("enable_ipv6", [](sim::NetNamespace& h) { h.stack().enable_ipv6(h.default_ifindex()); })
      .def("addresses6", [](sim::NetNamespace& h) {
        py::list out;
        for (const auto& a : h.stack().addresses6(h.default_ifindex()))
          out.append(py::make_tuple(a.addr.str(), a.prefix_len, stack::to_string(a.state), a.autoconf));
        return out;
      })
      .def("set_router_advert", &set_router_advert, py::arg("prefixes"), py::arg("interval_s") = py::none(),
           py::arg("lifetime_s") = py::none(), py::arg("mtu") = py::none())
      .def("default_router6", [](sim::NetNamespace& h) -> py::object {
        const auto r = h.stack().default_router6();
        return r ? py::object(py::str(r->str())) : py::object(py::none());
      });
}

void bind_routing(NsClass& host) {
  host.def("add_route6", [](sim::NetNamespace& h, const std::string& cidr, const std::string& gateway, std::uint32_t metric) {
        auto c = stack::parse_cidr6(cidr);
        if (!c) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
        std::optional<stack::Ipv6Addr> gw;
        if (!gateway.empty()) gw = parse_ip6(gateway);
        return h.stack().add_route6(c->first, c->second, gw, h.default_ifindex(), metric);
      })
      .def("add_route", &add_route, py::arg("cidr"), py::arg("via") = py::none(), py::arg("ifindex") = py::none(),
           py::arg("metric") = 0)
      .def("remove_route", [](sim::NetNamespace& h, const std::string& cidr) {
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 prefix: '" + cidr + "'");
        return h.stack().remove_route(c->first, c->second);
      })
      .def("routes", [](sim::NetNamespace& h) {
        py::list out;
        for (const auto& r : h.stack().routes().entries()) out.append(route_dict(r));
        for (const auto& r : h.stack().routes6().entries()) out.append(route_dict(r));
        return out;
      })
      .def("set_forwarding", [](sim::NetNamespace& h, bool on) {
        h.stack().set_forwarding(on);
        h.stack().set_forwarding6(on);
      })
      .def("add_vlan", [](sim::NetNamespace& h, int vid, int parent) {
        if (vid < 1 || vid > 4094) throw py::value_error("add_vlan: VLAN id must be 1..4094");
        return h.stack().add_vlan(parent, static_cast<std::uint16_t>(vid));
      }, py::arg("vid"), py::arg("parent") = 0)
      .def("path_mtu", [](sim::NetNamespace& h, const std::string& dst) -> std::size_t {
        if (is_v6(dst)) return h.stack().path_mtu6(parse_ip6(dst));
        return h.stack().path_mtu(parse_ip(dst));
      })
      .def("path_mtu6", [](sim::NetNamespace& h, const std::string& dst) { return h.stack().path_mtu6(parse_ip6(dst)); })
      .def("icmp_errors", [](sim::NetNamespace& h) {
        py::list out;
        for (const auto& e : h.stack().icmp_errors()) out.append(icmp_error_dict(e));
        return out;
      })
      .def("neighbors", [](sim::NetNamespace& h) {
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
}

// The first NIC (nic_kind, mac, ...) and NIC k (..._at).
void bind_nics(HostClass& host) {
  host.def_property_readonly("nic_kind", [](sim::Host& h) { return h.nic().kind(); })
      .def_property_readonly("mac", [](sim::Host& h) { return stack::mac_str(h.nic().mac()); })
      .def("nic_stats", [](sim::Host& h) { return h.nic().stats(); })
      .def("nic_registers", [](sim::Host& h) {
        auto* r = h.rtl_nic();
        if (!r) throw py::type_error("nic_registers: host '" + h.name() + "' has a SoftNic, not an RtlNic");
        return r->nic_registers();
      })
      .def("read_reg", [](sim::Host& h, std::uint32_t addr) {
        return checked_read_reg(h.rtl_nic(), addr, "host '" + h.name() + "'");
      })
      .def("pool_stats", [](sim::Host& h) { return pool_stats(h.nic()); })
      .def("inject", [](sim::Host& h, py::bytes frame, bool fcs_error) {
        h.nic().inject(byte_vector(frame), fcs_error);
      }, py::arg("frame"), py::arg("fcs_error") = false)
      .def("add_nic", [](sim::Host& h, const sim::NicSpec& spec) {
        try {
          return h.add_nic(spec);
        } catch (const std::length_error& e) {
          throw py::value_error(e.what());
        }
      })
      .def_property_readonly("nic_count", &sim::Host::nic_count)
      .def("nic_kind_at", [](sim::Host& h, std::size_t k) { return nic_at(h, k).kind(); })
      .def("mac_at", [](sim::Host& h, std::size_t k) { return stack::mac_str(nic_at(h, k).mac()); })
      .def("nic_stats_at", [](sim::Host& h, std::size_t k) { return nic_at(h, k).stats(); })
      .def("nic_registers_at", [](sim::Host& h, std::size_t k) {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) throw py::type_error("nic_registers: host '" + h.name() + "' NIC " + std::to_string(k) + " is a SoftNic");
        return r->nic_registers();
      })
      .def("read_reg_at", [](sim::Host& h, std::size_t k, std::uint32_t addr) {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) throw py::type_error("read_reg: host '" + h.name() + "' NIC " + std::to_string(k) + " is a SoftNic");
        if (addr % 4 || addr > 0xffff) throw py::value_error("read_reg: register address must be 4-aligned and < 0x10000");
        return r->read_reg(addr);
      })
      .def("pool_stats_at", [](sim::Host& h, std::size_t k) { return pool_stats(nic_at(h, k)); })
      .def("inject_at", [](sim::Host& h, std::size_t k, py::bytes frame, bool fcs_error) {
        nic_at(h, k).inject(byte_vector(frame), fcs_error);
      })
      .def("run_stats_at", [](sim::Host& h, std::size_t k) -> py::object {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) return py::none();
        return rtl_run_stats(*r);
      })
      .def("ifindex_at", [](sim::Host& h, std::size_t k) {
        nic_at(h, k);
        return h.ifindex(k);
      })
      .def("nic_for_ifindex", &sim::Host::nic_for_ifindex);
}

void bind_host_sockets(NsClass& host) {
  host.def("udp_socket", [](sim::NetNamespace& h) { return h.stack().udp_socket(); })
      .def("tcp_socket", [](sim::NetNamespace& h) { return h.stack().tcp_socket(); })
      .def("raw_socket", [](sim::NetNamespace& h, int proto, int family) {
        if (proto < 0 || proto > 255) throw py::value_error("protocol must be 0..255");
        if (family != 4 && family != 6)
          raise_ec(std::make_error_code(std::errc::address_family_not_supported), "raw_socket: family must be 4 or 6");
        return h.stack().raw_socket(family, static_cast<std::uint8_t>(proto));
      })
      .def("local_socket", [](sim::NetNamespace& h, const std::string& kind) {
        if (kind == "stream") return h.stack().local_socket(stack::LocalSocket::Kind::Stream);
        if (kind == "dgram" || kind == "datagram") return h.stack().local_socket(stack::LocalSocket::Kind::Datagram);
        throw py::value_error("kind must be 'stream' or 'dgram', not '" + kind + "'");
      });
}

}  // namespace

void bind_host(py::module_& m) {
  // The stack half of a host: what a namespace and the root one share.
  NsClass ns(m, "NetNamespace");
  ns.def_property_readonly("name", &sim::NetNamespace::name)
      .def_property_readonly("deleted", &sim::NetNamespace::deleted)
      .def("default_ifindex", &sim::NetNamespace::default_ifindex)
      .def("stats", [](sim::NetNamespace& n) { return stack_stats(n.stack().stats()); });
  bind_addresses(ns);
  bind_routing(ns);
  bind_host_sockets(ns);
  bind_links(ns);

  HostClass host(m, "Host");
  host.def_property_readonly("name", &sim::Host::name)
      .def_property_readonly("root", &sim::Host::root_ptr);
  bind_nics(host);
  bind_host_cpus(host);
  bind_namespaces(host);
}

}  // namespace vd::python
