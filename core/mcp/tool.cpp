#include "core/mcp/tool.hpp"

#include <sstream>
#include <stdexcept>

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

ToolResult ToolResult::from_json(const Poco::JSON::Object::Ptr& json) {
  if (json.isNull()) throw std::invalid_argument("CallToolResult: expected a JSON object");
  ToolResult result;
  Poco::JSON::Array::Ptr content = json->getArray("content");
  if (content.isNull()) throw std::invalid_argument("CallToolResult: 'content' must be an array");
  result.content = content;
  if (json->has("structuredContent") && !json->isNull("structuredContent")) {
    result.structured = json->getObject("structuredContent");
    if (result.structured.isNull()) {
      throw std::invalid_argument("CallToolResult: 'structuredContent' must be an object");
    }
  }
  result.is_error = json->optValue<bool>("isError", false);
  return result;
}

}  // namespace coda::mcp
