// The one way to include Boost.Asio. Boost 1.74 (what Debian's cpprestsdk
// requires) needs <utility> first under GCC 12, and clang 14 needs the
// coroutine macros spelled out.
#pragma once

#include <utility>

#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio.hpp>

namespace weft {

// Completion token for `co_await op(..., ecTok(ec))`: errors come back as
// values, never as exceptions (STYLE.md: none on the proxy's request path).
inline auto ecTok(boost::system::error_code& ec) {
  return boost::asio::redirect_error(boost::asio::use_awaitable, ec);
}

}  // namespace weft
