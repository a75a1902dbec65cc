#include <gtest/gtest.h>

#include <stdexcept>

#include "core/mcp/origin.hpp"

namespace coda::mcp {
namespace {

TEST(Origin, RoundTripsEveryMember) {
  RequestContext ctx;
  ctx.transport = "http";
  ctx.connection = 42;
  ctx.identity.subject = "ana@example.com";
  ctx.identity.email = "ana@example.com";
  ctx.identity.display_name = "Ana \"the\" Admin\n\u00e9\xf0\x9f\x98\x80";
  ctx.identity.admin = true;
  ctx.identity.authenticated = true;
  ctx.session_id = "s1";
  ctx.protocol_version = "2025-11-25";
  ctx.request_id = "req-1";
  ctx.base_url = "https://example.com:8443";
  RequestContext back = context_from_origin_json(origin_json_of(ctx));
  EXPECT_EQ(back.transport, "http");
  EXPECT_EQ(back.connection, 42u);
  EXPECT_EQ(back.identity.subject, ctx.identity.subject);
  EXPECT_EQ(back.identity.email, ctx.identity.email);
  EXPECT_EQ(back.identity.display_name, ctx.identity.display_name);
  EXPECT_TRUE(back.identity.admin);
  EXPECT_TRUE(back.identity.authenticated);
  EXPECT_EQ(back.session_id, "s1");
  EXPECT_EQ(back.protocol_version, "2025-11-25");
  EXPECT_EQ(back.request_id, "req-1");
  EXPECT_EQ(back.base_url, "https://example.com:8443");
}

TEST(Origin, DecodesEscapesAndSkipsUnknownMembersOfAnyShape) {
  RequestContext ctx = context_from_origin_json(
      R"({"extra":{"transport":"no","identity":{"subject":"no"}},"list":[{"conn":"x"},[1,2],"s"],)"
      R"("transport":"w\u00e9b\"s\"","identity":{"subject":"b\\ob","nested":{"admin":"x"},)"
      R"("tags":["admin"],"admin":false},"conn":7,"session_id":null,"more":1.5})");
  EXPECT_EQ(ctx.transport, "w\u00e9b\"s\"");
  EXPECT_EQ(ctx.identity.subject, "b\\ob");
  EXPECT_FALSE(ctx.identity.admin);
  EXPECT_FALSE(ctx.identity.authenticated);
  EXPECT_EQ(ctx.connection, 7u);
  EXPECT_EQ(ctx.session_id, "");
}

TEST(Origin, WithoutIdentityIsTheLocalUserOnlyWhenAsked) {
  EXPECT_EQ(context_from_origin_json(R"({"transport":"stdio"})").identity.subject,
            auth::Identity::local_user().subject);
  EXPECT_EQ(context_from_origin_json(R"({"transport":"stdio","identity":null})").identity.subject,
            auth::Identity::local_user().subject);
  EXPECT_EQ(context_from_origin_json("").identity.subject, auth::Identity::local_user().subject);
  RequestContext anonymous = context_from_origin_json(R"({"transport":"http"})", false);
  EXPECT_EQ(anonymous.identity.subject, "");
  EXPECT_FALSE(anonymous.identity.admin);
  // An identity that is present but empty is exactly that, never the local user.
  RequestContext empty = context_from_origin_json(R"({"identity":{}})");
  EXPECT_EQ(empty.identity.subject, "");
  EXPECT_FALSE(empty.identity.admin);
}

TEST(Origin, RefusesWhatIsNoObjectOrHasAMemberOfTheWrongType) {
  for (const char* bad : {"[]", "[{\"transport\":\"http\"}]", "\"http\"", "42", "{", "{\"a\":}",
                          "not json", R"({"transport":1})", R"({"transport":{}})",
                          R"({"session_id":["s"]})", R"({"conn":"1"})", R"({"conn":1.5})",
                          R"({"conn":-1})", R"({"identity":"ana"})", R"({"identity":[]})",
                          R"({"identity":{"subject":1}})", R"({"identity":{"admin":"yes"}})",
                          R"({"identity":{"authenticated":1}})"}) {
    EXPECT_THROW(context_from_origin_json(bad), std::invalid_argument) << bad;
  }
}

TEST(Origin, ReadsEveryJsonEscapeAndSurrogatePairs) {
  RequestContext ctx = context_from_origin_json(
      R"({"transport":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00","conn":18446744073709551615,)"
      R"( "identity" : { "subject" : "a" , "admin" : true } , "request_id":"" } )");
  EXPECT_EQ(ctx.transport, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(ctx.connection, 18446744073709551615ull);
  EXPECT_EQ(ctx.identity.subject, "a");
  EXPECT_TRUE(ctx.identity.admin);
  // The last of duplicate members wins; whitespace anywhere between tokens.
  EXPECT_EQ(context_from_origin_json("\n{\t\"transport\":\"a\",\"transport\":\"b\"}\r\n").transport,
            "b");
  // Unknown members of any valid shape, deeply nested, are skipped.
  std::string deep = R"({"x":)" + std::string(60, '[') + std::string(60, ']') +
                     R"(,"y":{"a":[1,-2.5e+3,0.0,true,false,null,"s",{}],"b":{}},"transport":"t"})";
  EXPECT_EQ(context_from_origin_json(deep).transport, "t");
}

TEST(Origin, RefusesMalformedJsonAnywhere) {
  for (const char* bad : {
           R"({"transport":"a"} x)",                   // text after the object
           R"({"transport":"a",})",                    // trailing comma
           R"({"transport" "a"})",                     // no colon
           R"({transport:"a"})",                       // unquoted name
           R"({"transport":"a\x"})",                   // bad escape
           R"({"transport":"\ud83d"})",                // lone high surrogate
           R"({"transport":"\ude00"})",                // lone low surrogate
           R"({"transport":"\u12"})",                  // short \u
           "{\"transport\":\"a\nb\"}",                 // raw control character
           R"({"transport":"a)",                       // unterminated string
           R"({"x":01})",                              // leading zero
           R"({"x":1.})",                              // no digit after '.'
           R"({"x":1e})",                              // no exponent
           R"({"x":-})",                               // no digit
           R"({"x":tru})",                             // bad literal
           R"({"x":[1,]})",                            // trailing comma in an array
           R"({"x":[1 2]})",                           // missing comma
           R"({"conn":18446744073709551616})",         // too large
           R"({"conn":-0})",                           // negative
           R"({"conn":1e3})",                          // not an integer
       }) {
    EXPECT_THROW(context_from_origin_json(bad), std::invalid_argument) << bad;
  }
  std::string too_deep = R"({"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THROW(context_from_origin_json(too_deep), std::invalid_argument);
  try {
    context_from_origin_json(R"({"transport":7})");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "origin: 'transport' must be a string");
  }
  try {
    context_from_origin_json(R"({"identity":{"admin":"yes"}})");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "origin: identity 'admin' must be a boolean");
  }
}

}  // namespace
}  // namespace coda::mcp
