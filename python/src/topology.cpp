// pybind11 bindings for topology and faults: link faults and their counters,
// hosts with several NICs, learning switches, delivered-side captures. Kept
// apart from module.cpp (which registers Host, Link and Simulation); the
// methods here are added to those classes. veridian/__init__.py wraps them.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <optional>
#include <string>

#include "veridian/sim/simulation.hpp"
#include "veridian/sim/switch.hpp"

namespace py = pybind11;
using namespace vd;

namespace {

int check_side(int side) {
  if (side != 0 && side != 1) throw py::value_error("direction must be 0 or 1");
  return side;
}

sim::LinkConfig link_config(double rate_gbps, double latency_ns) {
  if (!(rate_gbps > 0)) throw py::value_error("rate_gbps must be > 0");
  if (!(latency_ns >= 0)) throw py::value_error("latency_ns must be >= 0");
  return sim::LinkConfig{rate_gbps, static_cast<TimePs>(latency_ns * 1000.0)};
}

MacAddr parse_mac(const std::string& s) {
  MacAddr m{};
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
    throw py::value_error("not a MAC address: '" + s + "'");
  for (int i = 0; i < 6; ++i) m[std::size_t(i)] = static_cast<std::uint8_t>(v[i]);
  return m;
}

py::dict fault_stats(const sim::LinkFaultStats& s) {
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

py::dict pool_stats(dev::WiredDevice& n) {
  const auto& s = n.pool().stats();
  py::dict d;
  d["allocs"] = s.allocs;
  d["frees"] = s.frees;
  d["alloc_failures"] = s.alloc_failures;
  d["bytes_copied_in"] = s.bytes_copied_in;
  d["bytes_copied_out"] = s.bytes_copied_out;
  d["available"] = n.pool().available();
  return d;
}

}  // namespace

void bind_topology(py::module_& m) {
  py::class_<sim::LinkFaults>(m, "LinkFaultsSpec")
      .def(py::init<>())
      .def_readwrite("loss", &sim::LinkFaults::loss)
      .def_readwrite("duplicate", &sim::LinkFaults::duplicate)
      .def_readwrite("reorder", &sim::LinkFaults::reorder)
      .def_readwrite("reorder_delay_ps", &sim::LinkFaults::reorder_delay)
      .def_readwrite("corrupt", &sim::LinkFaults::corrupt)
      .def_readwrite("corrupt_bits", &sim::LinkFaults::corrupt_bits)
      .def_readwrite("corrupt_from", &sim::LinkFaults::corrupt_from)
      .def_readwrite("corrupt_keep_fcs", &sim::LinkFaults::corrupt_keep_fcs)
      .def_readwrite("jitter_ps", &sim::LinkFaults::jitter)
      .def_readwrite("cap_gbps", &sim::LinkFaults::cap_gbps)
      .def_readwrite("cap_queue", &sim::LinkFaults::cap_queue);

  auto link = py::reinterpret_borrow<py::class_<sim::Link>>(m.attr("Link"));
  link.def("set_faults", [](sim::Link& l, int side, const sim::LinkFaults& f) {
        try {
          l.set_faults(check_side(side), f);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      })
      .def("faults", [](const sim::Link& l, int side) { return l.faults(check_side(side)); })
      .def("fault_stats", [](const sim::Link& l, int side) { return fault_stats(l.fault_stats(check_side(side))); });

  py::class_<sim::Switch>(m, "Switch")
      .def_property_readonly("name", &sim::Switch::name)
      .def_property_readonly("ports", &sim::Switch::ports)
      .def("cabled", &sim::Switch::cabled)
      .def("stats", [](const sim::Switch& s) {
        const auto& x = s.stats();
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
      })
      .def("port_stats", [](const sim::Switch& s, unsigned port) {
        if (port >= s.ports()) throw py::index_error("no port " + std::to_string(port));
        const auto& x = s.port_stats(port);
        py::dict d;
        d["rx_frames"] = x.rx_frames;
        d["rx_bytes"] = x.rx_bytes;
        d["tx_frames"] = x.tx_frames;
        d["tx_bytes"] = x.tx_bytes;
        d["rx_fcs_errors"] = x.rx_fcs_errors;
        return d;
      })
      .def("mac_table", [](sim::Switch& s, TimePs now) {
        py::list out;
        for (const auto& e : s.mac_table())
          out.append(py::make_tuple(stack::mac_str(e.mac), e.port, double(now - e.last_seen) / 1000.0));
        return out;
      })
      .def("lookup", [](sim::Switch& s, const std::string& mac) { return s.lookup(parse_mac(mac)); })
      .def("flush_table", &sim::Switch::flush_table);

  auto host = py::reinterpret_borrow<py::class_<sim::Host>>(m.attr("Host"));
  auto nic_at = [](sim::Host& h, std::size_t k) -> dev::WiredDevice& {
    if (k >= h.nic_count())
      throw py::index_error("host '" + h.name() + "' has no NIC " + std::to_string(k) + " (it has " +
                            std::to_string(h.nic_count()) + ")");
    return h.nic(k);
  };
  host.def("add_nic", [](sim::Host& h, const sim::NicSpec& spec) {
        try {
          return h.add_nic(spec);
        } catch (const std::length_error& e) {
          throw py::value_error(e.what());
        }
      })
      .def_property_readonly("nic_count", &sim::Host::nic_count)
      .def("nic_kind_at", [nic_at](sim::Host& h, std::size_t k) { return nic_at(h, k).kind(); })
      .def("mac_at", [nic_at](sim::Host& h, std::size_t k) { return stack::mac_str(nic_at(h, k).mac()); })
      .def("nic_stats_at", [nic_at](sim::Host& h, std::size_t k) { return nic_at(h, k).stats(); })
      .def("nic_registers_at", [nic_at](sim::Host& h, std::size_t k) {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) throw py::type_error("nic_registers: host '" + h.name() + "' NIC " + std::to_string(k) + " is a SoftNic");
        return r->nic_registers();
      })
      .def("read_reg_at", [nic_at](sim::Host& h, std::size_t k, std::uint32_t addr) {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) throw py::type_error("read_reg: host '" + h.name() + "' NIC " + std::to_string(k) + " is a SoftNic");
        if (addr % 4 || addr > 0xffff) throw py::value_error("read_reg: register address must be 4-aligned and < 0x10000");
        return r->read_reg(addr);
      })
      .def("pool_stats_at", [nic_at](sim::Host& h, std::size_t k) { return pool_stats(nic_at(h, k)); })
      .def("inject_at", [nic_at](sim::Host& h, std::size_t k, py::bytes frame, bool fcs_error) {
        std::string_view v = frame;
        nic_at(h, k).inject(std::vector<std::uint8_t>(v.begin(), v.end()), fcs_error);
      })
      .def("run_stats_at", [nic_at](sim::Host& h, std::size_t k) -> py::object {
        nic_at(h, k);
        auto* r = h.rtl_nic(k);
        if (!r) return py::none();
        py::dict x;
        x["cycles_evaluated"] = r->model().stats().cycles;
        x["cycles_skipped"] = r->run_stats().cycles_skipped;
        x["wakeups"] = r->run_stats().wakeups;
        return x;
      })
      .def("add_address_if", [](sim::Host& h, int ifindex, const std::string& cidr) {
        if (cidr.find(':') != std::string::npos) {  // IPv6
          auto c6 = stack::parse_cidr6(cidr);
          if (!c6) throw py::value_error("not an IPv6 address/prefix: '" + cidr + "'");
          h.stack().add_address6(ifindex, c6->first, c6->second);  // std::invalid_argument -> ValueError
          return;
        }
        auto c = stack::parse_cidr(cidr);
        if (!c) throw py::value_error("not an IPv4 address/prefix: '" + cidr + "'");
        h.stack().add_address(ifindex, c->first, c->second);  // std::invalid_argument -> ValueError
      })
      .def("ifindex_at", [nic_at](sim::Host& h, std::size_t k) {
        nic_at(h, k);
        return h.ifindex(k);
      })
      .def("nic_for_ifindex", &sim::Host::nic_for_ifindex);

