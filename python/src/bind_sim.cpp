// pybind11 bindings of the simulation: Link (its rate and counters),
// TapBridge, and Simulation (hosts, cabling, captures, running, ping).
// bind_topology.cpp adds faults, switches and multi-NIC cabling;
// veridian/simulation.py wraps them.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <optional>
#include <string>

#include "bind.hpp"
#include "convert.hpp"

namespace vd::python {

namespace {

py::object rtt_ns(std::optional<TimePs> rtt) {
  return rtt ? py::object(py::float_(double(*rtt) / 1000.0)) : py::object(py::none());
}

// Like Simulation::ping, over ICMPv6 (echo_replies6): one RTT in ns (or None) per request.
py::list ping6(sim::Simulation& s, sim::NetNamespace& h, const std::string& dst_s, int count, TimePs timeout, std::size_t size,
               int hop_limit) {
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
    out.append(rtt_ns(rtt));
  }
  return out;
}

py::list ping(sim::Simulation& s, sim::NetNamespace& h, const std::string& dst, int count, TimePs timeout, std::size_t size,
              int ttl) {
  if (ttl < 0 || ttl > 255) throw py::value_error("ping: ttl must be 0..255 (0 = the stack's default)");
  auto r = s.ping(h, parse_ip(dst), count, timeout, size, static_cast<std::uint8_t>(ttl));
  py::list out;
  for (auto& x : r) out.append(rtt_ns(x));
  return out;
}

sim::TapBridge& attach_tap(sim::Simulation& s, sim::Host& h, const std::string& ifname, double rate_gbps,
                           double latency_ns) {
  const auto cfg = link_config(rate_gbps, latency_ns);
  try {
    return s.attach_tap(h, ifname, cfg);
  } catch (const std::system_error& e) {
    PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.what()).ptr());
    throw py::error_already_set();
  }
}

void bind_link_and_tap(py::module_& m) {
  py::class_<sim::Link>(m, "Link")
      .def_property_readonly("rate_gbps", [](const sim::Link& l) { return l.config().rate_gbps; })
      .def_property_readonly("latency_ns", [](const sim::Link& l) { return double(l.config().latency) / 1000.0; })
      .def("stats", [](const sim::Link& l, int side) {
        if (side != 0 && side != 1) throw py::value_error("side must be 0 or 1");
        return link_stats(l.stats(side));
      });

  py::class_<sim::TapBridge>(m, "TapBridge")
      .def_property_readonly("name", &sim::TapBridge::name)
      .def("link", &sim::TapBridge::link, py::return_value_policy::reference_internal)
      .def("stats", [](const sim::TapBridge& t) { return tap_stats(t.stats()); });
}

}  // namespace

void bind_sim(py::module_& m) {
  bind_link_and_tap(m);

  py::class_<sim::Simulation>(m, "Simulation")
      .def(py::init<std::uint64_t>(), py::arg("seed") = 1)
      .def("attach_tap", &attach_tap, py::return_value_policy::reference_internal)
      .def_property_readonly("realtime", &sim::Simulation::realtime)
      .def("add_host", &sim::Simulation::add_host, py::arg("name"), py::arg("spec"),
           py::arg("cpus") = std::nullopt, py::return_value_policy::reference_internal)
      // rate_gbps/latency_ns: None keeps sim::LinkConfig's default.
      .def("connect", [](sim::Simulation& s, sim::Host& a, sim::Host& b, std::optional<double> rate_gbps,
                         std::optional<double> latency_ns) -> sim::Link& {
        return s.connect(a, b, link_config(rate_gbps, latency_ns));
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
      .def("ping6", &ping6)
      .def("ping", &ping)
      .def("run_stats", [](sim::Simulation& s) {
        py::dict d;
        for (const auto& h : s.hosts())
          if (auto* r = h->rtl_nic()) d[py::str(h->name())] = rtl_run_stats(*r);
        return d;
      });
}

}  // namespace vd::python
