// The attack suite, part 3: 10 000 generated malformed HTTP / JSON-RPC requests against the real
// `coda` binary. Covered: truncated messages, wrong types, huge numbers, deep nesting, invalid UTF-8,
// random bytes, broken request lines and headers, oversized and too many headers, lying
// Content-Length, bad chunked encoding, wrong Content-Type / Accept / MCP-Protocol-Version, missing
// and wrong credentials. Each must be answered with a valid HTTP status line (never a dropped
// connection or a crash), and afterwards the host still serves a normal request.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "core/auth/secrets.hpp"
#include "tests/security/security_support.hpp"

namespace coda::test::security {
namespace {

constexpr const char* kToken = "malformed-suite-token-5e4d3c2b1a";
constexpr int kRequests = 10000;

const char* const kValidMessages[] = {
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}})",
    R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"c"}})",
    R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"coda_inbox","arguments":{"status":"running","limit":5}}})",
    R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"coda_get_result","arguments":{"task_id":"abc","wait_s":0}}})",
    R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"coda_cancel","arguments":{"task_id":"abc"}}})",
    R"({"jsonrpc":"2.0","id":6,"method":"ping"})",
    R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
    R"({"jsonrpc":"2.0","id":7,"method":"logging/setLevel","params":{"level":"debug"}})",
};

