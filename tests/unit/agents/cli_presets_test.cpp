// Every agent-cli preset through the real plugin, the real host process functions and the fake CLIs.
#include <gtest/gtest.h>

#include "tests/unit/agents/agent_harness.hpp"

namespace coda::agents::test {
namespace {

std::unique_ptr<AgentHarness> cli(const std::string& config_json) {
  auto harness = std::make_unique<AgentHarness>();
  harness->load(CODA_AGENT_CLI_PLUGIN, config_json);
  return harness;
}

int64_t usage_int(const std::shared_ptr<TaskRecorder>& r, const std::string& key) {
  auto usage = r->result()->getObject("usage");
  return usage ? usage->optValue<int64_t>(key, -1) : -1;
}

TEST(ClaudePreset, CompletesWithTheResultEvent) {
  auto h = cli(R"({"preset":"claude"})");
  EXPECT_EQ(h->probe(), "");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Claude finished the task (permission mode acceptEdits).");
  EXPECT_EQ(usage_int(r, "input_tokens"), 1200);
  EXPECT_EQ(usage_int(r, "output_tokens"), 340);
  EXPECT_DOUBLE_EQ(r->result()->getObject("usage")->getValue<double>("cost_usd"), 0.0123);
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session").rfind("11111111-", 0), 0u);
  EXPECT_GE(r->event_json_count(), 5u);
  EXPECT_FALSE(r->progress().empty());
  // The prompt went through stdin (the prompt file), not argv; stream-json needs --verbose.
  EXPECT_TRUE(r->argv_has("--verbose"));
  EXPECT_FALSE(r->argv_has("Fix the bug."));
  EXPECT_EQ(r->finished_calls(), 1);
}

TEST(ClaudePreset, YoloOnlyWhenAskedAndAllowed) {
  auto h = cli(R"({"preset":"claude"})");
  auto asked_not_allowed = h->run({.permissions = "yolo", .yolo_allowed = false});
  EXPECT_FALSE(asked_not_allowed->argv_has("bypassPermissions"));
  auto allowed_not_asked = h->run({.permissions = "smart", .yolo_allowed = true});
  EXPECT_FALSE(allowed_not_asked->argv_has("bypassPermissions"));
  auto both = h->run({.permissions = "yolo", .yolo_allowed = true});
  EXPECT_TRUE(both->argv_has("bypassPermissions"));
  EXPECT_EQ(both->summary(), "Claude finished the task (permission mode bypassPermissions).");
  // A backend can opt out whatever the policy says.
  auto h2 = cli(R"({"preset":"claude","allow_yolo":false})");
  EXPECT_FALSE(h2->run({.permissions = "yolo", .yolo_allowed = true})->argv_has("bypassPermissions"));
}

TEST(ClaudePreset, ResumesThePreviousSession) {
  auto h = cli(R"({"preset":"claude","model":"claude-sonnet-4-5","max_turns":12})");
  auto r = h->run({.resume_session = "9f1c-prev"});
  EXPECT_TRUE(r->argv_has("--resume"));
  EXPECT_TRUE(r->argv_has("9f1c-prev"));
  EXPECT_TRUE(r->argv_has("claude-sonnet-4-5"));
  EXPECT_TRUE(r->argv_has("12"));
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session"), "9f1c-prev");
}

TEST(ClaudePreset, TheFinalEventDecidesNotTheExitCode) {
  auto h = cli(R"({"preset":"claude"})");
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_EQ(failed->summary(), "API Error: overloaded");
  auto max_turns = h->run({.prompt = "fake:partial"});  // exit 0, error_max_turns
  EXPECT_EQ(max_turns->status(), "failed");
  auto no_final = h->run({.prompt = "fake:no_final"});  // exit 0 without a result event
  EXPECT_EQ(no_final->status(), "failed");
  EXPECT_NE(no_final->result_json().find("without its final event"), std::string::npos);
  auto late_failure = h->run({.prompt = "fake:fail_after_success"});  // success event, exit 1
  EXPECT_EQ(late_failure->status(), "completed");
  EXPECT_EQ(late_failure->result()->getValue<int>("exit_code"), 1);
}

TEST(CodexPreset, CompletesResumesAndMapsYolo) {
  auto h = cli(R"({"preset":"codex","model":"gpt-5-codex"})");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Codex finished the task (sandbox workspace-write).");
  EXPECT_EQ(usage_int(r, "input_tokens"), 2400);
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session").rfind("0199a213-", 0), 0u);
  EXPECT_TRUE(r->argv_has(h->workspace()));
  EXPECT_TRUE(r->argv_has("--skip-git-repo-check"));
  EXPECT_FALSE(r->argv_has("--dangerously-bypass-approvals-and-sandbox"));
  auto yolo = h->run({.permissions = "yolo", .yolo_allowed = true, .resume_session = "thr-7"});
  EXPECT_TRUE(yolo->argv_has("--dangerously-bypass-approvals-and-sandbox"));
  EXPECT_EQ(yolo->summary(), "Codex finished the task (sandbox danger-full-access, resumed thr-7).");
  EXPECT_EQ(yolo->result()->getValue<std::string>("agent_session"), "thr-7");
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_NE(failed->result_json().find("401 Unauthorized"), std::string::npos);
  EXPECT_EQ(h->run({.prompt = "fake:no_final"})->status(), "failed");
}

TEST(GeminiPreset, CompletesAndReportsTurnLimits) {
  auto h = cli(R"({"preset":"gemini"})");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Gemini finished the task (approval auto_edit).");
  EXPECT_EQ(usage_int(r, "output_tokens"), 250);
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session").rfind("gem-", 0), 0u);
  auto yolo = h->run({.permissions = "yolo", .yolo_allowed = true, .resume_session = "gem-1"});
  EXPECT_EQ(yolo->summary(), "Gemini finished the task (approval yolo, resumed gem-1).");
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_EQ(failed->result()->getValue<int>("exit_code"), 53);
  EXPECT_NE(failed->result_json().find("turn limit"), std::string::npos);
}

TEST(OpenCodePreset, CompletesAndMapsAuto) {
  auto h = cli(R"({"preset":"opencode","model":"anthropic/claude-sonnet-4-5"})");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "OpenCode finished the task (auto 0).");
  EXPECT_EQ(usage_int(r, "input_tokens"), 1500);
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session").rfind("ses_", 0), 0u);
  EXPECT_FALSE(r->argv_has("--auto"));
  auto yolo = h->run({.permissions = "yolo", .yolo_allowed = true, .resume_session = "ses_9"});
  EXPECT_EQ(yolo->summary(), "OpenCode finished the task (auto 1, resumed ses_9).");
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_NE(failed->result_json().find("model not found"), std::string::npos);
}

TEST(AiderPreset, PlainTextAndExitCode) {
  auto h = cli(R"({"preset":"aider","model":"gpt-4.1"})");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_NE(r->summary().find("Aider finished the task (yes-always 1, shell commands 0)."),
            std::string::npos);
  EXPECT_TRUE(r->argv_has(h->task_dir() + "/prompt.txt"));
  auto yolo = h->run({.permissions = "yolo", .yolo_allowed = true});
  EXPECT_NE(yolo->summary().find("shell commands 1"), std::string::npos);
  auto failed = h->run({.prompt = "fake:fail"});
  EXPECT_EQ(failed->status(), "failed");
  EXPECT_EQ(failed->result()->getValue<int>("exit_code"), 1);
}

TEST(CustomCommand, JsonLinesWithAConfiguredFinalEvent) {
  // The fake claude described as a custom backend: shows every placeholder and option group.
  auto h = cli(R"({
    "command": ["claude", "-p", "--output-format", "stream-json", "--verbose", "{options}"],
    "output": "jsonl", "stdin": "prompt_file", "model": "m1",
    "smart_args": ["--permission-mode", "plan"], "yolo_args": ["--permission-mode", "bypassPermissions"],
    "model_args": ["--model", "{model}"], "resume_args": ["--resume", "{resume_session}"],
    "session_field": "session_id",
    "final": {"type": "result", "success": {"subtype": "success", "is_error": false},
              "summary": "result", "usage": "usage"}})");
  auto r = h->run({.resume_session = "s-42"});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_EQ(r->summary(), "Claude finished the task (permission mode plan, resumed s-42).");
  EXPECT_EQ(r->result()->getValue<std::string>("agent_session"), "s-42");
  EXPECT_EQ(usage_int(r, "input_tokens"), 1200);
  EXPECT_TRUE(r->argv_has("m1"));
  EXPECT_EQ(h->run({.prompt = "fake:fail"})->status(), "failed");
}

