// `coda serve --stdio`: the real binary speaking MCP on its stdin/stdout, as a local client runs it.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "tests/integration/stdio_pipe_child.hpp"
#include "tests/support/temp_dir.hpp"

namespace coda::test {
namespace {

using Poco::JSON::Object;

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"1"}}})";

// The next stdout line that answers `id` (as JSON text); every line read must be a JSON-RPC message.
Object::Ptr reply_to(PipeChild& coda, const std::string& id_json) {
  for (int i = 0; i < 50; ++i) {
    std::string line = coda.read_line();
    if (line.empty()) return nullptr;
    Object::Ptr msg = parse(line);  // throws (and fails the test) on anything but JSON
    EXPECT_EQ(msg->getValue<std::string>("jsonrpc"), "2.0") << line;
    // An error for a message whose id could not be read may carry "id": null or no id at all.
    if (!msg->has("id")) {
      if (id_json == "null" && msg->has("error")) return msg;
      continue;
    }
    std::ostringstream id;
    Poco::JSON::Stringifier::stringify(msg->get("id"), id);
    if (id.str() == id_json) return msg;
  }
  return nullptr;
}

TEST(StdioServe, SpeaksMcpOnStdinAndStdoutAndExitsAtEndOfInput) {
  TempDir data;
  PipeChild coda({"serve", "--stdio", "--data-dir", data.path()});
  coda.send_line(kInitialize);
  auto init = reply_to(coda, "1");
  ASSERT_TRUE(init) << coda.stderr_text();
  auto result = init->getObject("result");
  ASSERT_TRUE(result) << coda.stderr_text();
  EXPECT_EQ(result->getValue<std::string>("protocolVersion"), "2025-11-25");
  EXPECT_EQ(result->getObject("serverInfo")->getValue<std::string>("name"), "coda");

  coda.send_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  coda.send_line("");  // blank lines are skipped
  coda.send_line(R"({"jsonrpc":"2.0","id":"list","method":"tools/list"})");
  auto list = reply_to(coda, "\"list\"");
  ASSERT_TRUE(list) << coda.stderr_text();
  EXPECT_TRUE(list->getObject("result")->getArray("tools")) << coda.stderr_text();

  coda.send_line("not json");
  auto parse_error = reply_to(coda, "null");
  ASSERT_TRUE(parse_error);
  EXPECT_EQ(parse_error->getObject("error")->getValue<int>("code"), -32700);

  coda.send_line(R"({"jsonrpc":"2.0","id":0,"method":"ping"})");
  coda.close_stdin();
  // The answer to what was sent before the end of input still arrives, then the host exits cleanly.
  auto ping = reply_to(coda, "0");
  ASSERT_TRUE(ping) << coda.stderr_text();
  EXPECT_EQ(coda.wait_exit(std::chrono::seconds(30)), 0) << coda.stderr_text();
  EXPECT_TRUE(coda.read_line(std::chrono::seconds(5)).empty());
  EXPECT_TRUE(coda.eof());
  // The URL line and the logs went to stderr.
  EXPECT_NE(coda.stderr_text().find("coda listening on http://127.0.0.1:"), std::string::npos)
      << coda.stderr_text();
}

TEST(StdioServe, ShutsDownOnSigterm) {
  TempDir data;
  PipeChild coda({"serve", "--stdio", "--data-dir", data.path()});
  coda.send_line(kInitialize);
  ASSERT_TRUE(reply_to(coda, "1")) << coda.stderr_text();
  coda.signal(SIGTERM);
  EXPECT_EQ(coda.wait_exit(std::chrono::seconds(30)), 0) << coda.stderr_text();
}

TEST(StdioServe, TwoHostsStartedByTwoClientsDoNotFightOverAPort) {
  TempDir data1;
  TempDir data2;
  PipeChild first({"serve", "--stdio", "--data-dir", data1.path()});
  PipeChild second({"serve", "--stdio", "--data-dir", data2.path()});
  first.send_line(kInitialize);
  second.send_line(kInitialize);
  EXPECT_TRUE(reply_to(first, "1")) << first.stderr_text();
  EXPECT_TRUE(reply_to(second, "1")) << second.stderr_text();
}

}  // namespace
}  // namespace coda::test
