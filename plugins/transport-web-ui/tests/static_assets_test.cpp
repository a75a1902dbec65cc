#include "static_assets.hpp"

#include <gtest/gtest.h>

namespace coda::webui {
namespace {

TEST(StaticAssets, TheEmbeddedCopyHasThePage) {
  StaticAssets assets("");
  auto index = assets.find("");
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("js/app.js"), std::string_view::npos);
  auto app = assets.find("js/app.js");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(app->etag, assets.find("js/app.js")->etag);
  EXPECT_NE(app->etag, index->etag);
  EXPECT_FALSE(assets.find("js/missing.js").has_value());
}

TEST(StaticAssets, OnlyPlainNamesAreServed) {
  for (const char* bad : {"..", "../etc/passwd", "js/../index.html", ".git/config", "js//app.js",
                          "/index.html", "js/", "a b.js", "x%2e%2e", "index.html\\..", "\x01"}) {
    EXPECT_FALSE(StaticAssets::is_safe_name(bad)) << bad;
  }
  for (const char* good : {"index.html", "js/app.js", "a-b_c.1.css"}) {
    EXPECT_TRUE(StaticAssets::is_safe_name(good)) << good;
  }
}

TEST(StaticAssets, ADirectoryWithoutAnIndexIsRefused) {
  EXPECT_THROW(StaticAssets("/nonexistent-coda-assets"), std::invalid_argument);
}

TEST(StaticAssets, ContentTypesByExtension) {
  EXPECT_EQ(StaticAssets::content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticAssets::content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(StaticAssets::content_type_for("a.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace coda::webui
