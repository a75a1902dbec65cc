#include <gtest/gtest.h>

#include <sstream>

#include "core/mcp/tool.hpp"

namespace coda::mcp {
namespace {

std::string stringify(const Poco::JSON::Object::Ptr& obj) {
  std::ostringstream out;
  obj->stringify(out);
  return out.str();
}

TEST(ToolResult, StructuredJsonCarriesTheSameJsonAsText) {
  Poco::JSON::Object::Ptr value = new Poco::JSON::Object;
  value->set("task_id", "task_1");
  auto result = ToolResult::structured_json(value).to_json();
  EXPECT_EQ(stringify(result),
            R"({"content":[{"type":"text","text":"{\"task_id\":\"task_1\"}"}],)"
            R"("structuredContent":{"task_id":"task_1"}})");
}

TEST(ToolResult, ErrorSetsIsError) {
  auto result = ToolResult::error("bad context: expected a JSON object").to_json();
  EXPECT_TRUE(result->getValue<bool>("isError"));
  EXPECT_EQ(result->getArray("content")->getObject(0)->getValue<std::string>("text"),
            "bad context: expected a JSON object");
}

}  // namespace
}  // namespace coda::mcp
