// An echo server and client written as C++20 coroutines on Boost.Asio over
// Veridian sockets. The same coroutines run in co-simulation (two simulated
// hosts, virtual time) and in real time (the server on a TAP device, a
// Linux client): only the set-up in main() differs.
//
//   vd_asio_echo                      co-simulation: client and server, 1 MiB echoed, checked
//   vd_asio_echo --tap vd0 --seconds 20   real time: the server at 10.9.0.2 on TAP vd0
#include <utility>  // Boost 1.74 awaitable.hpp needs std::exchange declared first

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "veridian/net/asio.hpp"

namespace asio = boost::asio;
using namespace vd;
using asio::use_awaitable;

// One echo session: read what comes, write it back, until end of stream.
asio::awaitable<void> echo_session(net::tcp_socket s) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    net::error_code ec;
    const std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    if (ec) break;  // eof or reset
    co_await asio::async_write(s, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
  s.shutdown_write();
}

asio::awaitable<void> echo_server(net::tcp_socket& lst, int* sessions) {
  for (;;) {
    net::error_code ec;
    auto s = co_await lst.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    ++*sessions;
    asio::co_spawn(lst.get_executor(), echo_session(std::move(s)), asio::detached);
  }
}

// Connect, pause on a timer, send `size` bytes, read the echo, compare.
asio::awaitable<void> echo_client(net::tcp_socket c, net::sim_timer& t, stack::Ipv4Addr dst, std::size_t size,
                                  int* result) {
  co_await c.async_connect(dst, 7, use_awaitable);
  t.expires_after(std::chrono::milliseconds(5));
  co_await t.async_wait(use_awaitable);
  std::vector<char> out(size), in(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>(i * 131 + 7);
  // Write and read concurrently: the echo fills our receive buffer while we send.
  asio::co_spawn(c.get_executor(), [&c, &out]() -> asio::awaitable<void> {
    co_await asio::async_write(c, asio::buffer(out), use_awaitable);
    c.shutdown_write();
  }, asio::detached);
  co_await asio::async_read(c, asio::buffer(in), use_awaitable);
  *result = in == out ? 1 : -1;
}

int main(int argc, char** argv) {
  std::string tap;
  double seconds = 10;
  std::size_t size = 1u << 20;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tap") && i + 1 < argc) tap = argv[++i];
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--bytes") && i + 1 < argc) size = std::strtoull(argv[++i], nullptr, 0);
    else {
      std::fprintf(stderr, "usage: %s [--bytes N] | --tap IFNAME [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  asio::io_context io;
  sim::Simulation sim(1);
  sim::NicSpec spec;  // SoftNic
  auto& srv_host = sim.add_host("server", spec);
  int sessions = 0, result = 0;
  if (!tap.empty()) {
    // Real time: the server alone, on a TAP device (see docs/tap.md).
    sim.attach_tap(srv_host, tap, sim::LinkConfig{10.0, us_to_ps(1)});
    srv_host.stack().add_address(srv_host.ifindex(), stack::Ipv4Addr::parse("10.9.0.2").value(), 24);
    net::tcp_socket lst(io, srv_host.stack());
    if (lst.bind({}, 7) || lst.listen()) return 1;
    asio::co_spawn(io, echo_server(lst, &sessions), asio::detached);
    std::printf("ready\n");
    std::fflush(stdout);
    net::run(sim, io, [] { return false; }, static_cast<TimePs>(seconds * 1e12));
    lst.close();  // the accept loop ends; let it finish
    io.restart();
    io.poll();
    std::printf("{\"sessions\": %d}\n", sessions);
    return 0;
  }
  auto& cli_host = sim.add_host("client", spec);
  sim.connect(cli_host, srv_host, sim::LinkConfig{100.0, ns_to_ps(500)});
  srv_host.stack().add_address(srv_host.ifindex(), stack::Ipv4Addr::parse("10.0.0.2").value(), 24);
  cli_host.stack().add_address(cli_host.ifindex(), stack::Ipv4Addr::parse("10.0.0.1").value(), 24);
  net::tcp_socket lst(io, srv_host.stack());
  if (lst.bind({}, 7) || lst.listen()) return 1;
  net::sim_timer timer(io, sim.events());
  asio::co_spawn(io, echo_server(lst, &sessions), asio::detached);
  asio::co_spawn(io, echo_client(net::tcp_socket(io, cli_host.stack()), timer,
                                 stack::Ipv4Addr::parse("10.0.0.2").value(), size, &result),
                 [](std::exception_ptr e) {
                   if (e) std::rethrow_exception(e);
                 });
  const bool done = net::run(sim, io, [&] { return result != 0; }, s_to_ps(30));
  lst.close();  // the accept loop ends; let it and the sessions finish
  net::run(sim, io, [] { return false; }, ms_to_ps(1));
  std::printf("{\"echoed_bytes\": %zu, \"ok\": %s, \"sessions\": %d, \"virtual_ms\": %.3f}\n", size,
              result == 1 ? "true" : "false", sessions, double(sim.now()) / 1e9);
  return done && result == 1 ? 0 : 1;
}
