// Debian libthrift (C++) THeader Echo client: sends the info header x-trace=cpp-123 and runs
// a fixed script. usage: cpp_client <port> <binary|compact> [echo message]
// Prints a JSON array, one {"ok":...} or {"error":{...}} per call, in script order:
// echo(msg), add(2,40), getPair("abc"), getPair("bad"), fire("from-cpp"), fail("boom"), echo("!fired")
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <thrift/TApplicationException.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/transport/THeaderTransport.h>
#include <thrift/transport/TSocket.h>

#include "Echo.h"

using namespace apache::thrift;
using namespace apache::thrift::protocol;
using namespace apache::thrift::transport;

static std::string quote(const std::string& s) {
  std::ostringstream o;
  o << '"';
  for (char c : s) {
    if (c == '"' || c == '\\') o << '\\' << c;
    else if (static_cast<unsigned char>(c) < 0x20) o << "\\u00" << "0123456789abcdef"[(c >> 4) & 0xf] << "0123456789abcdef"[c & 0xf];
    else o << c;
  }
  o << '"';
  return o.str();
}

template <typename F>
static std::string guard(F f) {
  try {
    return "{\"ok\":" + f() + "}";
  } catch (const meltemi_echo::EchoError& e) {
    return "{\"error\":{\"name\":\"EchoError\",\"message\":" + quote(e.message) + ",\"code\":" + std::to_string(e.code) + "}}";
  } catch (const TApplicationException& e) {
    return "{\"error\":{\"name\":\"TApplicationException\",\"type\":" + std::to_string(e.getType()) + ",\"message\":" + quote(e.what()) + "}}";
  } catch (const std::exception& e) {
    return "{\"error\":{\"name\":\"Error\",\"message\":" + quote(e.what()) + "}}";
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cpp_client <port> <binary|compact> [msg]" << std::endl;
    return 2;
  }
  const std::string msg = argc > 3 ? argv[3] : "hello";
  auto socket = std::make_shared<TSocket>("127.0.0.1", std::stoi(argv[1]));
  socket->setRecvTimeout(5000);
  const uint16_t protoId = std::string(argv[2]) == "compact" ? T_COMPACT_PROTOCOL : T_BINARY_PROTOCOL;
  auto protocol = std::make_shared<THeaderProtocol>(socket, protoId);
  auto transport = std::dynamic_pointer_cast<THeaderTransport>(protocol->getTransport());
  transport->setHeader("x-trace", "cpp-123");
  meltemi_echo::EchoClient client(protocol);
  socket->open();
  std::string out = "[";
  out += guard([&] { std::string r; client.echo(r, msg); return quote(r); });
  out += "," + guard([&] { return std::to_string(client.add(2, 40)); });
  out += "," + guard([&] { meltemi_echo::Pair p; client.getPair(p, "abc"); return "{\"key\":" + quote(p.key) + ",\"value\":" + std::to_string(p.value) + "}"; });
  out += "," + guard([&] { meltemi_echo::Pair p; client.getPair(p, "bad"); return std::string("null"); });
  out += "," + guard([&] { client.fire("from-cpp"); return std::string("null"); });
  out += "," + guard([&] { client.fail("boom"); return std::string("null"); });
  out += "," + guard([&] { std::string r; client.echo(r, "!fired"); return quote(r); });
  out += "]";
  std::cout << out << std::endl;
  socket->close();
  return 0;
}
