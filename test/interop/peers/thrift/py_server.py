#!/usr/bin/python3
"""Debian python3-thrift Echo server (run with /usr/bin/python3).

usage: py_server.py <port> <framed|buffered|header> <binary|compact> <name> [service,service...]

`header` is a THeader server that also accepts framed/unframed binary/compact clients and
answers each in its own dialect. With services, a TMultiplexedProcessor serves the handler
under each service name. echo("!header:<key>") returns the THeader info header <key>,
echo("!fired") the notes fire() received, echo("!conns") how many connections sent calls.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gen-py'))

from echo import Echo  # noqa: E402
from echo.ttypes import EchoError, Pair  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.protocol.THeaderProtocol import THeaderProtocolFactory  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.TMultiplexedProcessor import TMultiplexedProcessor  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from thrift.transport.THeaderTransport import THeaderClientType  # noqa: E402

current = threading.local()


class Handler:
    def __init__(self, name):
        self.name = name
        self.fired = []
        self.connections = set()
        self.lock = threading.Lock()

    def echo(self, msg):
        if msg == '!fired':
            with self.lock:
                return ','.join(self.fired)
        if msg == '!conns':
            with self.lock:
                return str(len(self.connections))
        if msg.startswith('!header:'):
            getter = getattr(getattr(current, 'iprot', None), 'get_headers', None)
            headers = getter() if getter else {}
            value = headers.get(msg[len('!header:'):].encode(), b'')
            return value.decode()
        return '%s@%s' % (msg, self.name)

    def add(self, a, b):
        return a + b

    def getPair(self, key):
        if key == 'bad':
            raise EchoError(message='no such key', code=42)
        return Pair(key=key, value=len(key))

    def fire(self, note):
        with self.lock:
            self.fired.append(note)

    def fail(self, why):
        raise RuntimeError('undeclared failure: ' + why)


class RememberProtocol:
    """Keeps the input protocol of the call being served, so echo can read THeader headers,
    and counts connections (one input protocol each) for echo("!conns")."""

    def __init__(self, inner, handler):
        self.inner = inner
        self.handler = handler

    def process(self, iprot, oprot):
        current.iprot = iprot
        with self.handler.lock:
            self.handler.connections.add(iprot)
        return self.inner.process(iprot, oprot)


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port, transport, protocol, name = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    services = sys.argv[5].split(',') if len(sys.argv) > 5 and sys.argv[5] else []
    handler = Handler(name)
    if services:
        processor = TMultiplexedProcessor()
        for s in services:
            processor.registerProcessor(s, Echo.Processor(handler))
    else:
        processor = Echo.Processor(handler)
    processor = RememberProtocol(processor, handler)
    if transport == 'header':
        tfactory = TTransport.TTransportFactoryBase()
        pfactory = THeaderProtocolFactory(allowed_client_types=(
            THeaderClientType.HEADERS,
            THeaderClientType.FRAMED_BINARY,
            THeaderClientType.UNFRAMED_BINARY,
            THeaderClientType.FRAMED_COMPACT,
            THeaderClientType.UNFRAMED_COMPACT,
        ))
    else:
        tfactory = (TTransport.TFramedTransportFactory() if transport == 'framed'
                    else TTransport.TBufferedTransportFactory())
        pfactory = (TCompactProtocol.TCompactProtocolFactory() if protocol == 'compact'
                    else TBinaryProtocol.TBinaryProtocolFactory())
    server = TServer.TThreadedServer(processor, TSocket.TServerSocket(host='127.0.0.1', port=port),
                                     tfactory, pfactory, daemon=True)
    print('{"port":%d}' % port, flush=True)
    server.serve()


if __name__ == '__main__':
    main()
