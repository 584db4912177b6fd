// Debian libthrift (C++) Echo server.
// usage: cpp_server <port> <header|framed-binary|buffered-binary|framed-compact|buffered-compact> <name>
// In header mode it is a THeader server (binary or compact sub-protocol per request).
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/THeaderTransport.h>
#include <thrift/transport/TServerSocket.h>

#include "Echo.h"

using namespace apache::thrift;
using namespace apache::thrift::protocol;
using namespace apache::thrift::server;
using namespace apache::thrift::transport;

class EchoHandler : public meltemi_echo::EchoIf {
 public:
  explicit EchoHandler(std::string name) : name_(std::move(name)) {}

  void echo(std::string& ret, const std::string& msg) override {
    if (msg == "!fired") {
      std::lock_guard<std::mutex> lock(mu_);
      ret.clear();
      for (size_t i = 0; i < fired_.size(); i++) ret += (i ? "," : "") + fired_[i];
      return;
    }
    ret = msg + "@" + name_;
  }
  int32_t add(const int32_t a, const int32_t b) override { return a + b; }
  void getPair(meltemi_echo::Pair& ret, const std::string& key) override {
    if (key == "bad") {
      meltemi_echo::EchoError err;
      err.message = "no such key";
      err.code = 42;
      throw err;
    }
    ret.key = key;
    ret.value = static_cast<int32_t>(key.size());
  }
  void fire(const std::string& note) override {
    std::lock_guard<std::mutex> lock(mu_);
    fired_.push_back(note);
  }
  void fail(const std::string& why) override { throw std::runtime_error("undeclared failure: " + why); }

 private:
  std::string name_;
  std::mutex mu_;
  std::vector<std::string> fired_;
};

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: cpp_server <port> <mode> <name>" << std::endl;
    return 2;
  }
  const int port = std::stoi(argv[1]);
  const std::string mode = argv[2];
  auto processor = std::make_shared<meltemi_echo::EchoProcessor>(std::make_shared<EchoHandler>(argv[3]));
  auto socket = std::make_shared<TServerSocket>("127.0.0.1", port);
  std::shared_ptr<TTransportFactory> tf;
  std::shared_ptr<TProtocolFactory> pf;
  if (mode == "header") {
    tf = std::make_shared<TTransportFactory>();
    pf = std::make_shared<THeaderProtocolFactory>();
  } else {
    const bool framed = mode.rfind("framed-", 0) == 0;
    const bool compact = mode.find("compact") != std::string::npos;
    if (!framed && mode.rfind("buffered-", 0) != 0) {
      std::cerr << "bad mode " << mode << std::endl;
      return 2;
    }
    if (framed) tf = std::make_shared<TFramedTransportFactory>();
    else tf = std::make_shared<TBufferedTransportFactory>();
    if (compact) pf = std::make_shared<TCompactProtocolFactory>();
    else pf = std::make_shared<TBinaryProtocolFactory>();
  }
  TThreadedServer server(processor, socket, tf, pf);
  std::cout << "{\"port\":" << port << "}" << std::endl;
  server.serve();
  return 0;
}
