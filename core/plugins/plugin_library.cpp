#include "core/plugins/plugin_library.hpp"

#include <cctype>
#include <cstddef>
#include <cstring>
#include <fstream>

#include <boost/system/system_error.hpp>

#include "core/log/logging.hpp"
#include "core/plugins/guard.hpp"

namespace coda::plugins {
namespace {

std::string version_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string kHostAbi = version_text(CODA_ABI_MAJOR, CODA_ABI_MINOR);

// Reverse-DNS: at least two dot-separated labels of [A-Za-z0-9_-], 1-128 characters in all.
bool valid_id(const char* id) {
  if (id == nullptr) return false;
  std::size_t len = std::strlen(id);
  if (len == 0 || len > 128 || id[0] == '.' || id[len - 1] == '.') return false;
  bool dot = false;
  for (std::size_t i = 0; i < len; ++i) {
    char c = id[i];
    if (c == '.') {
      if (id[i + 1] == '.') return false;
      dot = true;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return false;
    }
  }
  return dot;
}

std::string text_or_empty(const char* s) { return s == nullptr ? "" : std::string(s); }

// The size a vtable of `kind` has at ABI 1.0: every function up to destroy().
std::size_t min_vtbl_size(int32_t kind) {
  switch (kind) {
    case CODA_KIND_TRANSPORT:
      return offsetof(coda_transport_vtbl_t, destroy) + sizeof(void*);
    case CODA_KIND_AGENT:
      return offsetof(coda_agent_vtbl_t, destroy) + sizeof(void*);
    case CODA_KIND_TOOLS:
      return offsetof(coda_tools_vtbl_t, destroy) + sizeof(void*);
    default:
      return 0;
  }
}

// Every 1.0 function of the vtable is present.
bool vtbl_complete(int32_t kind, const void* vtbl) {
  switch (kind) {
    case CODA_KIND_TRANSPORT: {
      auto v = static_cast<const coda_transport_vtbl_t*>(vtbl);
      return v->create && v->start && v->stop && v->destroy;
    }
    case CODA_KIND_AGENT: {
      auto v = static_cast<const coda_agent_vtbl_t*>(vtbl);
      return v->create && v->probe && v->start && v->cancel && v->destroy;
    }
    case CODA_KIND_TOOLS: {
      auto v = static_cast<const coda_tools_vtbl_t*>(vtbl);
      return v->create && v->list && v->call && v->cancel && v->destroy;
    }
    default:
      return false;
  }
}

// A short description of what the file is, for "not a shared library" refusals.
std::string sniff(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "an unreadable file";
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0) return "an ELF file";
  return "not an ELF file";
}

}  // namespace

const char* kind_name(int32_t kind) {
  switch (kind) {
    case CODA_KIND_TRANSPORT:
      return "transport";
    case CODA_KIND_AGENT:
      return "agent";
    case CODA_KIND_TOOLS:
      return "tools";
    default:
      return "unknown";
  }
}

std::unique_ptr<PluginLibrary> PluginLibrary::open(const std::string& file) {
  std::unique_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->file_ = file;
  try {
    lib->library_.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const boost::system::system_error& e) {
    std::string what = e.what();
    throw PluginRefused("expected a shared library, found " + sniff(file) + " that cannot be loaded (" +
                        what + ")");
  }
  lib->negotiate();
  return lib;
}

PluginLibrary::~PluginLibrary() = default;

std::string PluginLibrary::abi_version() const {
  return version_text(plugin_->abi_major, plugin_->abi_minor);
}

