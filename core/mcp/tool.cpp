#include "core/mcp/tool.hpp"

#include <sstream>

namespace coda::mcp {
namespace {

Poco::JSON::Object::Ptr text_block(const std::string& text) {
  Poco::JSON::Object::Ptr block = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  block->set("type", "text");
  block->set("text", text);
  return block;
}

}  // namespace

ToolResult ToolResult::text(const std::string& text) {
  ToolResult result;
  result.content->add(text_block(text));
  return result;
}

ToolResult ToolResult::structured_json(const Poco::JSON::Object::Ptr& value) {
  ToolResult result;
  std::ostringstream out;
  value->stringify(out);
  result.content->add(text_block(out.str()));
  result.structured = value;
  return result;
}

ToolResult ToolResult::error(const std::string& message) {
  ToolResult result = text(message);
  result.is_error = true;
  return result;
}

Poco::JSON::Object::Ptr ToolResult::to_json() const {
  Poco::JSON::Object::Ptr obj = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  obj->set("content", content);
  if (!structured.isNull()) obj->set("structuredContent", structured);
  if (is_error) obj->set("isError", true);
  return obj;
}

}  // namespace coda::mcp
