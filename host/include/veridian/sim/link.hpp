// A full-duplex point-to-point Ethernet link with latency and line rate.
// Serialisation counts preamble+SFD (8 bytes), FCS (4) and the inter-frame
// gap (12), and pads runts to the 60-byte minimum, as a real wire does.
//
// Each direction can also be given faults (LinkFaults): loss, duplication,
// reordering, bit corruption, delay jitter and a bandwidth cap, drawn from
// the direction's own seeded Rng, so a run repeats bit for bit. The order a
// frame meets them in, and what each does, is in docs/simulation.md ("Link
// faults").
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "veridian/core/time.hpp"
#include "veridian/sim/pcap.hpp"
#include "veridian/sim/rng.hpp"

namespace vd::sim {

// Whatever sits at a link end (a NIC's MAC, a switch port) receives frames through this.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // The last bit of the frame arrived at time `at` (== scheduler now()).
  virtual void frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) = 0;
};

struct LinkConfig {
  double rate_gbps = 100.0;
  TimePs latency = ns_to_ps(500);
};

struct LinkDirStats {
  std::uint64_t frames = 0, bytes = 0;  // what the sender put on the wire
  TimePs busy_ps = 0;                   // time the wire spent serialising
};

// Faults for one direction of a link. All probabilities are per frame, in
// [0, 1]; all zero (the default) is a perfect wire, and a fault that is off
// draws no random numbers.
struct LinkFaults {
  double loss = 0;       // the frame never arrives
  double duplicate = 0;  // a second copy arrives one frame time after the first
  double reorder = 0;    // the frame is held back by reorder_delay, so later frames overtake it
  TimePs reorder_delay = us_to_ps(10);
  double corrupt = 0;          // flip corrupt_bits distinct random bits of the frame
  unsigned corrupt_bits = 1;   // (capped at the bits there are)
  std::size_t corrupt_from = 0;  // first byte that may be hit (14: leave the Ethernet header alone)
  // false: the frame arrives with fcs_error set, as a real MAC's FCS check
  //        would flag it (the NIC drops and counts it);
  // true:  as if the FCS had been recomputed after the damage (a bad switch
  //        or memory error upstream of the MAC): the frame arrives "good" and
  //        only the IP/UDP/TCP checksums can catch it.
  bool corrupt_keep_fcs = false;
  TimePs jitter = 0;  // uniform extra delay in [0, jitter]; frames stay in order
  // Bandwidth cap: frames leave a bottleneck of this rate (Gb/s, counted
  // like the wire: preamble, FCS, gap, padding). 0 = none. Frames wait for
  // it in a FIFO of cap_queue frames (0 = unbounded); a frame finding the
  // FIFO full is dropped (queue_drops), like a router's tail drop.
  double cap_gbps = 0;
  std::size_t cap_queue = 0;

  bool active() const {
    return loss > 0 || duplicate > 0 || reorder > 0 || corrupt > 0 || jitter > 0 || cap_gbps > 0;
  }
};

// What the faults did in one direction. Every frame sent is accounted for:
//   sent + duplicated == delivered + dropped + queue_drops
//   (+ frames still on their way).
struct LinkFaultStats {
  std::uint64_t sent = 0;         // frames the sender put on the wire
  std::uint64_t delivered = 0;    // frames handed to the far end (copies included)
  std::uint64_t dropped = 0;      // lost (loss)
  std::uint64_t queue_drops = 0;  // tail-dropped at the bandwidth cap's FIFO
  std::uint64_t duplicated = 0;   // extra copies made
  std::uint64_t reordered = 0;    // frames held back by reorder_delay
  std::uint64_t corrupted = 0;    // frames with flipped bits
  std::uint64_t bits_flipped = 0;
  std::uint64_t delayed = 0;      // frames (not reordered) that arrived later than a perfect wire would deliver them (jitter, cap)
  TimePs delay_added_ps = 0;      // their extra delay, summed
};

class Link {
 public:
  // `seed` feeds the two directions' Rngs (Simulation derives it from its own
  // seed and the link's index).
  Link(Scheduler& sched, LinkConfig cfg, std::uint64_t seed = 0);
  void attach(int side, FrameSink* sink);
  bool attached(int side) const { return sinks_[side] != nullptr; }

  // Transmit from `side` starting no earlier than `at` (>= now). Frames from
  // one side are serialised one after another. Returns the time the frame's
  // last bit reaches the far end on a perfect wire (faults may change when,
  // and whether, it is delivered).
  TimePs send(int side, std::vector<std::uint8_t> frame, TimePs at);
  // Time a frame of `len` bytes (without FCS) occupies the wire.
  TimePs wire_time(std::size_t len) const { return wire_time(len, cfg_.rate_gbps); }
  static TimePs wire_time(std::size_t len, double rate_gbps);

  // Faults for frames sent from `side` from now on (frames already in flight
  // keep what was decided for them). Throws std::invalid_argument for a
  // probability outside [0, 1], a negative or NaN rate.
  void set_faults(int side, const LinkFaults& f);
  const LinkFaults& faults(int side) const { return faults_[side]; }
  const LinkFaultStats& fault_stats(int side) const { return fstats_[side]; }

  // pcap taps, both directions in one file. capture(): frames as sent, at the
  // time their first bit enters the wire, before any fault (so a lost frame is
  // there, a corrupted one has its original bytes). capture_delivered():
  // frames as the far end gets them, at the time their last bit arrives
  // (corrupted bytes, duplicates, arrival order; lost frames absent). pcap has
  // no place for the FCS flag: a frame delivered with fcs_error is written
  // like any other.
  void capture(std::shared_ptr<PcapWriter> w) { taps_sent_.push_back(std::move(w)); }
  void capture_delivered(std::shared_ptr<PcapWriter> w) { taps_delivered_.push_back(std::move(w)); }
  const LinkConfig& config() const { return cfg_; }
  const LinkDirStats& stats(int side) const { return stats_[side]; }

 private:
  void deliver(int side, std::vector<std::uint8_t>&& frame, bool fcs_error, TimePs at);
  void arrive(int side, FrameSink* dst, std::vector<std::uint8_t>&& frame, bool fcs_error);
  void drain(int side);
  static void check_side(int side);

  Scheduler& sched_;
  LinkConfig cfg_;
  std::array<FrameSink*, 2> sinks_{nullptr, nullptr};
  std::array<TimePs, 2> busy_until_{0, 0};
  std::array<LinkDirStats, 2> stats_{};
  std::array<LinkFaults, 2> faults_{};
  std::array<LinkFaultStats, 2> fstats_{};
  std::array<Rng, 2> rng_;
  std::array<TimePs, 2> cap_busy_until_{0, 0};
  std::array<std::deque<TimePs>, 2> cap_fifo_;   // when each frame in the cap's FIFO leaves it
  std::array<TimePs, 2> last_in_order_{0, 0};    // latest delivery scheduled for an in-order frame
  std::vector<std::shared_ptr<PcapWriter>> taps_sent_, taps_delivered_;
  // Frames on the wire in arrival order, one scheduler event for the head:
  // a 64 KiB TSO send is 45 frames in flight, and an event (with a heap
  // entry and a closure holding the frame) for each made the event queue a
  // tenth of a bulk transfer's time. A frame that would arrive before the
  // last one queued (reordering faults) gets an event of its own.
  struct Flight {
    TimePs at;
    FrameSink* dst;
    bool fcs_error;
    std::vector<std::uint8_t> frame;
  };
  std::array<std::deque<Flight>, 2> flight_;
};

}  // namespace vd::sim
