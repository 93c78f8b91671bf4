// pybind11 bindings: the C++ co-simulation as the _veridian extension. The
// Pythonic surface (veridian.Simulation, RtlNic, ...) is in veridian/*.py.
// This file registers the error types; each area is bound in its own
// bind_*.cpp (bind.hpp lists them), sharing the conversions in convert.hpp.
#include <pybind11/pybind11.h>

#include <exception>
#include <system_error>

#include "bind.hpp"
#include "veridian/abi.hpp"
#include "veridian/sim/simulation.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_veridian, m) {
  using namespace vd;
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

  python::bind_nic(m);
  python::bind_sockets(m);
  python::bind_cpus(m);
  python::bind_host(m);
  python::bind_sim(m);
  python::bind_topology(m);  // after bind_sim: it adds methods to Link and Simulation
  python::bind_testbench(m);
}
