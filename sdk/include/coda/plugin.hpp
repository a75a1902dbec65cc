// Optional header-only C++ helpers for plugins written in C++17 or later. Nothing here crosses the
// ABI: these only make the C types of plugin.h pleasant to use on the plugin's side.
#ifndef CODA_PLUGIN_HPP
#define CODA_PLUGIN_HPP

#include <coda/plugin.h>

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace coda::sdk {

// A borrowed view of a coda_str_t; valid as long as the coda_str_t is.
inline std::string_view view(coda_str_t s) noexcept {
  return s.ptr == nullptr ? std::string_view{} : std::string_view{s.ptr, s.len};
}

// An owned copy of a coda_str_t.
inline std::string copy(coda_str_t s) { return std::string{view(s)}; }

// A borrowed coda_str_t of a string_view; valid as long as the viewed characters are.
inline coda_str_t str(std::string_view s) noexcept { return coda_str_t{s.data(), s.size()}; }

// True when the coda_str_t is absent ({NULL,0}).
inline bool absent(coda_str_t s) noexcept { return s.ptr == nullptr; }

// An emit callback (coda_emit_fn) that appends into the std::string passed as emit_ctx.
inline void emit_to_string(void* emit_ctx, coda_str_t text) {
  static_cast<std::string*>(emit_ctx)->assign(text.ptr == nullptr ? "" : text.ptr, text.len);
}

// Logs through the host; never throws.
inline void log(const coda_host_t* host, int32_t level, std::string_view message) noexcept {
  if (host != nullptr && host->log != nullptr) host->log(host, level, str(message));
}

// Runs `fn` and turns any exception into `on_error` after reporting it with host->set_error, so that
// no exception crosses the ABI. Use it as the body of every exported entry point:
//   coda_status_t start(void* self) { return coda::sdk::barrier(host, CODA_E_INTERNAL, [&] { ...;
//   return CODA_OK; }); }
namespace detail {
template <typename T>
struct non_deduced {
  using type = T;
};
}  // namespace detail

// The result type is fn's: on_error converts to it (so CODA_E_INTERNAL works for a coda_status_t).
template <typename Fn, typename R = decltype(std::declval<Fn>()())>
R barrier(const coda_host_t* host, typename detail::non_deduced<R>::type on_error, Fn&& fn) noexcept {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    if (host != nullptr && host->set_error != nullptr) host->set_error(host, str(e.what()));
  } catch (...) {
    if (host != nullptr && host->set_error != nullptr) host->set_error(host, str("unknown exception"));
  }
  return on_error;
}

// The same for entry points that return nothing.
template <typename Fn>
void barrier_void(const coda_host_t* host, Fn&& fn) noexcept {
  try {
    std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    log(host, CODA_LOG_ERROR, e.what());
  } catch (...) {
    log(host, CODA_LOG_ERROR, "unknown exception");
  }
}

// Fills the struct_size of an ABI struct T value-initialised (every other field zero).
template <typename T>
T make() noexcept {
  T value{};
  value.struct_size = static_cast<uint32_t>(sizeof(T));
  return value;
}

}  // namespace coda::sdk

#endif  // CODA_PLUGIN_HPP