TEST(CustomCommand, PlainTextWithPlaceholders) {
  auto h = cli(R"({"command": ["aider", "--message-file", "{prompt_file}", "--yes-always"],
                   "output": "text"})");
  auto r = h->run({});
  EXPECT_EQ(r->status(), "completed") << r->result_json();
  EXPECT_TRUE(r->argv_has(h->task_dir() + "/prompt.txt"));
}

TEST(CliConfig, BadConfigIsRefusedWithTheKey) {
  AgentHarness h;
  h.load(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude"})");
  EXPECT_NE(h.try_create(R"({"preset":"cursor"})").find("unknown preset 'cursor'"), std::string::npos);
  EXPECT_NE(h.try_create(R"({"preset":"claude","modle":"x"})").find("modle"), std::string::npos);
  EXPECT_NE(h.try_create(R"({"output":"jsonl"})").find("`preset`"), std::string::npos);
  EXPECT_NE(h.try_create(R"({"command":["x"],"output":"jsonl"})").find("`final`"), std::string::npos);
  EXPECT_NE(h.try_create(R"({"preset":"claude","args":"--x"})").find("list of strings"),
            std::string::npos);
}

TEST(CliConfig, APromptPlaceholderInArgvIsRefused) {
  AgentHarness h;
  h.load(CODA_AGENT_CLI_PLUGIN, R"({"preset":"claude"})");
  const auto in_command = h.try_create(R"({"command":["mytool","--message","{prompt}"]})");
  EXPECT_NE(in_command.find("'{prompt}'"), std::string::npos) << in_command;
  EXPECT_NE(in_command.find("{prompt_file}"), std::string::npos) << in_command;
  EXPECT_NE(in_command.find("stdin: prompt_file"), std::string::npos) << in_command;
  EXPECT_NE(h.try_create(R"({"command":["mytool"],"smart_args":["--msg={prompt}"]})").find("'{prompt}'"),
            std::string::npos);
  EXPECT_NE(h.try_create(R"({"preset":"claude","args":["{prompt}"]})").find("'{prompt}'"),
            std::string::npos);
}

