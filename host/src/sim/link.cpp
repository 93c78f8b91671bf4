#include "veridian/sim/link.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vd::sim {

Link::Link(Scheduler& sched, LinkConfig cfg, std::uint64_t seed)
    : sched_(sched), cfg_(cfg), rng_{Rng(derive_seed(seed, {0})), Rng(derive_seed(seed, {1}))} {
  if (!(cfg.rate_gbps > 0)) throw std::invalid_argument("Link: rate_gbps must be positive");
}

void Link::check_side(int side) {
  if (side != 0 && side != 1) throw std::invalid_argument("Link: side must be 0 or 1");
}

void Link::attach(int side, FrameSink* sink) {
  check_side(side);
  if (sinks_[side]) throw std::logic_error("Link: that end is already connected");
  sinks_[side] = sink;
}

TimePs Link::wire_time(std::size_t len, double rate_gbps) {
  const double bytes = double(std::max<std::size_t>(len, 60) + 4 + 8 + 12);
  return static_cast<TimePs>(std::llround(bytes * 8.0 * 1000.0 / rate_gbps));
}

void Link::set_faults(int side, const LinkFaults& f) {
  check_side(side);
  auto prob = [](double p, const char* what) {
    if (!(p >= 0.0 && p <= 1.0))
      throw std::invalid_argument(std::string("LinkFaults: ") + what + " must be a probability in [0, 1]");
  };
  prob(f.loss, "loss");
  prob(f.duplicate, "duplicate");
  prob(f.reorder, "reorder");
  prob(f.corrupt, "corrupt");
  if (!(f.cap_gbps >= 0.0) || std::isinf(f.cap_gbps))
    throw std::invalid_argument("LinkFaults: cap_gbps must be >= 0 (0 = no cap)");
  faults_[side] = f;
  if (f.cap_gbps <= 0) cap_fifo_[side].clear();
}

TimePs Link::send(int side, std::vector<std::uint8_t> frame, TimePs at) {
  const TimePs start = std::max({at, sched_.now(), busy_until_[side]});
  const TimePs dur = wire_time(frame.size());
  busy_until_[side] = start + dur;
  auto& st = stats_[side];
  ++st.frames;
  st.bytes += frame.size();
  st.busy_ps += dur;
  for (auto& w : taps_sent_) w->write(start, frame);
  const TimePs line_end = start + dur;
  const TimePs arrival = line_end + cfg_.latency;

  auto& fs = fstats_[side];
  ++fs.sent;
  const LinkFaults& f = faults_[side];
  if (!f.active()) {
    // The common case: a perfect wire (no random numbers drawn).
    last_in_order_[side] = std::max(last_in_order_[side], arrival);
    deliver(side, std::move(frame), false, arrival);
    return arrival;
  }
  Rng& rng = rng_[side];

  // 1. Loss on the wire.
  if (f.loss > 0 && rng.chance(f.loss)) {
    ++fs.dropped;
    return arrival;
  }

  // 2. The bandwidth cap: a FIFO in front of a slower transmitter. A frame
  //    starts through it as soon as its first bit is here and the previous
  //    one has left (cut-through), and cannot leave before it has fully
  //    arrived at line rate.
  TimePs leave = line_end;
  if (f.cap_gbps > 0) {
    auto& fifo = cap_fifo_[side];
    while (!fifo.empty() && fifo.front() <= start) fifo.pop_front();
    // One frame is being sent; cap_queue more may wait behind it.
    if (f.cap_queue > 0 && fifo.size() > f.cap_queue) {
      ++fs.queue_drops;
      return arrival;
    }
    const TimePs cs = std::max(start, cap_busy_until_[side]);
    cap_busy_until_[side] = cs + wire_time(frame.size(), f.cap_gbps);
    leave = std::max(line_end, cap_busy_until_[side]);
    fifo.push_back(leave);
  }

  // 3. Duplication: the copy follows one frame time behind.
  const int copies = (f.duplicate > 0 && rng.chance(f.duplicate)) ? 2 : 1;
  if (copies == 2) ++fs.duplicated;

  for (int c = 0; c < copies; ++c) {
    std::vector<std::uint8_t> data = (c + 1 == copies) ? std::move(frame) : frame;
    const TimePs nominal = line_end + TimePs(c) * dur + cfg_.latency;  // a perfect wire
    TimePs t = leave + TimePs(c) * dur + cfg_.latency;

    // 4. Bit errors.
    bool fcs_error = false;
    if (f.corrupt > 0 && rng.chance(f.corrupt) && data.size() > f.corrupt_from) {
      const std::uint64_t nbits = std::uint64_t(data.size() - f.corrupt_from) * 8;
      const std::uint64_t want = std::min<std::uint64_t>(std::max(f.corrupt_bits, 1u), nbits);
      std::vector<std::uint64_t> hit;
      hit.reserve(want);
      while (hit.size() < want) {
        const std::uint64_t b = rng.below(nbits);
        if (std::find(hit.begin(), hit.end(), b) != hit.end()) continue;  // distinct bits
        hit.push_back(b);
        data[f.corrupt_from + b / 8] ^= static_cast<std::uint8_t>(1u << (b % 8));
      }
      ++fs.corrupted;
      fs.bits_flipped += want;
      fcs_error = !f.corrupt_keep_fcs;
    }

    // 5. Reordering (held back, overtaken) or jitter (in order).
    if (f.reorder > 0 && rng.chance(f.reorder)) {
      ++fs.reordered;
      t += f.reorder_delay;
    } else {
      if (f.jitter > 0) t += rng.below(f.jitter + 1);
      t = std::max(t, last_in_order_[side]);  // never overtake an earlier in-order frame
      last_in_order_[side] = t;
      if (t > nominal) {
        ++fs.delayed;
        fs.delay_added_ps += t - nominal;
      }
    }
    deliver(side, std::move(data), fcs_error, t);
  }
  return arrival;
}

void Link::deliver(int side, std::vector<std::uint8_t>&& frame, bool fcs_error, TimePs at) {
  FrameSink* dst = sinks_[1 - side];
  if (!dst && taps_delivered_.empty()) {
    ++fstats_[side].delivered;  // into the void: counted so the books balance
    return;
  }
  auto& q = flight_[side];
  if (!q.empty() && at < q.back().at) {  // overtakes a queued frame: its own event
    sched_.schedule_at(at, [this, side, dst, fcs_error, f = std::move(frame)]() mutable {
      arrive(side, dst, std::move(f), fcs_error);
    });
    return;
  }
  q.push_back(Flight{at, dst, fcs_error, std::move(frame)});
  if (q.size() == 1) sched_.schedule_at(at, [this, side] { drain(side); });
}

void Link::drain(int side) {
  auto& q = flight_[side];
  Flight f = std::move(q.front());
  q.pop_front();
  if (!q.empty()) sched_.schedule_at(q.front().at, [this, side] { drain(side); });
  arrive(side, f.dst, std::move(f.frame), f.fcs_error);
}

void Link::arrive(int side, FrameSink* dst, std::vector<std::uint8_t>&& frame, bool fcs_error) {
  ++fstats_[side].delivered;
  for (auto& w : taps_delivered_) w->write(sched_.now(), frame);
  if (dst) dst->frame_arrived(std::move(frame), fcs_error);
}

}  // namespace vd::sim
