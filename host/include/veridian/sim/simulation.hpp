// A co-simulation: hosts (stack + NIC), links and captures on one virtual
// clock. Python's veridian.Simulation is a thin layer over this class.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "veridian/dev/rtl_nic.hpp"
#include "veridian/dev/soft_nic.hpp"
#include "veridian/sim/cpus.hpp"
#include "veridian/sim/event_queue.hpp"
#include "veridian/sim/link.hpp"
#include "veridian/sim/netns.hpp"
#include "veridian/sim/pcap.hpp"
#include "veridian/sim/switch.hpp"
#include "veridian/sim/tap.hpp"
#include "veridian/stack/bridge.hpp"
#include "veridian/stack/stack.hpp"
#include "veridian/stack/veth.hpp"

namespace vd::sim {

struct NicSpec {
  enum class Kind { Rtl, Soft };
  Kind kind = Kind::Soft;
  std::uint16_t queues = 4;
  std::uint16_t mtu = 1500;
  bool tx_csum = true;  // offer TX checksum offload to the stack
  bool tso = true;      // offer TCP segmentation offload (needs tx_csum)
  std::uint16_t irq_frames = 1;  // interrupt moderation: frames per interrupt (both NICs)
  double irq_delay_ns = 0;       // ... or this long after the first (0 = no timer)
  // RtlNic only
  unsigned data_width = 512;
  double clock_mhz = 250.0;
  rtl::DmaConfig dma{};
  unsigned ring_log2 = 8;
  bool rx_csum = true;               // RtlNic: let the RTL verify RX checksums
  std::optional<std::uint32_t> expect_abi_id;
  std::string trace_path;
};

// Builds the NIC a spec describes (RtlNic runs its driver's init here).
std::unique_ptr<dev::WiredDevice> make_nic(Scheduler& sched, HostMemory& mem, MacAddr mac, const NicSpec& spec);

// A host: a root network namespace, any number of named ones (netns.hpp),
// one or more NICs, and the veth pairs between its namespaces. NICs are
// numbered 0, 1, ... in the order they were added (NIC 0 is made with the
// host); each is an interface of the namespace it is in (the root one until
// moved). Interface 0 of every namespace is its loopback (lo), so NIC k is
// ifindex k + 1 of the root namespace only while no other interfaces (VLAN
// sub-interfaces, veths) were added in between: ask ifindex(k). MACs are
// 02:56:(0x44 + k):hh:hh:hh for NIC k and 02:76:hh:hh:nn:nn for veth end n
// (counted from 1 per host), hh = host index + 1, so they depend only on the
// order things were added.
class Host {
 public:
  static constexpr std::size_t kMaxNics = 16;
  // Buffers in the host's veth pool (each VethDevice::kBufSize bytes, made
  // on the first add_veth; memory is touched only as buffers are used).
  static constexpr std::size_t kVethPoolBuffers = 8192;

  // With `cpus`, the host's work takes virtual time on its cores
  // (cpus.hpp); without, it takes none, as before the model existed. All
  // namespaces share the host's cores.
  Host(EventQueue& ev, std::string name, std::size_t index, const NicSpec& spec,
       std::optional<CpuConfig> cpus = std::nullopt);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  const std::string& name() const { return name_; }
  // The root namespace's stack.
  stack::Stack& stack() { return root().stack(); }
  // NIC k (0 = the first one); throws std::out_of_range for a NIC the host lacks.
  dev::WiredDevice& nic(std::size_t k = 0) { return *at(k).dev; }
  dev::RtlNic* rtl_nic(std::size_t k = 0) { return dynamic_cast<dev::RtlNic*>(at(k).dev.get()); }
  std::size_t nic_count() const { return nics_.size(); }
  HostMemory& memory() { return *mem_; }
  const NicSpec& spec(std::size_t k = 0) const { return at(k).spec; }
  std::uint16_t next_ping_id() { return root().next_ping_id(); }
  // NIC k's interface index in the namespace it is in (nic_namespace(k)).
  int ifindex(std::size_t k = 0) const { return at(k).ifindex; }
  NetNamespace& nic_namespace(std::size_t k = 0) { return *at(k).ns; }
  // The NIC that is interface `ifindex` of the root namespace, if one is.
  std::optional<std::size_t> nic_for_ifindex(int ifindex) const;
  // Adds a NIC (its driver initialised now) as NIC nic_count() and attaches
  // it to the root namespace's stack. Returns its ifindex. Throws
  // std::length_error past kMaxNics.
  int add_nic(const NicSpec& spec);
  // The host's CPUs, or nullptr when the host has no CPU model.
  HostCpus* cpus() { return cpus_.get(); }

