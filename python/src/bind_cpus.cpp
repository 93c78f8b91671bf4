// pybind11 bindings of the host CPU model (sim/cpus.hpp): the config a host
// is made with, cost tables, per-core statistics and a socket's core.
// veridian/cpus.py wraps them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bind.hpp"

namespace vd::python {

namespace {

py::dict table_dict(const sim::CostTable& t) {
  py::dict cycles;
  for (std::size_t i = 0; i < kWorkKinds; ++i) cycles[py::str(std::string(kWorkNames[i]))] = t.cycles[i];
  py::dict d;
  d["cycles"] = cycles;
  d["source"] = t.source;
  return d;
}

sim::CostTable parse_table(const std::string& text, const std::string& origin) {
  try {
    return sim::CostTable::parse(text, origin);
  } catch (const sim::CostTableError& e) {
    throw py::value_error(e.what());
  }
}

sim::CpuConfig make_config(unsigned cores, double ghz, std::optional<std::string> table_text,
                           std::vector<std::vector<unsigned>> irq_affinity, unsigned app_core) {
  sim::CpuConfig c;
  c.cores = cores;
  c.ghz = ghz;
  if (table_text) c.table = parse_table(*table_text, "table");
  c.irq_affinity = std::move(irq_affinity);
  c.app_core = app_core;
  if (c.cores == 0 || c.cores > 1024) throw py::value_error("cores must be 1..1024, got " + std::to_string(cores));
  if (!(c.ghz > 0)) throw py::value_error("ghz must be > 0");
  if (c.app_core >= c.cores) throw py::value_error("app_core " + std::to_string(app_core) + " is not one of the " +
                                                   std::to_string(cores) + " cores");
  for (std::size_t k = 0; k < c.irq_affinity.size(); ++k)
    for (unsigned core : c.irq_affinity[k])
      if (core >= c.cores)
        throw py::value_error("irq_affinity[" + std::to_string(k) + "] names core " + std::to_string(core) +
                              " of " + std::to_string(cores));
  return c;
}

py::dict core_dict(const sim::HostCpus& cpus, unsigned k) {
  const sim::CoreStats& s = cpus.stats(k);
  py::dict by_use, cycles, done;
  for (std::size_t u = 0; u < s.busy_by_use.size(); ++u)
    by_use[py::str(std::string(sim::kCpuUseNames[u]))] = double(s.busy_by_use[u]) / 1e3;
  for (std::size_t i = 0; i < kWorkKinds; ++i) {
    cycles[py::str(std::string(kWorkNames[i]))] = s.cycles_by_work[i];
    done[py::str(std::string(kWorkNames[i]))] = s.work_done[i];
  }
  py::dict d;
  d["core"] = k;
  d["busy_ns"] = double(s.busy) / 1e3;
  d["busy_ns_by_use"] = by_use;
  d["cycles_by_work"] = cycles;
  d["work_done"] = done;
  d["items"] = s.items;
  d["waited"] = s.waited;
  d["wait_total_ns"] = double(s.wait_total) / 1e3;
  d["wait_max_ns"] = double(s.wait_max) / 1e3;
  d["free_at_ns"] = double(cpus.free_at(k)) / 1e3;
  return d;
}

}  // namespace

void bind_cpus(py::module_& m) {
  py::class_<sim::CpuConfig>(m, "CpuConfig")
      .def_readonly("cores", &sim::CpuConfig::cores)
      .def_readonly("ghz", &sim::CpuConfig::ghz)
      .def_readonly("app_core", &sim::CpuConfig::app_core)
      .def_property_readonly("table", [](const sim::CpuConfig& c) { return table_dict(c.table); });
  m.def("cpu_config", &make_config, py::arg("cores"), py::arg("ghz"), py::arg("table_text"), py::arg("irq_affinity"),
        py::arg("app_core"));
  m.def("default_cost_table", [] { return table_dict(sim::CostTable::defaults()); });
  m.def("parse_cost_table", [](const std::string& text, const std::string& origin) {
    return table_dict(parse_table(text, origin));
  }, py::arg("text"), py::arg("origin") = "<text>");
  m.def("work_names", [] {
    std::vector<std::string> v;
    for (auto n : kWorkNames) v.emplace_back(n);
    return v;
  });
}

void bind_host_cpus(py::class_<sim::Host>& h) {
  h.def("cpu_stats", [](sim::Host& host) -> py::object {
    sim::HostCpus* c = host.cpus();
    if (!c) return py::none();
    py::list cores;
    for (unsigned k = 0; k < c->cores(); ++k) cores.append(core_dict(*c, k));
    py::dict d;
    d["cores"] = cores;
    d["ghz"] = c->config().ghz;
    return d;
  });
}

}  // namespace vd::python
