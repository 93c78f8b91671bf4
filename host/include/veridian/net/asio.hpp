// Boost.Asio I/O objects over Veridian's stack sockets, on simulated time.
//
// The sockets are ordinary Asio objects: async operations take any
// completion token (callbacks, use_future, use_awaitable for C++20
// coroutines) and the stream works with asio::async_read/async_write. Their
// completions run on an io_context that `run()` below drives together with
// the Simulation: it runs ready handlers, then advances the simulation to
// its next event, and so on. With a TAP attached the Simulation is paced to
// the wall clock (real-time mode), so the same application code runs there
// unchanged and its timers follow the system clock.
//
// The objects are one header each under veridian/net/asio/; this header
// includes them all.
#pragma once

#include "veridian/net/asio/common.hpp"
#include "veridian/net/asio/local.hpp"
#include "veridian/net/asio/raw.hpp"
#include "veridian/net/asio/run.hpp"
#include "veridian/net/asio/tcp.hpp"
#include "veridian/net/asio/timer.hpp"
#include "veridian/net/asio/udp.hpp"
