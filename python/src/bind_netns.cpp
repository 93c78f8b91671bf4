// Host's network namespaces for Python: add_namespace with per-namespace
// settings (named after the Linux sysctls they stand for), veth pairs,
// moving and deleting interfaces. veridian/host.py wraps them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bind.hpp"
#include "convert.hpp"

namespace vd::python {

namespace {

unsigned as_uint(const py::handle& v, const std::string& key, unsigned lo, unsigned hi) {
  const long x = v.cast<long>();
  if (x < long(lo) || x > long(hi))
    throw py::value_error(key + " must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", not " +
                          std::to_string(x));
  return static_cast<unsigned>(x);
}

TimePs as_seconds(const py::handle& v, const std::string& key) {
  const double x = v.cast<double>();
  if (!(x > 0) || x > 1e6) throw py::value_error(key + " must be in (0, 1e6] seconds");
  return static_cast<TimePs>(x * 1e12);
}

// A namespace's settings: each key is the Linux sysctl it stands for (the
// net.ipv4. / net.ipv6.conf.all. / net.core. prefix left off).
stack::StackConfig stack_config(const py::kwargs& kw) {
  stack::StackConfig c;
  for (const auto& [k, v] : kw) {
    const auto key = k.cast<std::string>();
    if (key == "ip_forward") {
      c.ip_forward = v.cast<bool>();
      c.ipv6.forward = c.ip_forward;
    } else if (key == "ipv6") {
      c.ipv6.auto_enable = v.cast<bool>();  // on: link-local + DAD on every interface as added
    } else if (key == "ip_default_ttl") {
      c.default_ttl = static_cast<std::uint8_t>(as_uint(v, key, 1, 255));
    } else if (key == "hop_limit") {
      c.ipv6.hop_limit = static_cast<std::uint8_t>(as_uint(v, key, 1, 255));
    } else if (key == "tcp_keepalive_time") {
      c.tcp.keepalive_idle = as_seconds(v, key);
    } else if (key == "tcp_keepalive_intvl") {
      c.tcp.keepalive_interval = as_seconds(v, key);
    } else if (key == "tcp_keepalive_probes") {
      c.tcp.keepalive_probes = as_uint(v, key, 1, 127);
    } else if (key == "tcp_syncookies") {
      c.tcp.syncookies = v.cast<bool>();
    } else if (key == "tcp_wmem") {
      c.tcp.sndbuf = as_uint(v, key, 2048, 64u << 20);
    } else if (key == "tcp_rmem") {
      c.tcp.rcvbuf = as_uint(v, key, 2048, 64u << 20);
    } else if (key == "tcp_congestion_control") {
      const auto cc = v.cast<std::string>();
      if (cc == "cubic") c.tcp.cc = stack::CongestionControl::Cubic;
      else if (cc == "reno" || cc == "newreno") c.tcp.cc = stack::CongestionControl::NewReno;
      else throw py::value_error("tcp_congestion_control must be 'cubic' or 'reno', not '" + cc + "'");
    } else if (key == "tcp_sack") {
      c.tcp.sack = v.cast<bool>();
    } else if (key == "tcp_timestamps") {
      c.tcp.timestamps = v.cast<bool>();
    } else if (key == "tcp_window_scaling") {
      c.tcp.window_scaling = v.cast<bool>();
    } else {
      throw py::type_error("add_namespace: unknown setting '" + key +
                           "' (ip_forward, ipv6, ip_default_ttl, hop_limit, tcp_keepalive_time, tcp_keepalive_intvl, "
                           "tcp_keepalive_probes, tcp_syncookies, tcp_wmem, tcp_rmem, tcp_congestion_control, "
                           "tcp_sack, tcp_timestamps, tcp_window_scaling)");
    }
  }
  return c;
}

// A namespace the host lacks is a KeyError, as a missing dict key is.
template <typename F>
auto keyed(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::out_of_range& e) {
    throw py::key_error(e.what());
  }
}

}  // namespace

void bind_namespaces(py::class_<sim::Host>& host) {
  host.def("add_namespace", [](sim::Host& h, const std::string& name, const py::kwargs& kw) {
        return h.add_namespace(name, stack_config(kw));  // std::invalid_argument -> ValueError
      }, py::arg("name"))
      .def("namespace", [](sim::Host& h, const std::string& name) { return keyed([&] { return h.find_namespace(name); }); })
      .def("namespace_names", &sim::Host::namespace_names)
      .def("delete_namespace", [](sim::Host& h, const std::string& name) {
        keyed([&] { h.delete_namespace(name); });
      })
      .def("add_veth", [](sim::Host& h, const std::string& a, const std::string& ns_a, const std::string& b,
                          const std::string& ns_b) { return keyed([&] { return h.add_veth(a, ns_a, b, ns_b); }); })
      .def("move_interface", [](sim::Host& h, const std::string& from, const std::string& ifname, const std::string& to) {
        return keyed([&] { return h.move_interface(from, ifname, to); });
      })
      .def("delete_interface", [](sim::Host& h, const std::string& ns, const std::string& ifname) {
        keyed([&] { h.delete_interface(ns, ifname); });
      })
      .def("add_bridge", [](sim::Host& h, const std::string& ns, const std::string& name, double ageing_s) {
        if (!(ageing_s > 0)) throw py::value_error("ageing_s must be > 0");
        stack::BridgeConfig cfg;
        cfg.ageing = static_cast<TimePs>(ageing_s * 1e12);
        return keyed([&] { return h.add_bridge(ns, name, cfg); });
      })
      .def("set_master", [](sim::Host& h, const std::string& ns, const std::string& ifname, const std::string& br) {
        keyed([&] { h.set_master(ns, ifname, br); });
      })
      .def("set_nomaster", [](sim::Host& h, const std::string& ns, const std::string& ifname) {
        return keyed([&] { return h.set_nomaster(ns, ifname); });
      })
      .def("bridge_info", [](sim::Host& h, const std::string& ns, const std::string& name) {
        return keyed([&] {
          stack::BridgeDevice* b = h.bridge(ns, name);
          if (!b) throw std::out_of_range("no bridge '" + name + "'");
          py::dict d;
          d["ports"] = h.bridge_ports(ns, name);
          py::list fdb;
          for (const auto& e : h.bridge_fdb(ns, name)) {
            py::dict x;
            x["mac"] = stack::mac_str(e.mac);
            x["ifname"] = e.port;
            x["age_ns"] = double(e.age) / 1000.0;
            fdb.append(x);
          }
          d["fdb"] = fdb;
          d["stats"] = b->stats();
          return d;
        });
      })
      .def("nic_namespace_at", [](sim::Host& h, std::size_t k) {
        nic_at(h, k);
        return h.nic_namespace(k).name();
      })
      .def("veth_pool_stats", [](sim::Host& h) -> py::object {
        const BufferPool* p = h.veth_pool();
        return p ? py::object(pool_stats(*p)) : py::object(py::none());
      });
}

}  // namespace vd::python