void PluginLibrary::negotiate() {
  if (!library_.has(CODA_PLUGIN_ENTRY_SYMBOL)) {
    throw PluginRefused(std::string("expected the entry function ") + CODA_PLUGIN_ENTRY_SYMBOL +
                        " (ABI " + kHostAbi + "), found no such symbol: not a CoDA plugin, or built "
                        "for another ABI major");
  }
  using Entry = const coda_plugin_t* (*)();
  Entry entry = library_.get<const coda_plugin_t*()>(CODA_PLUGIN_ENTRY_SYMBOL);
  std::string error;
  if (!guarded_value(plugin_, error, [&] { return entry(); })) {
    throw PluginRefused(std::string("the entry function ") + error);
  }
  if (plugin_ == nullptr) throw PluginRefused("the entry function returned no description (NULL)");
  const std::size_t min_size = offsetof(coda_plugin_t, deinit) + sizeof(void*);
  // The ABI version fields come right after struct_size: check them before trusting the size, so a
  // plugin of another major is refused with both versions.
  if (plugin_->struct_size < offsetof(coda_plugin_t, abi_minor) + sizeof(uint32_t)) {
    throw PluginRefused("expected a coda_plugin_t of at least " + std::to_string(min_size) +
                        " bytes, found " + std::to_string(plugin_->struct_size));
  }
  std::string found = version_text(plugin_->abi_major, plugin_->abi_minor);
  if (plugin_->abi_major != CODA_ABI_MAJOR) {
    throw PluginRefused("expected plugin ABI " + std::to_string(CODA_ABI_MAJOR) + ".x (host ABI " +
                        kHostAbi + "), found ABI " + found);
  }
  if (plugin_->abi_minor > CODA_ABI_MINOR) {
    throw PluginRefused("expected plugin ABI " + std::to_string(CODA_ABI_MAJOR) + "." +
                        std::to_string(CODA_ABI_MINOR) + " or older (host ABI " + kHostAbi +
                        "), found ABI " + found + ": the plugin needs a newer host");
  }
  if (plugin_->struct_size < min_size) {
    throw PluginRefused("expected a coda_plugin_t of at least " + std::to_string(min_size) +
                        " bytes for ABI " + found + ", found " +
                        std::to_string(plugin_->struct_size));
  }
  if (plugin_->pointer_size != sizeof(void*)) {
    throw PluginRefused("expected pointer size " + std::to_string(sizeof(void*)) + ", found " +
                        std::to_string(plugin_->pointer_size) + " (built for another architecture)");
  }
  if (!valid_id(plugin_->id)) {
    throw PluginRefused("expected a reverse-DNS plugin id such as com.example.plugin, found '" +
                        text_or_empty(plugin_->id) + "'");
  }
  if (plugin_->init == nullptr || plugin_->component_count == nullptr ||
      plugin_->component_at == nullptr || plugin_->deinit == nullptr) {
    throw PluginRefused("expected init, component_count, component_at and deinit, found a NULL one");
  }
  id_ = plugin_->id;
  version_ = text_or_empty(plugin_->version);
  description_ = text_or_empty(plugin_->description);

  uint32_t count = 0;
  if (!guarded_value(count, error, [&] { return plugin_->component_count(); })) {
    throw PluginRefused("component_count " + error);
  }
  for (uint32_t i = 0; i < count; ++i) {
    const coda_component_t* c = nullptr;
    if (!guarded_value(c, error, [&] { return plugin_->component_at(i); })) {
      throw PluginRefused("component_at(" + std::to_string(i) + ") " + error);
    }
    std::string where = "component " + std::to_string(i);
    if (c == nullptr) throw PluginRefused("expected " + where + " of " + std::to_string(count) +
                                          ", found NULL");
    if (c->struct_size < offsetof(coda_component_t, vtbl) + sizeof(void*)) {
      throw PluginRefused("expected " + where + " to be a coda_component_t of at least " +
                          std::to_string(offsetof(coda_component_t, vtbl) + sizeof(void*)) +
                          " bytes, found " + std::to_string(c->struct_size));
    }
    if (!valid_id(c->id)) {
      throw PluginRefused("expected " + where + " to have a reverse-DNS id, found '" +
                          text_or_empty(c->id) + "'");
    }
    std::size_t vtbl_min = min_vtbl_size(c->kind);
    if (vtbl_min == 0) {
      log::get("plugins").debug(file_ + ": component " + c->id + " has unknown kind " +
                                std::to_string(c->kind) + ": skipped");
      continue;
    }
    auto vtbl_size = c->vtbl == nullptr ? 0u : *static_cast<const uint32_t*>(c->vtbl);
    if (c->vtbl == nullptr || vtbl_size < vtbl_min || !vtbl_complete(c->kind, c->vtbl)) {
      throw PluginRefused("expected component " + std::string(c->id) + " to have a complete " +
                          kind_name(c->kind) + " vtable of at least " + std::to_string(vtbl_min) +
                          " bytes, found " +
                          (c->vtbl == nullptr ? std::string("none")
                                              : std::to_string(vtbl_size) + " bytes" +
                                                    (vtbl_size >= vtbl_min ? " with a NULL function"
                                                                           : "")));
    }
    for (const auto& other : components_) {
      if (other.id == c->id) {
        throw PluginRefused("component id " + other.id + " appears twice in the plugin");
      }
    }
    components_.push_back(ComponentInfo{c->kind, c->id, text_or_empty(c->version),
                                        text_or_empty(c->description), c});
  }
}

}  // namespace coda::plugins
