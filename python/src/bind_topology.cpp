// pybind11 bindings for topology and faults: link faults and their counters,
// learning switches, cabling of several NICs and switches, delivered-side
// captures. The methods here are added to the Link and Simulation classes
// bind_sim.cpp registers; veridian/topology.py and simulation.py wrap them.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "bind.hpp"
#include "convert.hpp"
#include "veridian/sim/simulation.hpp"
#include "veridian/sim/switch.hpp"

namespace vd::python {

namespace {

int check_side(int side) {
  if (side != 0 && side != 1) throw py::value_error("direction must be 0 or 1");
  return side;
}

void check_port(const sim::Switch& sw, std::optional<unsigned> port) {
  if (port && *port >= sw.ports()) throw py::index_error("switch '" + sw.name() + "' has no port " + std::to_string(*port));
}

// A switch; an argument left out keeps sim::SwitchConfig's default.
sim::Switch& add_switch(sim::Simulation& s, const std::string& name, std::optional<unsigned> ports,
                        std::optional<double> ageing_s, std::optional<double> latency_ns,
                        std::optional<std::size_t> table_size) {
  sim::SwitchConfig c;
  if (ports) {
    if (*ports < 1 || *ports > 1024) throw py::value_error("ports must be in 1..1024");
    c.ports = *ports;
  }
  if (ageing_s) {
    if (!(*ageing_s > 0)) throw py::value_error("ageing_s must be > 0");
    c.ageing = static_cast<TimePs>(*ageing_s * 1e12);
  }
  if (latency_ns) {
    if (!(*latency_ns >= 0)) throw py::value_error("latency_ns must be >= 0");
    c.latency = static_cast<TimePs>(*latency_ns * 1000.0);
  }
  if (table_size) {
    if (*table_size < 1) throw py::value_error("table_size must be >= 1");
    c.table_size = *table_size;
  }
  try {
    return s.add_switch(name, c);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

void bind_faults(py::module_& m) {
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
}

void bind_switch(py::module_& m) {
  py::class_<sim::Switch>(m, "Switch")
      .def_property_readonly("name", &sim::Switch::name)
      .def_property_readonly("ports", &sim::Switch::ports)
      .def("cabled", &sim::Switch::cabled)
      .def("stats", [](const sim::Switch& s) { return switch_stats(s.stats()); })
      .def("port_stats", [](const sim::Switch& s, unsigned port) {
        if (port >= s.ports()) throw py::index_error("no port " + std::to_string(port));
        return switch_port_stats(s.port_stats(port));
      })
      .def("mac_table", [](sim::Switch& s, TimePs now) {
        py::list out;
        for (const auto& e : s.mac_table())
          out.append(py::make_tuple(stack::mac_str(e.mac), e.port, double(now - e.last_seen) / 1000.0));
        return out;
      })
      .def("lookup", [](sim::Switch& s, const std::string& mac) { return s.lookup(parse_mac(mac)); })
      .def("flush_table", &sim::Switch::flush_table);
}

// Cabling by NIC number and switch port; rate_gbps/latency_ns None keeps
// sim::LinkConfig's default.
void bind_cabling(py::module_& m) {
  using Opt = std::optional<double>;
  auto simc = py::reinterpret_borrow<py::class_<sim::Simulation>>(m.attr("Simulation"));
  simc.def("capture_delivered", &sim::Simulation::capture_delivered)
      .def("add_switch", &add_switch, py::return_value_policy::reference_internal)
      .def("connect_hosts", [](sim::Simulation& s, sim::Host& a, sim::Host& b, Opt rate_gbps, Opt latency_ns,
                               std::size_t a_nic, std::size_t b_nic) -> sim::Link& {
        nic_at(a, a_nic);
        nic_at(b, b_nic);
        return s.connect(a, b, link_config(rate_gbps, latency_ns), a_nic, b_nic);
      }, py::return_value_policy::reference_internal)
      .def("connect_host_switch", [](sim::Simulation& s, sim::Host& h, sim::Switch& sw, Opt rate_gbps, Opt latency_ns,
                                     std::size_t h_nic, std::optional<unsigned> port) -> sim::Link& {
        nic_at(h, h_nic);
        check_port(sw, port);
        return s.connect(h, sw, link_config(rate_gbps, latency_ns), h_nic, port);
      }, py::return_value_policy::reference_internal)
      .def("connect_switches", [](sim::Simulation& s, sim::Switch& a, sim::Switch& b, Opt rate_gbps, Opt latency_ns,
                                  std::optional<unsigned> a_port, std::optional<unsigned> b_port) -> sim::Link& {
        check_port(a, a_port);
        check_port(b, b_port);
        return s.connect(a, b, link_config(rate_gbps, latency_ns), a_port, b_port);
      }, py::return_value_policy::reference_internal);
}

}  // namespace

void bind_topology(py::module_& m) {
  bind_faults(m);
  bind_switch(m);
  bind_cabling(m);
}

}  // namespace vd::python
