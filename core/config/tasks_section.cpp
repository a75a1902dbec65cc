// The `tasks:` section: the task engine's limits, timeouts, retention and prompt envelope.
#include "core/config/sections.hpp"

namespace coda::config {

void parse_tasks_section(Reader& section, TasksConfig& tasks) {
  tasks.max_concurrent = section.get<int>("max_concurrent", tasks.max_concurrent, 1, 1024);
  tasks.max_per_owner = section.get<int>("max_per_owner", tasks.max_per_owner, 1, 1024);
  tasks.max_queued = section.get<int>("max_queued", tasks.max_queued, 0, 1000000);
  tasks.max_queued_per_owner =
      section.get<int>("max_queued_per_owner", tasks.max_queued_per_owner, 0, 1000000);
  tasks.default_timeout_s =
      section.get<int>("default_timeout_s", tasks.default_timeout_s, 1, 30 * 86400);
  tasks.max_timeout_s = section.get<int>("max_timeout_s", tasks.max_timeout_s, 1, 30 * 86400);
  tasks.inbox_window_s = section.get<int>("inbox_window_s", tasks.inbox_window_s, 1, 3650 * 86400);
  tasks.max_wait_s = section.get<int>("max_wait_s", tasks.max_wait_s, 0, 3600);
  tasks.retention_days = section.get<int>("retention_days", tasks.retention_days, 0, 36500);
  tasks.on_restart = section.get_choice("on_restart", tasks.on_restart, {"interrupt", "requeue"});
  tasks.events_max_bytes =
      section.get_bytes("events_max_bytes", tasks.events_max_bytes, 4096, 1ull << 40);
  tasks.owner_storage_mb =
      section.get_int("owner_storage_mb", tasks.owner_storage_mb, 0, std::int64_t{1} << 40);
  tasks.envelope_template = section.get_path("envelope_template", tasks.envelope_template);
  if (tasks.default_timeout_s > tasks.max_timeout_s) {
    section.error("default_timeout_s", "must not exceed max_timeout_s (" +
                                           std::to_string(tasks.max_timeout_s) + ")");
  }
}

}  // namespace coda::config