  // --- namespaces (ip netns) ---------------------------------------------
  NetNamespace& root() { return *namespaces_.front(); }
  std::shared_ptr<NetNamespace> root_ptr() { return namespaces_.front(); }
  // A new namespace with only lo (up, 127.0.0.1/8, ::1). Names are 1..64
  // characters of [A-Za-z0-9_.-], unique in the host; std::invalid_argument
  // otherwise.
  std::shared_ptr<NetNamespace> add_namespace(const std::string& name, stack::StackConfig cfg = {});
  // "" is the root namespace; std::out_of_range for one the host lacks.
  std::shared_ptr<NetNamespace> find_namespace(const std::string& name) const;
  NetNamespace& netns(const std::string& name) { return *find_namespace(name); }
  // The named namespaces in the order they were made (ip netns list, which
  // does not list the root one either).
  std::vector<std::string> namespace_names() const;
  // ip netns delete: its veth pairs go (both ends, wherever the peer is),
  // its NICs return to the root namespace (keeping their names unless the
  // root has that name, then eth<n>) with no addresses, its sockets are
  // closed (a call on one then fails: not connected / bad descriptor) and
  // its stack is destroyed. std::invalid_argument for the root namespace.
  void delete_namespace(const std::string& name);

  // --- veth pairs and moving interfaces -----------------------------------
  // ip link add NAME_A [netns NS_A] type veth peer NAME_B [netns NS_B]:
  // both ends up, in namespaces ns_a and ns_b ("" = root; the same one is
  // allowed). Returns the two ifindexes. Checked before anything is made
  // (names valid and free, namespaces exist, not one name twice in one
  // namespace): std::invalid_argument / std::out_of_range, nothing changed.
  std::pair<int, int> add_veth(const std::string& name_a, const std::string& ns_a, const std::string& name_b,
                               const std::string& ns_b);
  // ip link set dev IFNAME netns TO: moves a NIC or a veth end (not lo, not a
  // VLAN, not an interface with VLANs on it). It keeps its name and loses
  // its addresses and routes, as a moved Linux device does; it arrives up
  // (Linux brings it down; every Veridian interface is attached up, as
  // Stack::add_interface does). Returns its new ifindex. std::invalid_argument for what cannot move or a name taken in
  // `to`; std::out_of_range for a namespace or interface that does not
  // exist. Nothing changes when it throws.
  int move_interface(const std::string& from, const std::string& ifname, const std::string& to);
  // ip link delete: a veth end takes its peer with it; a VLAN goes alone.
  // NICs and lo cannot be deleted (std::invalid_argument).
  void delete_interface(const std::string& ns, const std::string& ifname);
  // --- bridges ---------------------------------------------------------
  // ip link add NAME type bridge, in namespace `ns`: br0 is an interface
  // (up, no ports, so no carrier yet) that can take addresses. Returns its
  // ifindex. Its MAC is from the veth sequence (02:76:hh:hh:nn:nn).
  int add_bridge(const std::string& ns, const std::string& name, stack::BridgeConfig cfg = {});
  // ip link set dev IFNAME master BRIDGE (both in `ns`): a NIC or veth end
  // becomes a port. It leaves the stack's interface list (its addresses
  // and routes go), so the stack no longer sends or receives on it; the
  // bridge does. std::invalid_argument for lo, a VLAN, a bridge, an
  // interface with VLANs, or one that is a port already.
  void set_master(const std::string& ns, const std::string& ifname, const std::string& bridge);
  // ip link set dev IFNAME nomaster: the port becomes an interface of `ns`
  // again (no addresses). Returns its ifindex.
  int set_nomaster(const std::string& ns, const std::string& ifname);
  // The bridge called `name` in `ns`, or nullptr.
  stack::BridgeDevice* bridge(const std::string& ns, const std::string& name);
  // Its ports' names, in the order they were added.
  std::vector<std::string> bridge_ports(const std::string& ns, const std::string& name);
  // bridge fdb show: each learnt station, the port (by name) it is on and
  // how long ago it was last heard.
  struct FdbEntry {
    MacAddr mac{};
    std::string port;
    TimePs age = 0;
  };
  std::vector<FdbEntry> bridge_fdb(const std::string& ns, const std::string& name);

