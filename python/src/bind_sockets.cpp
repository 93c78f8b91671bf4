// pybind11 bindings of the stack's sockets: UDP, raw IP, local (Unix-domain
// style) and TCP. veridian/sockets.py wraps them in socket-module-like
// classes; errors are std::system_error, which module.cpp turns into OSError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bind.hpp"
#include "convert.hpp"

namespace vd::python {

namespace {

void bind_udp(py::module_& m) {
  py::class_<stack::UdpSocket, std::shared_ptr<stack::UdpSocket>>(m, "UdpSocket")
      .def("bind", [](stack::UdpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip), parse_port(port)) : s.bind(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "bind " + ip + ":" + std::to_string(port));
      })
      .def("sendto", [](stack::UdpSocket& s, py::bytes data, const std::string& ip, long port) {
        const auto bytes = byte_span(data);
        std::error_code ec;
        if (is_v6(ip)) {
          ec = s.sendto(bytes, parse_ip6(ip), parse_port(port));
        } else {
          ec = s.sendto(bytes, parse_ip(ip), parse_port(port));
        }
        if (ec) raise_ec(ec, "sendto " + ip + ":" + std::to_string(port));
        return bytes.size();
      })
      .def("recvfrom", [](stack::UdpSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        return py::make_tuple(to_bytes(d->data), py::make_tuple(d->v6 ? d->src_addr6.str() : d->src_addr.str(), d->src_port));
      })
      .def_property_readonly("pending", &stack::UdpSocket::pending)
      .def_property_readonly("local_port", &stack::UdpSocket::local_port)
      .def_property_readonly("local_addr", [](const stack::UdpSocket& s) {
        return s.is_v6() ? s.local_addr6().str() : s.local_addr().str();
      })
      .def_property("ttl", &stack::UdpSocket::ttl, [](stack::UdpSocket& s, int ttl) {
        if (ttl < 0 || ttl > 255) throw py::value_error("ttl must be 0..255 (0 = the stack's default)");
        s.set_ttl(static_cast<std::uint8_t>(ttl));
      })
      .def_property("reuse_addr", &stack::UdpSocket::reuse_addr, &stack::UdpSocket::set_reuse_addr)
      .def_property("cpu", &stack::UdpSocket::cpu, &stack::UdpSocket::set_cpu)
      .def_property("recv_timeout_ps", &stack::UdpSocket::recv_timeout, &stack::UdpSocket::set_recv_timeout)
      .def("close", &stack::UdpSocket::close);
}

// Raw IP sockets: (payload, source address) datagrams; IPv4 ones include
// their IP header.
void bind_raw(py::module_& m) {
  py::class_<stack::RawSocket, std::shared_ptr<stack::RawSocket>>(m, "RawSocket")
      .def("bind", [](stack::RawSocket& s, const std::string& ip) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip)) : s.bind(parse_ip(ip));
        if (ec) raise_ec(ec, "bind " + ip);
      })
      .def("sendto", [](stack::RawSocket& s, py::bytes data, const std::string& ip) {
        const auto bytes = byte_span(data);
        const auto ec = is_v6(ip) ? s.sendto(bytes, parse_ip6(ip)) : s.sendto(bytes, parse_ip(ip));
        if (ec) raise_ec(ec, "sendto " + ip);
        return bytes.size();
      })
      .def("recvfrom", [](stack::RawSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        return py::make_tuple(to_bytes(d->data), d->v6 ? d->src_addr6.str() : d->src_addr.str());
      })
      .def_property_readonly("pending", &stack::RawSocket::pending)
      .def_property_readonly("family", &stack::RawSocket::family)
      .def_property_readonly("protocol", &stack::RawSocket::protocol)
      .def_property_readonly("is_open", &stack::RawSocket::is_open)
      .def_property("cpu", &stack::RawSocket::cpu, &stack::RawSocket::set_cpu)
      .def_property("ttl", &stack::RawSocket::ttl, [](stack::RawSocket& s, int ttl) {
        if (ttl < 0 || ttl > 255) throw py::value_error("ttl must be 0..255 (0 = the stack's default)");
        s.set_ttl(static_cast<std::uint8_t>(ttl));
      })
      .def_property("rx_queue_limit", &stack::RawSocket::rx_queue_limit, &stack::RawSocket::set_rx_queue_limit)
      .def_property("recv_timeout_ps", &stack::RawSocket::recv_timeout, &stack::RawSocket::set_recv_timeout)
      .def("close", &stack::RawSocket::close);
}

