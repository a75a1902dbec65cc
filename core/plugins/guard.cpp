#include "core/plugins/guard.hpp"

namespace coda::plugins {

const char* status_name(coda_status_t status) {
  switch (status) {
    case CODA_OK:
      return "CODA_OK";
    case CODA_E_INVALID:
      return "CODA_E_INVALID";
    case CODA_E_UNSUPPORTED:
      return "CODA_E_UNSUPPORTED";
    case CODA_E_STATE:
      return "CODA_E_STATE";
    case CODA_E_NOT_FOUND:
      return "CODA_E_NOT_FOUND";
    case CODA_E_BUSY:
      return "CODA_E_BUSY";
    case CODA_E_IO:
      return "CODA_E_IO";
    case CODA_E_CANCELLED:
      return "CODA_E_CANCELLED";
    case CODA_E_INTERNAL:
      return "CODA_E_INTERNAL";
    default:
      return "unknown status";
  }
}

std::string CallOutcome::describe() const {
  std::string out = status_name(status);
  if (status != CODA_OK && status != CODA_E_INVALID && status != CODA_E_UNSUPPORTED &&
      status != CODA_E_STATE && status != CODA_E_NOT_FOUND && status != CODA_E_BUSY &&
      status != CODA_E_IO && status != CODA_E_CANCELLED && status != CODA_E_INTERNAL) {
    out += " (" + std::to_string(status) + ")";
  }
  if (!detail.empty()) out += ": " + detail;
  return out;
}

}  // namespace coda::plugins
