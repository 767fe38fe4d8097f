#pragma once
/// The coroutine type of every asynchronous Nodus API.

#include <chrono>
#include <utility>  // Asio 1.18's awaitable.hpp uses std::exchange without including <utility>

#include <boost/asio/awaitable.hpp>

namespace nodus {

/// A coroutine returning T; `co_await` it inside another task.
template <class T = void>
using task = boost::asio::awaitable<T>;

/// Durations in Nodus APIs.
using duration = std::chrono::milliseconds;

/// How long `receive` and `send_and_receive` wait unless told otherwise.
inline constexpr duration default_timeout = std::chrono::seconds(30);

}  // namespace nodus
