#include "web_ui_config.hpp"

#include <gtest/gtest.h>

namespace coda::webui {
namespace {

std::string error_of(const std::string& json) {
  try {
    WebUiConfig::parse(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(WebUiConfig, EmptyGivesTheDefaults) {
  const WebUiConfig c = WebUiConfig::parse("{}");
  EXPECT_EQ(c.ui_path, "/ui");
  EXPECT_EQ(c.ws_path, "/ws");
  EXPECT_EQ(c.mcp_path, "/mcp");
  EXPECT_TRUE(c.redirect_root);
  EXPECT_EQ(c.ticket_ttl_s, 30);
  EXPECT_EQ(c.frame_ancestors, "'none'");
}

TEST(WebUiConfig, ReadsEveryKey) {
  const WebUiConfig c = WebUiConfig::parse(
      R"({"path":"/dash","ws_path":"/socket","mcp_path":"/api/mcp","redirect_root":false,)"
      R"("ticket_ttl_s":5,"max_connections":3,"max_calls_per_connection":2,"max_message_kb":8,)"
      R"("poll_interval_ms":250,"frame_ancestors":"'self'"})");
  EXPECT_EQ(c.ui_path, "/dash");
  EXPECT_EQ(c.ws_path, "/socket");
  EXPECT_EQ(c.mcp_path, "/api/mcp");
  EXPECT_FALSE(c.redirect_root);
  EXPECT_EQ(c.ticket_ttl_s, 5);
  EXPECT_EQ(c.max_connections, 3);
  EXPECT_EQ(c.max_calls_per_connection, 2);
  EXPECT_EQ(c.max_message_bytes, 8u * 1024u);
  EXPECT_EQ(c.poll_interval_ms, 250);
  EXPECT_EQ(c.frame_ancestors, "'self'");
}

TEST(WebUiConfig, BadValuesSayWhatToSend) {
  EXPECT_NE(error_of(R"({"pth":"/ui"})").find("pth: unknown key"), std::string::npos);
  EXPECT_NE(error_of(R"({"path":"ui"})").find("path: expected an absolute path"), std::string::npos);
  EXPECT_NE(error_of(R"({"path":"/ui/"})").find("without a trailing"), std::string::npos);
  EXPECT_NE(error_of(R"({"ticket_ttl_s":0})").find("ticket_ttl_s: expected an integer from 1 to 600"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ticket_ttl_s":"5"})").find("ticket_ttl_s"), std::string::npos);
  EXPECT_NE(error_of(R"({"redirect_root":"yes"})").find("redirect_root: expected true or false"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ws_path":"/ui/ws"})").find("ws_path: must not lie under"),
            std::string::npos);
  // Host and Origin are the host listener's (server.allowed_origins), not the transport's.
  EXPECT_NE(error_of(R"({"allowed_origins":["https://a.example"]})")
                .find("allowed_origins: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"frame_ancestors":"'self'; script-src *"})").find("frame_ancestors"),
            std::string::npos);
  EXPECT_NE(error_of("[1]").find("expected"), std::string::npos);
  EXPECT_NE(error_of("{").find("expected a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace coda::webui