// Local (Unix-domain style) sockets, named by strings inside one host.
void bind_local(py::module_& m) {
  py::class_<stack::LocalSocket, std::shared_ptr<stack::LocalSocket>>(m, "LocalSocket")
      .def_property_readonly("kind", [](const stack::LocalSocket& s) {
        return s.kind() == stack::LocalSocket::Kind::Stream ? "stream" : "dgram";
      })
      .def("bind", [](stack::LocalSocket& s, const std::string& path) {
        if (auto ec = s.bind(path)) raise_ec(ec, "bind " + path);
      })
      .def("listen", [](stack::LocalSocket& s, int backlog) {
        if (auto ec = s.listen(backlog)) raise_ec(ec, "listen");
      })
      .def("accept", &stack::LocalSocket::accept)
      .def_property_readonly("pending_accepts", &stack::LocalSocket::pending_accepts)
      .def("connect", [](stack::LocalSocket& s, const std::string& path) {
        if (auto ec = s.connect(path)) raise_ec(ec, "connect " + path);
      })
      .def("send", [](stack::LocalSocket& s, py::bytes data) {
        std::error_code ec;
        const std::size_t n = s.send(byte_span(data), ec);
        if (ec) raise_ec(ec, "send");
        return n;
      })
      .def("recv", [](stack::LocalSocket& s, std::size_t max) {
        std::string out(max, '\0');
        std::error_code ec;
        const std::size_t n = s.recv({reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, ec);
        if (ec) raise_ec(ec, "recv");
        out.resize(n);
        return py::bytes(out);
      })
      .def("sendto", [](stack::LocalSocket& s, py::bytes data, const std::string& path) {
        const auto bytes = byte_span(data);
        if (auto ec = s.sendto(bytes, path)) raise_ec(ec, "sendto " + path);
        return bytes.size();
      })
      .def("recvfrom", [](stack::LocalSocket& s) -> py::object {
        auto d = s.recvfrom();
        if (!d) return py::none();
        return py::make_tuple(to_bytes(d->data), d->from);
      })
      .def("shutdown_write", [](stack::LocalSocket& s) {
        if (auto ec = s.shutdown_write()) raise_ec(ec, "shutdown");
      })
      .def("close", &stack::LocalSocket::close)
      .def_property_readonly("eof", &stack::LocalSocket::eof)
      .def_property_readonly("readable", &stack::LocalSocket::readable)
      .def_property_readonly("writable", &stack::LocalSocket::writable)
      .def_property_readonly("pending", &stack::LocalSocket::pending)
      .def_property_readonly("connected", &stack::LocalSocket::connected)
      .def_property_readonly("is_open", &stack::LocalSocket::is_open)
      .def_property_readonly("local_path", &stack::LocalSocket::local_path)
      .def_property_readonly("peer_path", &stack::LocalSocket::peer_path)
      .def("set_rcvbuf", [](stack::LocalSocket& s, std::size_t n) {
        if (auto ec = s.set_rcvbuf(n)) raise_ec(ec, "SO_RCVBUF (2 KiB..64 MiB)");
      })
      .def_property("recv_timeout_ps", &stack::LocalSocket::recv_timeout, &stack::LocalSocket::set_recv_timeout);
}

void bind_tcp(py::module_& m) {
  py::class_<stack::TcpSocket, std::shared_ptr<stack::TcpSocket>>(m, "TcpSocket")
      .def("bind", [](stack::TcpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.bind(parse_ip6(ip), parse_port(port)) : s.bind(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "bind " + ip + ":" + std::to_string(port));
      })
      .def("listen", [](stack::TcpSocket& s, int backlog) {
        if (auto ec = s.listen(backlog)) raise_ec(ec, "listen");
      })
      .def("accept", &stack::TcpSocket::accept)
      .def_property_readonly("pending_accepts", &stack::TcpSocket::pending_accepts)
      .def("connect", [](stack::TcpSocket& s, const std::string& ip, long port) {
        const auto ec = is_v6(ip) ? s.connect(parse_ip6(ip), parse_port(port)) : s.connect(parse_ip(ip), parse_port(port));
        if (ec) raise_ec(ec, "connect " + ip + ":" + std::to_string(port));
      })
      .def("send", [](stack::TcpSocket& s, py::bytes data) {
        std::error_code ec;
        const std::size_t n = s.send(byte_span(data), ec);
        if (ec) raise_ec(ec, "send");
        return n;
      })
      .def("recv", [](stack::TcpSocket& s, std::size_t max) {
        std::string buf(std::min<std::size_t>(max, s.readable()), '\0');
        std::error_code ec;
        const std::size_t n = s.recv({reinterpret_cast<std::uint8_t*>(buf.data()), buf.size()}, ec);
        if (ec) raise_ec(ec, "recv");
        buf.resize(n);
        return py::bytes(buf);
      })
      .def("shutdown_write", [](stack::TcpSocket& s) {
        if (auto ec = s.shutdown_write()) raise_ec(ec, "shutdown");
      })
      .def("close", &stack::TcpSocket::close)
      .def("abort", &stack::TcpSocket::abort)
      .def_property_readonly("state", [](const stack::TcpSocket& s) { return std::string(stack::tcp_state_name(s.state())); })
      .def_property_readonly("eof", &stack::TcpSocket::eof)
      .def_property_readonly("readable", &stack::TcpSocket::readable)
      .def_property_readonly("writable", &stack::TcpSocket::writable)
      .def_property_readonly("unacked", &stack::TcpSocket::unacked)
      .def_property_readonly("error", [](const stack::TcpSocket& s) -> py::object {
        if (!s.error()) return py::none();
        return py::make_tuple(s.error().value(), s.error().message());
      })
      .def_property_readonly("local_addr", [](const stack::TcpSocket& s) {
        return py::make_tuple(s.is_v6() ? s.local_addr6().str() : s.local_addr().str(), s.local_port());
      })
      .def_property_readonly("remote_addr", [](const stack::TcpSocket& s) {
        return py::make_tuple(s.is_v6() ? s.remote_addr6().str() : s.remote_addr().str(), s.remote_port());
      })
      .def_property_readonly("is_v6", &stack::TcpSocket::is_v6)
      .def_property("nodelay", &stack::TcpSocket::nodelay, &stack::TcpSocket::set_nodelay)
      .def("set_keepalive", &stack::TcpSocket::set_keepalive)
      .def_property("reuse_addr", &stack::TcpSocket::reuse_addr, &stack::TcpSocket::set_reuse_addr)
      .def_property("cpu", &stack::TcpSocket::cpu, &stack::TcpSocket::set_cpu)
      .def_property("recv_timeout_ps", &stack::TcpSocket::recv_timeout, &stack::TcpSocket::set_recv_timeout)
      .def("set_buffers", [](stack::TcpSocket& s, std::size_t sndbuf, std::size_t rcvbuf) {
        if (sndbuf)
          if (auto ec = s.set_sndbuf(sndbuf)) raise_ec(ec, "SO_SNDBUF (2 KiB..64 MiB, before connect/listen)");
        if (rcvbuf)
          if (auto ec = s.set_rcvbuf(rcvbuf)) raise_ec(ec, "SO_RCVBUF (2 KiB..64 MiB, before connect/listen)");
      })
      .def("set_congestion_control", [](stack::TcpSocket& s, const std::string& name) {
        if (name == "cubic") s.set_congestion_control(stack::CongestionControl::Cubic);
        else if (name == "newreno" || name == "reno") s.set_congestion_control(stack::CongestionControl::NewReno);
        else throw py::value_error("congestion control must be 'cubic' or 'newreno', not '" + name + "'");
      })
      .def("info", [](const stack::TcpSocket& s) { return tcp_info(s.info()); });
}

}  // namespace

void bind_sockets(py::module_& m) {
  bind_udp(m);
  bind_raw(m);
  bind_local(m);
  bind_tcp(m);
}

}  // namespace vd::python
