// Optional header-only C++ helpers for plugins written in C++17 or later. Nothing here crosses the
// ABI: these only make the C types of plugin.h pleasant to use on the plugin's side.
#ifndef CODA_PLUGIN_HPP
#define CODA_PLUGIN_HPP

#include <coda/plugin.h>

#include <exception>
#include <memory>
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

// A JSON string literal (with the quotes) of UTF-8 text: ", \ and control characters escaped.
inline std::string json_quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---- a plugin with one component, written as a C++ class ------------------------------------------
//
// The vtable of a transport implemented by T. `Create` builds one from the host and the instance's
// config JSON (throwing on a bad config: the message becomes the host's error detail); T has
// `coda_status_t start()` and `coda_status_t stop()`. No exception crosses the ABI.
//   std::unique_ptr<MyTransport> create(const coda_host_t* host, std::string_view config_json);
//   const coda_transport_vtbl_t* vtbl = coda::sdk::transport_vtbl<MyTransport, create>();
template <typename T, std::unique_ptr<T> (*Create)(const coda_host_t*, std::string_view)>
const coda_transport_vtbl_t* transport_vtbl() {
  struct Instance {
    const coda_host_t* host;
    std::unique_ptr<T> impl;
  };
  struct Fns {
    static void* create(const coda_host_t* host, coda_str_t config_json) {
      return barrier(host, static_cast<void*>(nullptr), [&]() -> void* {
        std::string_view json = view(config_json);
        return new Instance{host, Create(host, json.empty() ? std::string_view("{}") : json)};
      });
    }
    static coda_status_t start(void* self) {
      auto* instance = static_cast<Instance*>(self);
      return barrier(instance->host, coda_status_t{CODA_E_INTERNAL},
                     [&] { return instance->impl->start(); });
    }
    static coda_status_t stop(void* self) {
      auto* instance = static_cast<Instance*>(self);
      return barrier(instance->host, coda_status_t{CODA_E_INTERNAL},
                     [&] { return instance->impl->stop(); });
    }
    static void destroy(void* self) {
      auto* instance = static_cast<Instance*>(self);
      barrier_void(instance->host, [&] { delete instance; });
    }
  };
  static const coda_transport_vtbl_t vtbl = {sizeof(coda_transport_vtbl_t), &Fns::create,
                                             &Fns::start, &Fns::stop, &Fns::destroy};
  return &vtbl;
}

// Static strings (string literals) describing a plugin with one component.
struct ComponentPluginInfo {
  const char* plugin_id;              // reverse-DNS id of the library
  const char* plugin_description;     // one line
  const char* component_id;           // reverse-DNS id of the component
  const char* component_description;  // one line
  const char* version;                // semver of both
};

// The coda_plugin_t of a library with one component of `kind` and `vtbl`; its init refuses a host
// of another ABI major. `Tag` (any type of the plugin's own) keeps the statics apart. Use it as the
// body of the entry point:
//   extern "C" CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) {
//     return coda::sdk::single_component_plugin<MyTransport>({...}, CODA_KIND_TRANSPORT, vtbl);
//   }
template <typename Tag>
const coda_plugin_t* single_component_plugin(const ComponentPluginInfo& info, int32_t kind,
                                             const void* vtbl) {
  struct Fns {
    static const coda_component_t*& component() {
      static const coda_component_t* value = nullptr;
      return value;
    }
    static coda_status_t init(const coda_host_t* host) {
      return host == nullptr || host->abi_major != CODA_ABI_MAJOR ? CODA_E_UNSUPPORTED : CODA_OK;
    }
    static uint32_t count() { return 1; }
    static const coda_component_t* at(uint32_t index) { return index == 0 ? component() : nullptr; }
    static void deinit() {}
  };
  static const coda_component_t component = {sizeof(coda_component_t), kind, info.component_id,
                                             info.version, info.component_description, vtbl};
  static const coda_plugin_t plugin = {
      sizeof(coda_plugin_t), CODA_ABI_MAJOR,    CODA_ABI_MINOR, static_cast<uint32_t>(sizeof(void*)),
      info.plugin_id,        info.version,      info.plugin_description, &Fns::init,
      &Fns::count,           &Fns::at,          &Fns::deinit};
  Fns::component() = &component;
  return &plugin;
}

}  // namespace coda::sdk

#endif  // CODA_PLUGIN_HPP
