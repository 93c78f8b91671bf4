// Out-of-line parts of rtl_rig.hpp, compiled once for the whole binary.
#include "rtl_rig.hpp"

#include "veridian/offload/csum_offload.hpp"
#include "veridian/offload/frame_layout.hpp"

namespace rtl_test {

DriverRig::DriverRig(unsigned width, DriverConfig cfg, PoolSpec ps)
    : mem(ps.mem_bytes), pool(mem, ps.buf_size, ps.buf_count) {
  NicModelConfig mc;
  mc.data_width = width;
  nic = NicModel::create(mc, mem);
  nic->on_tx([this](Bytes&& f, std::uint64_t) { tx_out.push_back(std::move(f)); });
  nic->on_irq([this](std::uint32_t m, std::uint64_t c) {
    irq_mask |= m;
    ++irq_calls;
    irq_cycles.push_back(c);
  });
  drv = std::make_unique<NicDriver>(*nic, mem, pool, cfg);
  drv->set_rx_handler([this](Packet&& p) { rx_in.emplace_back(p.data(), p.data() + p.size()); });
}

RawRig::RawRig(unsigned width, NicModelConfig mc) {
  mc.data_width = width;
  nic = NicModel::create(mc, mem);
  nic->on_tx([this](Bytes&& f, std::uint64_t c) {
    tx_out.push_back(std::move(f));
    tx_cycle.push_back(c);
  });
  nic->on_irq([this](std::uint32_t m, std::uint64_t) { irqs.push_back(m); });
}

void RawRig::setup(Ring& r, bool tx, unsigned q, std::optional<std::uint64_t> desc_override) {
  r.size = 1u << r.log2;
  r.desc = desc_override ? *desc_override : mem.alloc(std::size_t(r.size) * vd::abi::DESC_SIZE, 4096);
  r.cpl = mem.alloc(std::size_t(r.size) * vd::abi::CPL_SIZE, 4096);
  auto reg = [&](std::uint32_t off) { return tx ? vd::abi::txq_reg(q, off) : vd::abi::rxq_reg(q, off); };
  nic->mmio_write(reg(vd::abi::REG_Q_RING_LO), static_cast<std::uint32_t>(r.desc));
  nic->mmio_write(reg(vd::abi::REG_Q_RING_HI), static_cast<std::uint32_t>(r.desc >> 32));
  nic->mmio_write(reg(vd::abi::REG_Q_CPL_LO), static_cast<std::uint32_t>(r.cpl));
  nic->mmio_write(reg(vd::abi::REG_Q_CPL_HI), static_cast<std::uint32_t>(r.cpl >> 32));
  nic->mmio_write(reg(vd::abi::REG_Q_SIZE_LOG2), r.log2);
  nic->mmio_write(reg(vd::abi::REG_Q_CTRL), 1u << vd::abi::QCTRL_ENABLE_BIT);
}

OffloadRig::OffloadRig(unsigned width) : rig(width) {
  txr.log2 = 4;
  rig.setup(txr, true, 0);
  rig.enable();
  buf = rig.mem.alloc(65536 + 64);
}

std::optional<vd::abi::Cpl> OffloadRig::run(const Bytes& f, std::uint16_t flags, std::uint16_t mss) {
  rig.tx_out.clear();
  if (!rig.mem.write(buf, f)) return std::nullopt;
  vd::abi::TxDesc d;
  d.addr = buf;
  d.len = static_cast<std::uint16_t>(f.size());
  d.flags = flags;
  d.mss = mss;
  rig.post_tx_desc(txr, 0, d);
  for (std::uint64_t n = 0; n < 4000000; n += 32) {
    if (const auto c = rig.peek_cpl(txr)) {
      ++txr.cons;
      return c;
    }
    rig.nic->tick(32);
  }
  return std::nullopt;
}

Bytes expect_full(const Bytes& f, std::uint16_t flags) {
  Bytes all = f;
  const auto r = vd::offload::insert_full(all);
  Bytes want = f;
  if (!r.parsed) return want;
  const auto l = vd::offload::parse_layout(f).layout;
  if ((flags & kFlagIp) && r.ip_header) {
    want[l.l3_off + 10] = all[l.l3_off + 10];
    want[l.l3_off + 11] = all[l.l3_off + 11];
  }
  if ((flags & kFlagL4) && r.l4) {
    const std::size_t fld = l.l4_off + (l.l4_proto == 6 ? 16 : 6);
    want[fld] = all[fld];
    want[fld + 1] = all[fld + 1];
  }
  return want;
}

// The TEST_Ps of RtlModel are spread over the rtl_*_test.cpp files by
// feature; they are instantiated here, once.
VD_RTL_INSTANTIATE_WIDTHS(RtlModel);

}  // namespace rtl_test