  // The device behind interface `ifname` of namespace `ns` when it is a veth end.
  stack::VethDevice* veth(const std::string& ns, const std::string& ifname);
  // The veth pool (nullptr before the first add_veth): for checking that
  // buffers come back.
  const BufferPool* veth_pool() const { return veth_pool_.get(); }

 private:
  struct Nic {
    NicSpec spec;
    std::unique_ptr<dev::WiredDevice> dev;
    int ifindex = 0;
    NetNamespace* ns = nullptr;
    NetDevice* attached = nullptr;  // what the stack sees: dev, or its CPU gate
  };
  struct VethEnd {
    std::unique_ptr<stack::VethDevice> dev;
    std::unique_ptr<CpuTxGate> gate;  // with CPUs
    NetNamespace* ns = nullptr;
    int ifindex = -1;
    NetDevice& attached() { return gate ? static_cast<NetDevice&>(*gate) : *dev; }
  };
  struct VethPair {
    VethEnd end[2];
  };
  // A NIC or veth end as something that can be an interface or a port.
  struct Endpoint {
    NetDevice* dev = nullptr;  // what a stack or bridge attaches
    int* ifindex = nullptr;    // -1 while it is a bridge port
    NetNamespace** ns = nullptr;
    VethPair* pair = nullptr;  // for a veth end
    int which = 0;
  };
  struct Bridge {
    std::unique_ptr<stack::BridgeDevice> dev;
    NetNamespace* ns = nullptr;
    int ifindex = -1;
    struct Port {
      std::string name;
      Endpoint ep;
    };
    std::vector<Port> ports;
  };
  std::optional<Endpoint> endpoint_at(const NetNamespace& ns, int ifindex);
  Bridge* bridge_at(const NetNamespace& ns, int ifindex);
  Bridge* bridge_named(const NetNamespace& ns, const std::string& name);
  // Ports go back to the stack as interfaces, then br0 goes.
  void destroy_bridge(Bridge& b);
  int release_port(Bridge& b, std::size_t k);
  const Nic& at(std::size_t k) const;
  Nic& at(std::size_t k) { return const_cast<Nic&>(static_cast<const Host*>(this)->at(k)); }
  // Where interface `ifindex` of `ns` comes from, if the host made it.
  Nic* nic_at_iface(const NetNamespace& ns, int ifindex);
  VethPair* veth_at_iface(const NetNamespace& ns, int ifindex, int* which = nullptr);
  void destroy_veth(VethPair& p);
  void wire_virtual(stack::VethDevice& d, VethEnd& e);
  BufferPool& virtual_pool();  // the veth pool, made on first use
  MacAddr next_virtual_mac();

