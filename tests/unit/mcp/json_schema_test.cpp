#include "core/mcp/json_schema.hpp"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace coda::mcp {
namespace {

Poco::Dynamic::Var json(const std::string& text) {
  Poco::JSON::Parser parser;  // wrapped: Poco parses only objects and arrays at the top
  return parser.parse("[" + text + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
}

std::string check(const std::string& value, const std::string& schema) {
  auto error = validate_json_schema(json(value), json(schema).extract<Poco::JSON::Object::Ptr>(), "arguments");
  return error.value_or("ok");
}

TEST(JsonSchema, Types) {
  EXPECT_EQ(check(R"("x")", R"({"type":"string"})"), "ok");
  EXPECT_EQ(check("3", R"({"type":"number"})"), "ok");
  EXPECT_EQ(check("3.0", R"({"type":"integer"})"), "ok");
  EXPECT_EQ(check("3.5", R"({"type":"integer"})"), "arguments: expected integer, got number");
  EXPECT_EQ(check("true", R"({"type":["string","null"]})"),
            "arguments: expected string or null, got boolean");
  EXPECT_EQ(check("null", R"({"type":["string","null"]})"), "ok");
  EXPECT_EQ(check("[]", R"({"type":"object"})"), "arguments: expected object, got array");
}

TEST(JsonSchema, ObjectsRequiredAndAdditional) {
  const std::string schema = R"({"type":"object","properties":{"a":{"type":"integer","minimum":1,
      "maximum":10},"b":{"enum":["x","y"]}},"required":["a"],"additionalProperties":false})";
  EXPECT_EQ(check(R"({"a":5,"b":"x"})", schema), "ok");
  EXPECT_EQ(check(R"({"b":"x"})", schema), "arguments: missing required property 'a'");
  EXPECT_EQ(check(R"({"a":0})", schema), "arguments.a: must be at least 1 (got 0)");
  EXPECT_EQ(check(R"({"a":11})", schema), "arguments.a: must be at most 10 (got 11)");
  EXPECT_EQ(check(R"({"a":1,"b":"z"})", schema), R"(arguments.b: must be one of ["x","y"] (got "z"))");
  EXPECT_EQ(check(R"({"a":1,"c":1})", schema),
            "arguments: unknown property 'c' (expected one of: a, b)");
  EXPECT_EQ(check(R"({"a":1,"c":"s"})",
                  R"({"type":"object","additionalProperties":{"type":"integer"}})"),
            "arguments.c: expected integer, got string");
}

TEST(JsonSchema, StringsAndArrays) {
  EXPECT_EQ(check(R"("héllo")", R"({"type":"string","maxLength":5})"), "ok");
  EXPECT_EQ(check(R"("")", R"({"type":"string","minLength":1})"),
            "arguments: must be at least 1 characters long");
  EXPECT_EQ(check(R"(["a",2])", R"({"type":"array","items":{"type":"string"}})"),
            "arguments[1]: expected string, got integer");
  EXPECT_EQ(check(R"([])", R"({"type":"array","minItems":1})"), "arguments: must have at least 1 items");
}

}  // namespace
}  // namespace coda::mcp