// One generated attack: the raw bytes to send and its category (for the report).
struct Attack {
  std::string category;
  std::string bytes;
};

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  Attack next(int port) {
    host_ = "127.0.0.1:" + std::to_string(port);
    switch (pick(14)) {
      case 0: return post("truncated json", truncated(valid()));
      case 1: return post("wrong types", wrong_types());
      case 2: return post("huge numbers", huge_numbers());
      case 3: return post("deep nesting", deep_nesting());
      case 4: return post("invalid utf-8", invalid_utf8());
      case 5: return post("random bytes", random_bytes(pick(2000)));
      case 6: return raw("broken request line", broken_request_line());
      case 7: return raw("broken headers", broken_headers());
      case 8: return raw("oversized header", oversized_header());
      case 9: return raw("too many headers", too_many_headers());
      case 10: return raw("lying content-length", lying_length());
      case 11: return raw("bad chunked body", bad_chunked());
      case 12: return raw("wrong mcp headers", wrong_mcp_headers());
      default: return raw("bad credentials", bad_credentials());
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string valid() { return kValidMessages[pick(std::size(kValidMessages))]; }

  std::string truncated(const std::string& message) {
    return message.substr(0, static_cast<std::size_t>(pick(static_cast<int>(message.size()))));
  }
  std::string wrong_types() {
    const char* const variants[] = {
        R"({"jsonrpc":2,"id":1,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})",
        R"({"jsonrpc":"2.0","id":[1],"method":"tools/list"})",
        R"({"jsonrpc":"2.0","id":1,"method":42})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":"coda_run"})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7,"arguments":[]}})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_run","arguments":{"prompt":{"x":1},"timeout_s":"long"}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_get_result","arguments":{"task_id":null,"wait_s":"x"}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_inbox","arguments":{"limit":true,"all_users":"yes"}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":12,"capabilities":"all"}})",
        R"([])", R"([1,2,3])", R"("just a string")", R"(null)", R"(true)", R"({})",
        R"([{"jsonrpc":"2.0","id":1,"method":"ping"},"x",{"id":2}])",
    };
    return variants[pick(std::size(variants))];
  }
  std::string huge_numbers() {
    const char* const numbers[] = {"1e999999", "-1e999999", "123456789012345678901234567890123",
                                   "-0", "1.7976931348623157e309", "4.9e-400", "9223372036854775808",
                                   "-9223372036854775809", "0.0000000000000000000000000001"};
    std::string n = numbers[pick(std::size(numbers))];
    switch (pick(4)) {
      case 0: return R"({"jsonrpc":"2.0","id":)" + n + R"(,"method":"ping"})";
      case 1: return R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_get_result","arguments":{"task_id":"a","wait_s":)" + n + "}}}";
      case 2: return R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_inbox","arguments":{"limit":)" + n + "}}}";
      default: return R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":)" + n + "}}}";
    }
  }
  std::string deep_nesting() {
    int depth = 100 + pick(20000);
    std::string open = pick(2) ? "[" : "{\"a\":";
    std::string close = open == "[" ? "]" : "}";
    std::string inner;
    for (int i = 0; i < depth; ++i) inner += open;
    inner += "1";
    for (int i = 0; i < depth; ++i) inner += close;
    if (pick(2)) return inner;
    return R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_inbox","arguments":{"x":)" + inner + "}}}";
  }
  std::string invalid_utf8() {
    const char* const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80", "\xe2\x28\xa1",
                               "\x80", "\xf4\x90\x80\x80", "\\ud800", "\\udfff\\ud800", "\x00"};
    std::string b(bad[pick(std::size(bad))]);
    if (b.empty()) b = std::string(1, '\0');
    switch (pick(3)) {
      case 0: return R"({"jsonrpc":"2.0","id":")" + b + R"(","method":"ping"})";
      case 1: return R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"coda_get_result","arguments":{"task_id":")" + b + R"("}}})";
      default: return R"({"jsonrpc":"2.0","id":1,"method":"tools/li)" + b + R"(st"})";
    }
  }
  std::string random_bytes(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>(pick(256));
    return s;
  }

  std::string headers(const std::string& content_type = "application/json") {
    std::string h = "Host: " + host_ + "\r\nAuthorization: Bearer " + kToken + "\r\n";
    if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
    h += "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n";
    return h;
  }
  Attack post(std::string category, const std::string& body) {
    return {std::move(category), "POST /mcp HTTP/1.1\r\n" + headers() + "Content-Length: " +
                                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                     body};
  }
  static Attack raw(std::string category, std::string bytes) {
    return {std::move(category), std::move(bytes)};
  }

  std::string broken_request_line() {
    const char* const lines[] = {
        "POST /mcp\r\n\r\n", "POST  HTTP/1.1\r\n\r\n", "GARBAGE\r\n\r\n", "\r\n\r\n",
        "POST /mcp HTTP/9.9\r\n\r\n", "P\x00ST /mcp HTTP/1.1\r\n\r\n", "GET mcp HTTP/1.1\r\n\r\n",
        "POST http://evil.example/mcp HTTP/1.1\r\n\r\n", "POST /mcp HTTP/1.1 extra\r\n\r\n",
        "BREW /mcp HTTP/1.1\r\n\r\n", "POST /%00%ff/../../etc/passwd HTTP/1.1\r\n\r\n",
    };
    std::string line = lines[pick(std::size(lines))];
    if (pick(4) == 0) line = "POST /" + std::string(static_cast<std::size_t>(10000 + pick(50000)), 'a') + " HTTP/1.1\r\n\r\n";
    return line;
  }
  std::string broken_headers() {
    const char* const bad[] = {"NoColonHere\r\n", ": empty-name\r\n", "Bad Name: x\r\n",
                               "X-Ctl: a\x01" "b\r\n", "X-Bin: \xff\xfe\r\n", " folded: continuation\r\n",
                               "Content-Length: abc\r\n", "Content-Length: -5\r\n",
                               "Content-Length: 1\r\nContent-Length: 2\r\n",
                               "Transfer-Encoding: gzip, chunked, bogus\r\n",
                               "Authorization: Bearer\r\n", "X-Forwarded-Email: \r\n"};
    return "POST /mcp HTTP/1.1\r\n" + headers() + bad[pick(std::size(bad))] + "\r\n" + valid();
  }
  std::string oversized_header() {
    std::size_t size = static_cast<std::size_t>(17000 + pick(200000));
    std::string name = pick(2) ? "X-Big" : std::string(size, 'N');
    std::string value = name == "X-Big" ? std::string(size, 'v') : "v";
    return "POST /mcp HTTP/1.1\r\n" + headers() + name + ": " + value + "\r\n\r\n";
  }
  std::string too_many_headers() {
    std::string h;
    int n = 101 + pick(2000);
    for (int i = 0; i < n; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
    return "POST /mcp HTTP/1.1\r\n" + headers() + h + "\r\n";
  }
  std::string lying_length() {
    std::string body = valid();
    const char* const lengths[] = {"0", "1", "99999999999999999999", "4194305", "100000"};
    return "POST /mcp HTTP/1.1\r\n" + headers() + "Content-Length: " +
           lengths[pick(std::size(lengths))] + "\r\n\r\n" + body;
  }
  std::string bad_chunked() {
    const char* const bodies[] = {"zz\r\nabc\r\n0\r\n\r\n", "5\r\nabc\r\n0\r\n\r\n",
                                  "ffffffffffffffff\r\nx\r\n", "3\r\nabc", "-1\r\n\r\n",
                                  "3;ext=\"\xff\r\nabc\r\n0\r\n\r\n"};
    return "POST /mcp HTTP/1.1\r\n" + headers() + "Transfer-Encoding: chunked\r\n\r\n" +
           bodies[pick(std::size(bodies))];
  }
  std::string wrong_mcp_headers() {
    std::string body = valid();
    std::string h = "Host: " + host_ + "\r\nAuthorization: Bearer " + kToken + "\r\n";
    switch (pick(6)) {
      case 0: h += "Content-Type: text/plain\r\nAccept: application/json, text/event-stream\r\n"; break;
      case 1: h += "Content-Type: application/json\r\nAccept: image/png\r\n"; break;
      case 2: h += "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                   "MCP-Protocol-Version: 1999-01-01\r\n"; break;
      case 3: h += "Content-Type: application/json\r\nAccept: */*\r\nMcp-Session-Id: \xff\xfe\r\n"; break;
      case 4: h += "Content-Type: application/json\r\nAccept: application/json\r\nOrigin: http://evil.example\r\n"; break;
      default: h = "Host: evil.example\r\nAuthorization: Bearer " + std::string(kToken) +
                   "\r\nContent-Type: application/json\r\nAccept: application/json\r\n"; break;
    }
    const char* const methods[] = {"POST", "GET", "DELETE", "PUT", "OPTIONS", "PATCH"};
    return std::string(methods[pick(std::size(methods))]) + " /mcp HTTP/1.1\r\n" + h +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  std::string bad_credentials() {
    std::string body = valid();
    const char* const auth[] = {"", "Authorization: Bearer wrong-token\r\n",
                                "Authorization: Basic YWxpY2U6c2VjcmV0\r\n",
                                "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.\r\n",
                                "X-Forwarded-Email: admin@example.com\r\n",
                                "Authorization: Bearer \xff\xfe\xfd\r\n"};
    return "POST /mcp HTTP/1.1\r\nHost: " + host_ + "\r\n" + auth[pick(std::size(auth))] +
           "Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::mt19937 rng_;
  std::string host_;
};

// Sends `bytes` on a fresh connection, half-closes it, and returns the status of the response's
// status line, or -1 (no valid status line) / -2 (connection refused: the host is down).
int send_raw(int port, const std::string& bytes) {
  Poco::Net::StreamSocket socket;
  try {
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                   Poco::Timespan(10, 0));
  } catch (const Poco::Exception&) {
    return -2;
  }
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  socket.setSendTimeout(Poco::Timespan(30, 0));
  try {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      int n = socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    socket.shutdownSend();
  } catch (const Poco::Exception&) {
    // The server may answer (e.g. 431) and close before it read everything; read the answer.
  }
  std::string head;
  char buffer[4096];
  try {
    while (head.find("\r\n") == std::string::npos && head.size() < 65536) {
      int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      head.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  socket.close();
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) return -1;
  int status = std::atoi(head.substr(9, 3).c_str());
  return status >= 100 && status <= 599 ? status : -1;
}

TEST(SecurityMalformed, TenThousandMalformedRequestsEachGetAStatusAndTheHostStaysUp) {
  std::string auth = "  mode: bearer\n  tokens:\n    - {sha256: " + auth::sha256_hex(kToken) +
                     ", subject: fuzzer}\n";
  CodaServer server(server_options(host_config(auth)));
  const int port = server.port();

  constexpr int kThreads = 4;
  std::mutex mutex;
  std::map<std::string, std::map<int, int>> statuses;  // category -> status -> count
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Generator generator(1234u + static_cast<unsigned>(t));
      for (int i = t; i < kRequests; i += kThreads) {
        Attack attack = generator.next(port);
        int status = send_raw(port, attack.bytes);
        std::lock_guard lock(mutex);
        ++statuses[attack.category][status];
        if (status < 0 && failures.size() < 10) {
          failures.push_back(attack.category + " (#" + std::to_string(i) + "): " +
                             (status == -2 ? "connection refused" : "no valid status line") +
                             "; first bytes: " + attack.bytes.substr(0, 120));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  int total = 0;
  for (const auto& [category, counts] : statuses) {
    std::string line = category + ":";
    for (const auto& [status, n] : counts) {
      line += " " + std::to_string(status) + "x" + std::to_string(n);
      total += n;
      // 503: shedding load; 505: an HTTP version other than 1.x. Any other 5xx is a host failure.
      if (status >= 500 && status != 503 && status != 505) ADD_FAILURE() << category << " got " << status;
    }
    std::printf("  %s\n", line.c_str());
  }
  EXPECT_EQ(total, kRequests);
  for (const auto& failure : failures) ADD_FAILURE() << failure;
  EXPECT_TRUE(failures.empty());

  ASSERT_TRUE(server.running()) << server.output();
  auto normal = mcp_post(server.mcp_url(), R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                         bearer(kToken));
  EXPECT_EQ(normal.status, 200) << normal.body;
  EXPECT_NE(normal.body.find("coda_run"), std::string::npos);
}

}  // namespace
}  // namespace coda::test::security
