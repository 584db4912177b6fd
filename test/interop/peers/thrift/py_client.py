#!/usr/bin/python3
"""Debian python3-thrift Echo client (run with /usr/bin/python3). Every call uses seqid 0.

usage: py_client.py <port> <framed|buffered|header> <binary|compact> '<calls json>'
                    [--service S] [--parallel K] [--header key=value]

calls: [["echo","hi {t}"],["add",1,2],["getPair","bad"],["fire","x"],["fail","boom"]]
--header (THeader only) is sent with every call.
With --parallel K, K threads each open their own connection and run the calls ("{t}" in a
string argument becomes the thread index); the output is then a list of K result lists.
Prints JSON: one {"ok":value} or {"error":{...}} per call.
"""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gen-py'))

from echo import Echo  # noqa: E402
from echo.ttypes import EchoError  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol  # noqa: E402
from thrift.protocol.THeaderProtocol import THeaderProtocol  # noqa: E402
from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID  # noqa: E402


def value(v):
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return {k: value(x) for k, x in v.__dict__.items()}


def run(port, transport, protocol, calls, service, headers, t):
    sock = TSocket.TSocket('127.0.0.1', port)
    sock.setTimeout(5000)
    if transport == 'header':
        sub = THeaderSubprotocolID.COMPACT if protocol == 'compact' else THeaderSubprotocolID.BINARY
        prot = THeaderProtocol(sock, (THeaderClientType.HEADERS,), default_protocol=sub)
        trans = prot.trans
    else:
        trans = TTransport.TFramedTransport(sock) if transport == 'framed' else TTransport.TBufferedTransport(sock)
        prot = (TCompactProtocol.TCompactProtocol(trans) if protocol == 'compact'
                else TBinaryProtocol.TBinaryProtocol(trans))
    if service:
        prot = TMultiplexedProtocol(prot, service)
    client = Echo.Client(prot)
    trans.open()
    out = []
    for call in calls:
        # THeaderTransport forgets write headers after each flush: set them for every call.
        for k, v in headers:
            trans.set_header(k.encode(), v.encode())
        method, args = call[0], [a.replace('{t}', str(t)) if isinstance(a, str) else a for a in call[1:]]
        try:
            out.append({'ok': value(getattr(client, method)(*args))})
        except EchoError as e:
            out.append({'error': {'name': 'EchoError', 'message': e.message, 'code': e.code}})
        except TApplicationException as e:
            out.append({'error': {'name': 'TApplicationException', 'type': e.type, 'message': e.message}})
        except Exception as e:  # noqa: BLE001 - reported to the test, which decides
            out.append({'error': {'name': type(e).__name__, 'message': str(e)}})
            break
    trans.close()
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 4:
        sys.stderr.write(__doc__)
        sys.exit(2)
    port, transport, protocol, calls = int(args[0]), args[1], args[2], json.loads(args[3])
    service, parallel, headers = None, 0, []
    rest = args[4:]
    while rest:
        flag, val, rest = rest[0], rest[1], rest[2:]
        if flag == '--service':
            service = val
        elif flag == '--parallel':
            parallel = int(val)
        elif flag == '--header':
            k, _, v = val.partition('=')
            headers.append((k, v))
    if parallel == 0:
        print(json.dumps(run(port, transport, protocol, calls, service, headers, 0)), flush=True)
        return
    results = [None] * parallel
    barrier = threading.Barrier(parallel)

    def worker(t):
        barrier.wait()
        results[t] = run(port, transport, protocol, calls, service, headers, t)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(parallel)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps(results), flush=True)


if __name__ == '__main__':
    main()
