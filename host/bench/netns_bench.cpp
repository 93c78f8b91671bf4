// Namespace create/delete cost: Veridian's Host::add_namespace and
// delete_namespace (empty, and container-style with a veth and an address),
// memory per namespace, and, side by side when run as root, Linux's
// `ip netns add` / `ip netns del` on this machine (each an exec of ip, as a
// user pays it). Wall-clock numbers, printed and kept by scripts/bench.sh;
// no test asserts on them.
//
//   vd_netns_bench [namespaces=10000] [linux_rounds=20]
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "veridian/sim/simulation.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// Resident memory of this process in bytes (/proc/self/statm).
std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

struct Result {
  double create_us, delete_us, bytes_each;
};

// n namespaces made one after another, then deleted in the same order.
Result veridian(std::size_t n, bool with_veth) {
  vd::sim::Simulation sim;
  vd::sim::Host& h = sim.add_host("h", vd::sim::NicSpec{});
  if (with_veth) h.add_veth("warm0", "", "warm1", "");  // the veth pool is made once, not timed
  const std::size_t rss0 = rss_bytes();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back("c" + std::to_string(i));
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto ns = h.add_namespace(names[i]);
    if (with_veth) {
      const auto [root_if, ns_if] = h.add_veth("v" + std::to_string(i), "", "eth0", names[i]);
      (void)root_if;
      ns->stack().add_address(ns_if, vd::stack::Ipv4Addr::from_u32(0x0a000000u + std::uint32_t(i) * 4 + 2), 30);
    }
  }
  const double create = us_since(t0) / double(n);
  const double bytes = double(rss_bytes() - rss0) / double(n);
  t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) h.delete_namespace(names[i]);
  return {create, us_since(t0) / double(n), bytes};
}

// Runs `ip args...` directly (no shell); false if it failed.
bool run_ip(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string ip = "ip";
  argv.push_back(ip.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "ip", nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  const int linux_rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::printf("namespace create/delete, %zu namespaces in one host\n\n", n);
  std::printf("%-40s %12s %12s %14s\n", "", "create (us)", "delete (us)", "memory (KiB)");
  const Result empty = veridian(n, false);
  std::printf("%-40s %12.2f %12.2f %14.1f\n", "Veridian: empty namespace", empty.create_us, empty.delete_us,
              empty.bytes_each / 1024);
  const Result veth = veridian(n, true);
  std::printf("%-40s %12.2f %12.2f %14.1f\n", "Veridian: + veth pair + IPv4 address", veth.create_us, veth.delete_us,
              veth.bytes_each / 1024);
  if (::geteuid() != 0 || linux_rounds <= 0) {
    std::printf("%-40s %s\n", "Linux ip netns add/del", "skipped (needs root)");
    return 0;
  }
  const std::string base = "vdbench" + std::to_string(::getpid()) + "x";
  double add_us = 0, del_us = 0;
  int done = 0;
  for (int i = 0; i < linux_rounds; ++i) {
    const std::string name = base + std::to_string(i);
    auto t0 = Clock::now();
    if (!run_ip({"netns", "add", name})) break;
    add_us += us_since(t0);
    t0 = Clock::now();
    if (!run_ip({"netns", "del", name})) break;
    del_us += us_since(t0);
    ++done;
  }
  if (done == 0) {
    std::printf("%-40s %s\n", "Linux ip netns add/del", "failed (ip netns add refused)");
    return 0;
  }
  std::printf("%-40s %12.2f %12.2f %14s\n", ("Linux ip netns add/del (" + std::to_string(done) + " rounds)").c_str(),
              add_us / done, del_us / done, "-");
  std::printf("\nratio Linux/Veridian (empty): create %.0fx, delete %.0fx\n", add_us / done / empty.create_us,
              del_us / done / empty.delete_us);
  return 0;
}
