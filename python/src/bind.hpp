// The _veridian module's parts (one bind_*.cpp per area, called in this
// order by module.cpp) and the checks several of them share.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "veridian/sim/simulation.hpp"

namespace vd::python {

namespace py = pybind11;

void bind_nic(py::module_& m);        // bind_nic.cpp: DmaConfig, NicSpec, rtl_widths
void bind_sockets(py::module_& m);    // bind_sockets.cpp: UDP, raw, local and TCP sockets
void bind_host(py::module_& m);       // bind_host.cpp: Host (addresses, routes, NICs, sockets)
void bind_sim(py::module_& m);        // bind_sim.cpp: Link, TapBridge, Simulation
void bind_topology(py::module_& m);   // bind_topology.cpp: faults, switches, multi-NIC cabling (after bind_sim)
void bind_testbench(py::module_& m);  // bind_testbench.cpp: NicTestbench
void bind_cpus(py::module_& m);       // bind_cpus.cpp: CpuConfig, cost tables (before bind_host)
using NsClass = py::class_<sim::NetNamespace, std::shared_ptr<sim::NetNamespace>>;
void bind_host_cpus(py::class_<sim::Host>& h);  // bind_cpus.cpp: Host.cpu_stats
void bind_links(NsClass& ns);                   // bind_links.cpp: links (ip -j -s addr), set_link
void bind_namespaces(py::class_<sim::Host>& h); // bind_netns.cpp: add_namespace, add_veth, move_interface, ...

// A link's configuration; an argument left out keeps sim::LinkConfig's default.
inline sim::LinkConfig link_config(std::optional<double> rate_gbps, std::optional<double> latency_ns) {
  sim::LinkConfig c;
  if (rate_gbps) {
    if (!(*rate_gbps > 0)) throw py::value_error("rate_gbps must be > 0");
    c.rate_gbps = *rate_gbps;
  }
  if (latency_ns) {
    if (!(*latency_ns >= 0)) throw py::value_error("latency_ns must be >= 0");
    c.latency = static_cast<TimePs>(*latency_ns * 1000.0);
  }
  return c;
}

// NIC k of a host, IndexError when it has fewer.
inline dev::WiredDevice& nic_at(sim::Host& h, std::size_t k) {
  if (k >= h.nic_count())
    throw py::index_error("host '" + h.name() + "' has no NIC " + std::to_string(k) + " (it has " +
                          std::to_string(h.nic_count()) + ")");
  return h.nic(k);
}

// MMIO read for Python: RtlNic only, a 4-aligned register address.
inline std::uint32_t checked_read_reg(dev::RtlNic* r, std::uint32_t addr, const std::string& who) {
  if (!r) throw py::type_error("read_reg: " + who + " has a SoftNic, not an RtlNic");
  if (addr % 4 || addr > 0xffff) throw py::value_error("read_reg: register address must be 4-aligned and < 0x10000");
  return r->read_reg(addr);
}

}  // namespace vd::python