  auto simc = py::reinterpret_borrow<py::class_<sim::Simulation>>(m.attr("Simulation"));
  simc.def("capture_delivered", &sim::Simulation::capture_delivered)
      .def("add_switch", [](sim::Simulation& s, const std::string& name, unsigned ports, double ageing_s,
                            double latency_ns, std::size_t table_size) -> sim::Switch& {
        if (ports < 1 || ports > 1024) throw py::value_error("ports must be in 1..1024");
        if (!(ageing_s > 0)) throw py::value_error("ageing_s must be > 0");
        if (!(latency_ns >= 0)) throw py::value_error("latency_ns must be >= 0");
        if (table_size < 1) throw py::value_error("table_size must be >= 1");
        sim::SwitchConfig c;
        c.ports = ports;
        c.ageing = static_cast<TimePs>(ageing_s * 1e12);
        c.latency = static_cast<TimePs>(latency_ns * 1000.0);
        c.table_size = table_size;
        try {
          return s.add_switch(name, c);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      }, py::return_value_policy::reference_internal)
      .def("connect_hosts", [nic_at](sim::Simulation& s, sim::Host& a, sim::Host& b, double rate_gbps,
                                     double latency_ns, std::size_t a_nic, std::size_t b_nic) -> sim::Link& {
        nic_at(a, a_nic);
        nic_at(b, b_nic);
        return s.connect(a, b, link_config(rate_gbps, latency_ns), a_nic, b_nic);
      }, py::return_value_policy::reference_internal)
      .def("connect_host_switch", [nic_at](sim::Simulation& s, sim::Host& h, sim::Switch& sw, double rate_gbps,
                                           double latency_ns, std::size_t h_nic,
                                           std::optional<unsigned> port) -> sim::Link& {
        nic_at(h, h_nic);
        if (port && *port >= sw.ports()) throw py::index_error("switch '" + sw.name() + "' has no port " + std::to_string(*port));
        return s.connect(h, sw, link_config(rate_gbps, latency_ns), h_nic, port);
      }, py::return_value_policy::reference_internal)
      .def("connect_switches", [](sim::Simulation& s, sim::Switch& a, sim::Switch& b, double rate_gbps,
                                  double latency_ns, std::optional<unsigned> a_port,
                                  std::optional<unsigned> b_port) -> sim::Link& {
        if (a_port && *a_port >= a.ports()) throw py::index_error("switch '" + a.name() + "' has no port " + std::to_string(*a_port));
        if (b_port && *b_port >= b.ports()) throw py::index_error("switch '" + b.name() + "' has no port " + std::to_string(*b_port));
        return s.connect(a, b, link_config(rate_gbps, latency_ns), a_port, b_port);
      }, py::return_value_policy::reference_internal);
}
