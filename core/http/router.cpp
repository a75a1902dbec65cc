#include "core/http/router.hpp"

#include <stdexcept>
#include <vector>

namespace coda::http {

RouteMatch::RouteMatch(std::shared_ptr<Entry> entry, std::shared_ptr<RouteHandler> handler,
                       std::string prefix)
    : entry_(std::move(entry)), handler_(std::move(handler)), prefix_(std::move(prefix)) {}

RouteMatch::RouteMatch(RouteMatch&& other) noexcept
    : entry_(std::move(other.entry_)),
      handler_(std::move(other.handler_)),
      prefix_(std::move(other.prefix_)) {}

RouteMatch& RouteMatch::operator=(RouteMatch&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = std::move(other.entry_);
    handler_ = std::move(other.handler_);
    prefix_ = std::move(other.prefix_);
  }
  return *this;
}

RouteMatch::~RouteMatch() { release(); }

void RouteMatch::release() {
  if (!entry_) return;
  handler_.reset();  // the handler may belong to a plugin about to be unloaded: drop it first
  {
    std::lock_guard lock(entry_->mutex);
    --entry_->running;
  }
  entry_->idle.notify_all();
  entry_.reset();
}

std::string Router::normalize_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/') {
    throw std::invalid_argument("route prefix '" + std::string(prefix) + "' must start with '/'");
  }
  if (prefix.find_first_of("?#") != std::string_view::npos) {
    throw std::invalid_argument("route prefix '" + std::string(prefix) +
                                "' must be a path without '?' or '#'");
  }
  std::string out(prefix);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void Router::mount(std::string prefix, std::shared_ptr<RouteHandler> handler, const void* owner) {
  if (!handler) throw std::invalid_argument("route '" + prefix + "': no handler");
  std::string key = normalize_prefix(prefix);
  std::lock_guard lock(mutex_);
  if (routes_.count(key) != 0) {
    throw std::invalid_argument("route prefix '" + key + "' is already mounted");
  }
  routes_.emplace(key, Mounted{std::make_shared<RouteMatch::Entry>(), std::move(handler), owner});
}

void Router::wait_idle(const std::shared_ptr<RouteMatch::Entry>& entry) {
  std::unique_lock lock(entry->mutex);
  entry->idle.wait(lock, [&] { return entry->running == 0; });
}

bool Router::unmount(std::string_view prefix, const void* owner) {
  std::string key;
  try {
    key = normalize_prefix(prefix);
  } catch (const std::invalid_argument&) {
    return false;
  }
  Mounted removed;
  {
    std::lock_guard lock(mutex_);
    auto it = routes_.find(key);
    if (it == routes_.end() || it->second.owner != owner) return false;
    removed = std::move(it->second);
    routes_.erase(it);
  }
  wait_idle(removed.entry);
  return true;
}

std::size_t Router::unmount_all(const void* owner) {
  std::vector<Mounted> removed;
  {
    std::lock_guard lock(mutex_);
    for (auto it = routes_.begin(); it != routes_.end();) {
      if (it->second.owner == owner) {
        removed.push_back(std::move(it->second));
        it = routes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& m : removed) wait_idle(m.entry);
  return removed.size();
}

RouteMatch Router::find(std::string_view path) const {
  std::lock_guard lock(mutex_);
  const std::pair<const std::string, Mounted>* best = nullptr;
  for (const auto& route : routes_) {
    const std::string& prefix = route.first;
    bool matches = prefix == "/" ||
                   (path.substr(0, prefix.size()) == prefix &&
                    (path.size() == prefix.size() || path[prefix.size()] == '/'));
    if (matches && (best == nullptr || prefix.size() > best->first.size())) best = &route;
  }
  if (best == nullptr) return {};
  {
    std::lock_guard entry_lock(best->second.entry->mutex);
    ++best->second.entry->running;
  }
  return RouteMatch(best->second.entry, best->second.handler, best->first);
}

std::size_t Router::size() const {
  std::lock_guard lock(mutex_);
  return routes_.size();
}

}  // namespace coda::http
