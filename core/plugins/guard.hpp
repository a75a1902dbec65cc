#pragma once

#include <exception>
#include <string>
#include <utility>

#include "core/plugins/host_context.hpp"

// Calling into plugin code. The ABI forbids exceptions across the boundary, but a buggy C++ plugin may
// still throw; such an exception must not take the host down. These helpers call a plugin entry point,
// catch anything, and turn the outcome into a status plus a one-line detail.
namespace coda::plugins {

// The name of a status code ("CODA_E_INVALID").
const char* status_name(coda_status_t status);

// The outcome of a guarded call: the status the plugin returned (CODA_E_INTERNAL when it threw) and
// the detail it reported with set_error (or the exception's message).
struct CallOutcome {
  coda_status_t status = CODA_OK;
  std::string detail;
  bool ok() const { return status == CODA_OK; }
  // "CODA_E_INVALID: detail" (or just the name when there is no detail).
  std::string describe() const;
};

// Runs fn() (returning coda_status_t) with a clean thread error slot; catches every exception.
template <typename Fn>
CallOutcome guarded_status(Fn&& fn) noexcept {
  CallOutcome out;
  take_thread_error();
  try {
    out.status = std::forward<Fn>(fn)();
    if (out.status != CODA_OK) out.detail = take_thread_error();
  } catch (const std::exception& e) {
    out.status = CODA_E_INTERNAL;
    out.detail = std::string("threw: ") + e.what();
  } catch (...) {
    out.status = CODA_E_INTERNAL;
    out.detail = "threw an exception";
  }
  return out;
}

// Runs fn() (any return type R); returns true and stores the result, or false with `error` set when
// it threw.
template <typename R, typename Fn>
bool guarded_value(R& result, std::string& error, Fn&& fn) noexcept {
  take_thread_error();
  try {
    result = std::forward<Fn>(fn)();
    return true;
  } catch (const std::exception& e) {
    error = std::string("threw: ") + e.what();
  } catch (...) {
    error = "threw an exception";
  }
  return false;
}

// Runs a void fn(); returns the exception's message, or "" when it did not throw.
template <typename Fn>
std::string guarded_void(Fn&& fn) noexcept {
  try {
    std::forward<Fn>(fn)();
    return {};
  } catch (const std::exception& e) {
    return std::string("threw: ") + e.what();
  } catch (...) {
    return "threw an exception";
  }
}

}  // namespace coda::plugins
