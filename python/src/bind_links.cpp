// The interface table for Python in the shape of `ip -j -s addr show`, so a
// script that reads Linux's JSON reads Veridian's the same way, and
// `ip link set dev X up|down`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bind.hpp"
#include "convert.hpp"

namespace vd::python {

namespace {

py::dict stats64(const stack::InterfaceCounters& c) {
  py::dict rx, tx, s;
  rx["bytes"] = c.rx_bytes;
  rx["packets"] = c.rx_packets;
  rx["errors"] = 0;
  rx["dropped"] = c.rx_dropped;
  tx["bytes"] = c.tx_bytes;
  tx["packets"] = c.tx_packets;
  tx["errors"] = 0;
  tx["dropped"] = c.tx_dropped;
  s["rx"] = rx;
  s["tx"] = tx;
  return s;
}

py::dict link_dict(const stack::Stack& st, const stack::InterfaceInfo& i, const std::vector<stack::InterfaceInfo>& all) {
  const bool lo = i.kind == "loopback";
  const bool running = i.up && i.carrier;
  py::dict d;
  d["ifindex"] = i.ifindex;
  d["ifname"] = i.name;
  if (i.parent >= 0) d["link"] = all[static_cast<std::size_t>(i.parent)].name;
  py::list flags;
  if (i.up && !i.carrier) flags.append("NO-CARRIER");
  flags.append(lo ? "LOOPBACK" : "BROADCAST");
  if (!lo) flags.append("MULTICAST");
  if (i.up) flags.append("UP");
  if (running) flags.append("LOWER_UP");
  d["flags"] = flags;
  d["mtu"] = i.mtu;
  // Linux reports lo as UNKNOWN: it has no carrier of its own to report.
  // Without carrier a device is DOWN; LOWERLAYERDOWN is for a stacked one
  // (a VLAN) whose lower device has none (default_operstate). Linux also
  // says LOWERLAYERDOWN for a veth whose peer is down in the same
  // namespace; here that veth says DOWN, as it does across namespaces.
  d["operstate"] = lo ? "UNKNOWN" : (running ? "UP" : (i.up && i.parent >= 0 ? "LOWERLAYERDOWN" : "DOWN"));
  d["link_type"] = lo ? "loopback" : "ether";
  d["address"] = stack::mac_str(i.mac);
  d["broadcast"] = lo ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff";
  if (!lo) {  // Linux has no linkinfo for lo either
    py::dict info;
    info["info_kind"] = i.kind;
    if (i.parent >= 0) {
      py::dict data;
      data["protocol"] = "802.1Q";
      data["id"] = i.vid;
      info["info_data"] = data;
    }
    d["linkinfo"] = info;
  }
  py::list addrs;
  for (const auto& [a, len] : i.addrs) {
    py::dict e;
    e["family"] = "inet";
    e["local"] = a.str();
    e["prefixlen"] = len;
    e["scope"] = a.b[0] == 127 ? "host" : "global";
    e["label"] = i.name;
    addrs.append(e);
  }
  for (const auto& a : st.addresses6(i.ifindex)) {
    py::dict e;
    e["family"] = "inet6";
    e["local"] = a.addr.str();
    e["prefixlen"] = a.prefix_len;
    e["scope"] = a.addr == stack::Ipv6Addr::loopback() ? "host" : (a.addr.is_link_local() ? "link" : "global");
    if (a.state == stack::Addr6State::tentative) e["tentative"] = true;
    if (a.state == stack::Addr6State::duplicate) e["dadfailed"] = true;
    addrs.append(e);
  }
  d["addr_info"] = addrs;
  d["stats64"] = stats64(i.counters);
  return d;
}

int resolve_link(const stack::Stack& st, const py::object& dev) {
  if (py::isinstance<py::str>(dev)) {
    const auto name = dev.cast<std::string>();
    if (auto i = st.ifindex_of(name)) return *i;
    throw py::value_error("no interface called '" + name + "'");
  }
  return dev.cast<int>();
}

}  // namespace

void bind_links(NsClass& host) {
  host.def("links", [](sim::NetNamespace& h) {
        const auto& st = h.stack();
        const auto all = st.interfaces();
        py::list out;
        for (const auto& i : all) out.append(link_dict(st, i, all));
        return out;
      })
      .def("set_link", [](sim::NetNamespace& h, const py::object& dev, bool up) {
        h.stack().set_link_up(resolve_link(h.stack(), dev), up);  // std::invalid_argument -> ValueError
      }, py::arg("dev"), py::arg("up"))
      .def("ifindex_of", [](sim::NetNamespace& h, const std::string& name) -> py::object {
        const auto i = h.stack().ifindex_of(name);
        return i ? py::object(py::int_(*i)) : py::object(py::none());
      });
}

}  // namespace vd::python
