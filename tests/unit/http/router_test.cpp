#include "core/http/router.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace coda::http {
namespace {

class NamedRoute : public RouteHandler {
 public:
  explicit NamedRoute(std::string name) : name(std::move(name)) {}
  void handle(Exchange&) override {}
  std::string name;
};

std::string matched(const Router& router, const std::string& path) {
  RouteMatch m = router.find(path);
  return m ? static_cast<NamedRoute&>(m.handler()).name : "";
}

TEST(Router, LongestWholeSegmentPrefixWins) {
  Router router;
  router.mount("/", std::make_shared<NamedRoute>("root"));
  router.mount("/mcp", std::make_shared<NamedRoute>("mcp"));
  router.mount("/mcp/admin/", std::make_shared<NamedRoute>("admin"));
  EXPECT_EQ(matched(router, "/mcp"), "mcp");
  EXPECT_EQ(matched(router, "/mcp/x"), "mcp");
  EXPECT_EQ(matched(router, "/mcpx"), "root");
  EXPECT_EQ(matched(router, "/mcp/admin"), "admin");
  EXPECT_EQ(matched(router, "/mcp/admin/users"), "admin");
  EXPECT_EQ(matched(router, "/ui/index.html"), "root");
}

TEST(Router, NoRouteIsAnEmptyMatch) {
  Router router;
  router.mount("/mcp", std::make_shared<NamedRoute>("mcp"));
  EXPECT_FALSE(router.find("/other"));
  EXPECT_FALSE(router.find("/"));
}

TEST(Router, RefusesBadAndDuplicatePrefixes) {
  Router router;
  router.mount("/mcp", std::make_shared<NamedRoute>("mcp"));
  EXPECT_THROW(router.mount("/mcp/", std::make_shared<NamedRoute>("again")), std::invalid_argument);
  EXPECT_THROW(router.mount("mcp", std::make_shared<NamedRoute>("x")), std::invalid_argument);
  EXPECT_THROW(router.mount("", std::make_shared<NamedRoute>("x")), std::invalid_argument);
  EXPECT_THROW(router.mount("/a?b", std::make_shared<NamedRoute>("x")), std::invalid_argument);
  EXPECT_THROW(router.mount("/b", nullptr), std::invalid_argument);
}

TEST(Router, OnlyTheOwnerUnmounts) {
  Router router;
  int owner = 0;
  int other = 0;
  router.mount("/mine", std::make_shared<NamedRoute>("mine"), &owner);
  router.mount("/also-mine", std::make_shared<NamedRoute>("also"), &owner);
  EXPECT_FALSE(router.unmount("/mine", &other));
  EXPECT_TRUE(router.find("/mine"));
  EXPECT_TRUE(router.unmount("/mine/", &owner));
  EXPECT_FALSE(router.find("/mine"));
  EXPECT_EQ(router.unmount_all(&owner), 1u);
  EXPECT_EQ(router.size(), 0u);
}

TEST(Router, UnmountWaitsForRunningRequests) {
  Router router;
  router.mount("/busy", std::make_shared<NamedRoute>("busy"));
  auto match = std::make_unique<RouteMatch>(router.find("/busy/x"));
  ASSERT_TRUE(*match);
  std::atomic<bool> unmounted{false};
  auto waiter = std::async(std::launch::async, [&] {
    router.unmount("/busy");
    unmounted = true;
  });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_FALSE(unmounted);
  EXPECT_FALSE(router.find("/busy"));  // no new requests reach it meanwhile
  match.reset();                        // the request ends
  waiter.get();
  EXPECT_TRUE(unmounted);
}

}  // namespace
}  // namespace coda::http
