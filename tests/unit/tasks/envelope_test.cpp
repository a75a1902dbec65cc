// The prompt envelope: the built-in template's structure and safety rules, admin templates.
#include <gtest/gtest.h>

#include "core/tasks/envelope.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::tasks {
namespace {

TEST(Envelope, BuiltInHasThePrototypeStructureAndSafetyRules) {
  std::string text = Envelope().render({{"task_id", "task_1"},
                                        {"session_id", "sess_1"},
                                        {"user", "a@b.c"},
                                        {"prompt", "fix {{task_id}} the bug"},
                                        {"context", "{\"catalog\": \"main\"}"},
                                        {"prior_session", "none"},
                                        {"result_file", "/w/.coda/tasks/task_1/result.json"}});
  for (const char* needle :
       {"---CODA-TASK---", "Task ID: task_1", "Session ID: sess_1", "User: a@b.c",
        "PRIOR SESSION: none", "{\"catalog\": \"main\"}", "fix {{task_id}} the bug",
        "/w/.coda/tasks/task_1/result.json", "needs_approval", "Never DROP, DELETE or TRUNCATE",
        "GRANT", "CREATE OR REPLACE", "---END-CODA-TASK---"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  EXPECT_LT(text.find("TASK:"), text.find("SAFETY")) << "the safety rules come last";
}

TEST(Envelope, AdminTemplateFileUsesPlaceholders) {
  test::TempDir dir;
  auto path = dir.write("envelope.txt", "T={{ task_id }} P={{prompt}}\n{{safety}}");
  std::string text = Envelope::from_file(path).render({{"task_id", "t"}, {"prompt", "p"}});
  EXPECT_EQ(text.substr(0, 8), "T=t P=p\n");
  EXPECT_NE(text.find("SAFETY"), std::string::npos);
}

TEST(Envelope, UnknownPlaceholderOrMissingFileIsAClearError) {
  test::TempDir dir;
  auto path = dir.write("bad.txt", "hello {{taskid}}");
  try {
    Envelope::from_file(path);
    FAIL();
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("{{taskid}}"), std::string::npos) << what;
  }
  EXPECT_THROW(Envelope("unclosed {{prompt"), std::invalid_argument);
  EXPECT_THROW(Envelope::from_file(dir.path() + "/missing.txt"), std::runtime_error);
}

}  // namespace
}  // namespace coda::tasks