// Every preset, the prompt text never in argv (it would be readable in /proc/<pid>/cmdline).
TEST(EveryPreset, ThePromptNeverReachesArgv) {
  for (const char* preset : {"claude", "codex", "gemini", "opencode", "aider"}) {
    auto h = cli(std::string(R"({"preset":")") + preset + "\"}");
    auto r = h->run({.prompt = "Fix the bug. secret-marker-4711"});
    EXPECT_EQ(r->status(), "completed") << preset << ": " << r->result_json();
    for (const auto& arg : r->argv()) {
      EXPECT_EQ(arg.find("secret-marker-4711"), std::string::npos) << preset << ": " << arg;
    }
  }
}

// A 300 KiB prompt is past what one argv string may hold (128 KiB, E2BIG): each preset runs it.
TEST(EveryPreset, AThreeHundredKibPromptRuns) {
  const std::string big = "Fix the bug. " + std::string(300 * 1024, 'x');
  for (const char* preset : {"claude", "codex", "gemini", "opencode", "aider"}) {
    auto h = cli(std::string(R"({"preset":")") + preset + "\"}");
    auto r = h->run({.prompt = big});
    EXPECT_EQ(r->status(), "completed") << preset << ": " << r->result_json();
  }
}

// A resume session is what the previous run's agent reported: anything that is not an id (an option,
// spaces, too long) stays out of argv, the task starts a fresh session, and its log says so.
TEST(EveryPreset, ABadResumeSessionIsNotPassed) {
  for (const char* preset : {"claude", "codex", "gemini", "opencode"}) {
    for (const std::string& bad : std::vector<std::string>{"--dangerously-skip-permissions", "a b",
                                                           "x;rm -rf /", std::string(129, 'a'),
                                                           "id\nnext"}) {
      auto h = cli(std::string(R"({"preset":")") + preset + "\"}");
      auto r = h->run({.resume_session = bad});
      EXPECT_EQ(r->status(), "completed") << preset << ": " << r->result_json();
      EXPECT_FALSE(r->argv_has(bad)) << preset << ": " << bad;
      EXPECT_FALSE(r->argv_has("--resume") || r->argv_has("resume") || r->argv_has("--session"))
          << preset << ": " << bad;
      EXPECT_NE(r->text().find("not a valid id"), std::string::npos) << preset;
      EXPECT_NE(r->result()->getValue<std::string>("agent_session"), bad) << preset;
    }
    // A real id still resumes.
    auto h = cli(std::string(R"({"preset":")") + preset + "\"}");
    auto good = h->run({.resume_session = "ses_01J:abc-9.x"});
    EXPECT_TRUE(good->argv_has("ses_01J:abc-9.x")) << preset;
    EXPECT_EQ(good->text().find("not a valid id"), std::string::npos) << preset;
  }
}

TEST(CliBackend, MissingBinaryIsReportedByProbeAndStart) {
  auto h = cli(R"({"preset":"claude","binary":"claude-not-installed"})");
  const auto why = h->probe();
  EXPECT_NE(why.find("claude-not-installed"), std::string::npos) << why;
  EXPECT_NE(why.find("npm install -g @anthropic-ai/claude-code"), std::string::npos) << why;
  auto recorder = std::make_shared<TaskRecorder>();
  std::string error;
  EXPECT_NE(h->start({}, recorder, &error), CODA_OK);
  EXPECT_NE(error.find("claude-not-installed"), std::string::npos) << error;
  // Nothing started, so no finished() either.
  EXPECT_FALSE(recorder->wait(std::chrono::milliseconds(200)));
}

}  // namespace
}  // namespace coda::agents::test
