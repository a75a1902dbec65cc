#include "core/process/agent_account.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace coda::process {

config::AgentAccount lookup_agent_account(const std::string& user) {
  if (user.empty()) throw std::runtime_error("no user given");
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  uid_t uid = 0;
  const auto [end, parse_error] = std::from_chars(user.data(), user.data() + user.size(), uid);
  const bool numeric = parse_error == std::errc() && end == user.data() + user.size();
  const int error = numeric
                        ? ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)
                        : ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    throw std::runtime_error("no user '" + user + "' on this machine" +
                             (error != 0 ? std::string(": ") + std::strerror(error) : "") +
                             " (create one, e.g. useradd --system --create-home coda-agent)");
  }
  config::AgentAccount account;
  account.uid = entry.pw_uid;
  account.gid = entry.pw_gid;
  account.name = entry.pw_name;
  account.home = entry.pw_dir != nullptr ? entry.pw_dir : "/";
  if (account.uid == 0) {
    throw std::runtime_error("'" + user +
                             "' is root: agents running as root would be no further "
                             "from the host than without run_as; name an unprivileged user");
  }
  int count = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    ::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count);
  }
  groups.resize(static_cast<std::size_t>(count));
  for (gid_t group : groups) {
    if (group == 0) {
      throw std::runtime_error("'" + account.name +
                               "' is in the group root (gid 0): its agents "
                               "could read what the host's group may; name a user outside it");
    }
  }
  account.groups = std::move(groups);
  return account;
}

bool become_agent_account(const config::AgentAccount& account) {
  return ::setgroups(account.groups.size(), account.groups.data()) == 0 &&
         ::setresgid(account.gid, account.gid, account.gid) == 0 &&
         ::setresuid(account.uid, account.uid, account.uid) == 0;
}

}  // namespace coda::process
