#include "veridian/sim/tap.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace vd::sim {

TapBridge::TapBridge(Scheduler& sched, Link& link, int side, const std::string& ifname, std::size_t max_frame)
    : sched_(sched), link_(link), side_(side), name_(ifname), max_frame_(max_frame), buf_(65536) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    throw std::invalid_argument("TapBridge: interface name must be 1.." + std::to_string(IFNAMSIZ - 1) + " characters");
  fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(),
                            "TapBridge: cannot open /dev/net/tun (is the tun module loaded, are we root?)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd_);
    throw std::system_error(e, std::generic_category(),
                            "TapBridge: TUNSETIFF " + ifname + " failed (needs CAP_NET_ADMIN)");
  }
  link_.attach(side_, this);
}

TapBridge::~TapBridge() {
  if (fd_ >= 0) ::close(fd_);
}

void TapBridge::frame_arrived(std::vector<std::uint8_t>&& frame, bool fcs_error) {
  if (fcs_error) {
    ++stats_.dropped_fcs;
    return;
  }
  const ssize_t n = ::write(fd_, frame.data(), frame.size());
  if (n != static_cast<ssize_t>(frame.size())) {
    ++stats_.write_errors;
    return;
  }
  ++stats_.frames_to_kernel;
  stats_.bytes_to_kernel += frame.size();
}

std::size_t TapBridge::poll_in() {
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: nothing more queued (other errors: the device went away)
    }
    if (n == 0) break;
    if (static_cast<std::size_t>(n) > max_frame_) {
      ++stats_.dropped_oversize;
      continue;
    }
    ++got;
    ++stats_.frames_from_kernel;
    stats_.bytes_from_kernel += static_cast<std::size_t>(n);
    link_.send(side_, std::vector<std::uint8_t>(buf_.begin(), buf_.begin() + n), sched_.now());
  }
  return got;
}

}  // namespace vd::sim
