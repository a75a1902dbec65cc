#include "core/process/proc_table.hpp"

#include <dirent.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/process/process_service.hpp"

namespace coda::process {

std::optional<ProcEntry> read_proc_entry(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid pgrp session ..." — comm may contain spaces and parentheses, so fields
  // are counted from the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcEntry entry;
  entry.pid = pid;
  std::string field;
  // Fields after comm start at 3 (state); start time is field 22.
  for (int index = 3; index <= 22 && rest >> field; ++index) {
    switch (index) {
      case 3: entry.state = field.empty() ? '?' : field[0]; break;
      case 4: entry.ppid = static_cast<pid_t>(std::atol(field.c_str())); break;
      case 5: entry.pgid = static_cast<pid_t>(std::atol(field.c_str())); break;
      case 6: entry.sid = static_cast<pid_t>(std::atol(field.c_str())); break;
      case 22: entry.start_time = std::strtoull(field.c_str(), nullptr, 10); return entry;
      default: break;
    }
  }
  return std::nullopt;
}

std::vector<ProcEntry> list_processes() {
  std::vector<ProcEntry> result;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return result;
  while (const dirent* item = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(item->d_name, &end, 10);
    if (pid <= 0 || end == nullptr || *end != '\0') continue;
    if (auto entry = read_proc_entry(static_cast<pid_t>(pid))) result.push_back(*entry);
  }
  closedir(dir);
  return result;
}

std::vector<ProcEntry> group_members(pid_t pgid, pid_t sid) {
  std::vector<ProcEntry> result;
  for (const auto& entry : list_processes()) {
    if (entry.state == 'Z') continue;
    if ((pgid > 0 && entry.pgid == pgid) || (sid > 0 && entry.sid == sid)) result.push_back(entry);
  }
  return result;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto entry = read_proc_entry(pid);
  if (!entry) return std::nullopt;
  return entry->start_time;
}

bool kill_surviving_group(pid_t pid, pid_t pgid, uint64_t start_time) {
  if (pid <= 0 || pgid <= 0) return false;
  if (auto leader = read_proc_entry(pid)) {
    // The leader still runs: it must be the same process (same start time), else the pid was reused
    // and nothing of ours is left under it.
    if (leader->start_time != start_time) return false;
    ::kill(-pgid, SIGKILL);
    for (const auto& member : group_members(0, pid)) ::kill(member.pid, SIGKILL);
    return true;
  }
  // The leader is gone; members of its group or session may remain. A reused pid could lead a new
  // group with the same id, so only members that started no earlier than the recorded leader, while
  // no process holds the leader's pid, are taken as ours.
  if (read_proc_entry(pgid)) return false;
  bool killed = false;
  for (const auto& member : group_members(pgid, pid)) {
    if (member.start_time < start_time) continue;
    ::kill(member.pid, SIGKILL);
    killed = true;
  }
  return killed;
}

}  // namespace coda::process