  EventQueue& ev_;
  std::string name_;
  std::size_t index_;
  std::unique_ptr<HostMemory> mem_;
  std::vector<Nic> nics_;  // before the namespaces: their stacks hold references to them
  // The CPU model and what the stacks see through it; before them too.
  std::unique_ptr<HostCpus> cpus_;
  std::unique_ptr<CpuTimerScheduler> cpu_timers_;
  std::vector<std::unique_ptr<CpuTxGate>> gates_;
  // The veth pool and pairs, before the stacks: a buffer that crossed a veth
  // may sit in any namespace's socket.
  std::unique_ptr<HostMemory> veth_mem_;
  std::unique_ptr<BufferPool> veth_pool_;
  std::unordered_map<VethPair*, std::unique_ptr<VethPair>> veths_;
  // (namespace, ifindex) of each veth end -> its pair and which end it is.
  std::map<std::pair<const NetNamespace*, int>, std::pair<VethPair*, int>> veth_ends_;
  std::vector<std::unique_ptr<Bridge>> bridges_;
  std::uint32_t virtual_macs_made_ = 0;  // veth ends and bridges
  std::vector<std::shared_ptr<NetNamespace>> namespaces_;  // [0] is the root; in the order made
  std::unordered_map<std::string, NetNamespace*> ns_by_name_;  // the root is ""
  unsigned queues_ = 0;  // RX queues of all NICs so far (for the default IRQ spread)
  std::unique_ptr<stack::Stack> make_stack(const std::string& ns_name, stack::StackConfig cfg);
  NetDevice& attach(std::size_t k);
};

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed = 1) : seed_(seed) {}
  ~Simulation();

  Host& add_host(const std::string& name, const NicSpec& spec, std::optional<CpuConfig> cpus = std::nullopt);
  Host& host(const std::string& name);
  const std::vector<std::unique_ptr<Host>>& hosts() const { return hosts_; }
  // Cables NIC a_nic of a to NIC b_nic of b (NIC numbers, not ifindexes). Throws std::logic_error if
  // either is already cabled, std::out_of_range for a NIC a host lacks.
  Link& connect(Host& a, Host& b, LinkConfig cfg, std::size_t a_nic = 0, std::size_t b_nic = 0);

  // Learning L2 switches. Names are unique among hosts and switches.
  Switch& add_switch(const std::string& name, SwitchConfig cfg = {});
  Switch& get_switch(const std::string& name);
  const std::vector<std::unique_ptr<Switch>>& switches() const { return switches_; }
  // Cables NIC h_nic of h to a port of sw (the lowest free one if not given).
  // The host is side 0 of the link. Throws std::logic_error when the NIC or
  // port is cabled already or the switch has no free port.
  Link& connect(Host& h, Switch& sw, LinkConfig cfg, std::size_t h_nic = 0, std::optional<unsigned> port = {});
  Link& connect(Switch& a, Switch& b, LinkConfig cfg, std::optional<unsigned> a_port = {},
                std::optional<unsigned> b_port = {});

  // pcap of both directions of `link`: frames as sent (before faults), or,
  // with capture_delivered, as the far ends receive them (see Link).
  void capture(Link& link, const std::string& path);
  void capture_delivered(Link& link, const std::string& path);
  void flush_captures() {
    for (auto& p : pcaps_) p->flush();
  }

  // Cables the host's NIC to a Linux TAP device (see tap.hpp) and switches
  // the simulation to real time: from then on every run_* call is paced so
  // virtual time never runs ahead of the wall clock, and frames from the
  // kernel enter as they arrive. Throws std::system_error if the TAP cannot
  // be opened.
  TapBridge& attach_tap(Host& h, const std::string& ifname, LinkConfig cfg);
  bool realtime() const { return !taps_.empty(); }
  const std::vector<std::unique_ptr<TapBridge>>& taps() const { return taps_; }

  void run_for(TimePs d) { run_until(ev_.now() + d); }
  void run_until(TimePs t) {
    if (realtime()) (void)run_paced(t, nullptr);
    else ev_.run_until(t);
  }
  bool run_until(const std::function<bool()>& pred, TimePs timeout) {
    if (realtime()) return run_paced(ev_.now() + timeout, &pred);
    return ev_.run_until(ev_.now() + timeout, pred);
  }
  TimePs now() const { return ev_.now(); }
  EventQueue& events() { return ev_; }
  std::uint64_t seed() const { return seed_; }

  // Sends `count` echo requests one after another, each waiting up to
  // `timeout` for its reply; returns the RTT of each (nullopt if lost).
  // ttl 0 = the stack's default.
  std::vector<std::optional<TimePs>> ping(NetNamespace& from, stack::Ipv4Addr dst, int count, TimePs timeout,
                                          std::size_t payload_len = 56, std::uint8_t ttl = 0);
  // From the host's root namespace.
  std::vector<std::optional<TimePs>> ping(Host& from, stack::Ipv4Addr dst, int count, TimePs timeout,
                                          std::size_t payload_len = 56, std::uint8_t ttl = 0) {
    return ping(from.root(), dst, count, timeout, payload_len, ttl);
  }

  const std::vector<std::unique_ptr<Link>>& links() const { return links_; }

 private:
  std::uint64_t seed_;
  EventQueue ev_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Switch>> switches_;
  std::vector<std::shared_ptr<PcapWriter>> pcaps_;
  std::vector<std::unique_ptr<TapBridge>> taps_;
  // Real time: virtual time `anchor_virt_` was wall time `anchor_wall_ns_`.
  TimePs anchor_virt_ = 0;
  std::int64_t anchor_wall_ns_ = 0;
  bool run_paced(TimePs until, const std::function<bool()>* pred);

  Link& new_link(LinkConfig cfg);
  void check_name_free(const std::string& name) const;
};

}  // namespace vd::sim
