// pybind11 bindings of the NIC specs: DmaConfig and NicSpec (veridian/nics.py
// builds them from RtlNic/SoftNic and reads its defaults from a
// default-constructed NicSpec), and the RTL widths of this build.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bind.hpp"
#include "veridian/sim/simulation.hpp"

namespace vd::python {

void bind_nic(py::module_& m) {
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
}

}  // namespace vd::python
