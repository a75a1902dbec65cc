// The benchmark's baseline: a bare Poco HTTPServer that answers every request with a fixed body read
// from a file, with keep-alive. usage: bench_bare_poco_server BODY_FILE  (prints "listening on PORT")
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/Util/ServerApplication.h>

namespace {

std::string g_body;

class FixedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    Poco::NullOutputStream sink;
    Poco::StreamCopier::copyStream(request.stream(), sink);  // read the body like a real server
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(g_body.size()));
    response.send() << g_body;
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new FixedHandler;
  }
};

class App : public Poco::Util::ServerApplication {
 protected:
  int main(const std::vector<std::string>& args) override {
    if (args.size() != 1) {
      std::cerr << "usage: bench_bare_poco_server BODY_FILE\n";
      return 2;
    }
    std::ifstream in(args[0]);
    std::stringstream buffer;
    buffer << in.rdbuf();
    g_body = buffer.str();
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(32);
    params->setKeepAlive(true);
    Poco::Net::HTTPServer server(new Factory, socket, params);
    server.start();
    std::cout << "listening on " << socket.address().port() << std::endl;
    waitForTerminationRequest();
    server.stop();
    return 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  App app;
  return app.run(argc, argv);
}
