// pybind11 bindings of sim::NicTestbench: one NIC alone on the simulated
// clock, for raw offload tests (veridian/testbench.py wraps it).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bind.hpp"
#include "convert.hpp"
#include "veridian/sim/testbench.hpp"

namespace vd::python {

namespace {

py::dict features(const DeviceFeatures& f) {
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
}

void set_rss(sim::NicTestbench& tb, py::bytes key, std::vector<std::uint16_t> table, std::uint32_t types) {
  std::string_view k = key;
  if (k.size() != 40) throw py::value_error("set_rss: key must be 40 bytes, got " + std::to_string(k.size()));
  RssConfig c;
  std::copy(k.begin(), k.end(), c.key.begin());
  c.table = std::move(table);
  c.types = types;
  tb.set_rss(c);
}

}  // namespace

void bind_testbench(py::module_& m) {
  py::class_<sim::NicTestbench>(m, "NicTestbench")
      .def(py::init([](const sim::NicSpec& nic_spec, double rate_gbps, double latency_ns) {
             return std::make_unique<sim::NicTestbench>(nic_spec, link_config(rate_gbps, latency_ns));
           }),
           py::arg("spec"), py::arg("rate_gbps") = 100.0, py::arg("latency_ns") = 0.0)
      .def("set_rss", &set_rss)
      .def("inject", [](sim::NicTestbench& tb, py::bytes frame) {
        std::string_view v = frame;
        if (v.empty()) throw py::value_error("inject: empty frame");
        tb.inject(byte_vector(v));
      })
      .def("send", [](sim::NicTestbench& tb, py::bytes frame, bool ip, bool l4, bool partial, std::uint16_t start,
                      std::uint16_t offset, std::uint16_t mss, std::uint16_t queue) {
        sim::TxRequest r{ip, l4, partial, start, offset, mss, queue};
        return tb.send(byte_span(frame), r);
      })
      .def("run_until_idle", [](sim::NicTestbench& tb, TimePs timeout) {
        py::gil_scoped_release nogil;
        return tb.run_until_idle(timeout);
      })
      .def("take_rx", [](sim::NicTestbench& tb) {
        py::list out;
        for (auto& c : tb.take_rx())
          out.append(py::make_tuple(to_bytes(c.data), c.queue, c.rss_hash, c.rss_type, c.csum_ip, c.csum_l4, c.time));
        return out;
      })
      .def("take_wire", [](sim::NicTestbench& tb) {
        py::list out;
        for (auto& f : tb.take_wire()) out.append(py::make_tuple(to_bytes(f.data), f.time));
        return out;
      })
      .def_property_readonly("now_ps", [](sim::NicTestbench& tb) { return tb.events().now(); })
      .def_property_readonly("kind", [](sim::NicTestbench& tb) { return tb.nic().kind(); })
      .def("features", [](sim::NicTestbench& tb) { return features(tb.nic().features()); })
      .def("nic_stats", [](sim::NicTestbench& tb) { return tb.nic().stats(); })
      .def("cycles", [](sim::NicTestbench& tb) -> py::object {
        auto* r = tb.rtl_nic();
        if (!r) return py::none();
        return py::int_(r->model().cycle());
      })
      .def("read_reg", [](sim::NicTestbench& tb, std::uint32_t addr) {
        return checked_read_reg(tb.rtl_nic(), addr, "the testbench");
      });
}

}  // namespace vd::python
