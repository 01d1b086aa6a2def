#!/usr/bin/env python3
"""Hostile TLS peers for tests/guest/hostile.t.  Each mode connects to
HOST:PORT, misbehaves, and prints one line of what it saw:

  random N [K]        N random bytes instead of a ClientHello, on K
                      connections one after another (default 1); prints
                      the slowest close, or "still open" for any
  sslv2               an SSLv2-format CLIENT-HELLO
  truncated           the first half of a real ClientHello, then EOF
  reset-handshake [N] half a ClientHello, then a TCP reset (N times)
  reset-transfer CA PATH   a verified handshake, GET PATH, read 1 MiB, reset
  trickle N SECS      N connections, each sending a real ClientHello one
                      byte every SECS seconds; waits until the server has
                      closed them all (or 120 s) and prints
                      "closed C of N, first F s, last L s"

The first four print "closed after S s" once the server closes (or
"still open" after 30 s)."""
import os
import select
import socket
import ssl
import struct
import sys
import time


def client_hello():
    """The bytes of a real TLS 1.3 ClientHello for localhost."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def connect(host, port):
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def wait_closed(s, limit=30):
    start = time.monotonic()
    s.settimeout(limit)
    try:
        while True:
            if not s.recv(65536):
                break
    except socket.timeout:
        return 'still open'
    except ConnectionResetError:
        pass
    return 'closed after %.1f s' % (time.monotonic() - start)


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()


def sslv2_hello():
    # SSLv2 CLIENT-HELLO: version 3.1 inside, three cipher specs, 16-byte challenge
    specs = bytes.fromhex('00002f' '000035' '010080')
    challenge = os.urandom(16)
    body = bytes([1, 3, 1]) + struct.pack('>HHH', len(specs), 0, len(challenge)) + specs + challenge
    return struct.pack('>H', 0x8000 | len(body)) + body


def trickle(host, port, n, secs):
    hello = client_hello()
    conns, start = [], time.monotonic()
    for _ in range(n):
        s = connect(host, port)
        s.setblocking(False)
        conns.append([s, 0, None])
    closed_at = []
    deadline = start + 120
    next_send = start
    while len(closed_at) < n and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            for c in conns:
                if c[2] is None and c[1] < len(hello):
                    try:
                        c[0].send(hello[c[1]:c[1] + 1])
                        c[1] += 1
                    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                        pass
            next_send = now + secs
        live = [c[0] for c in conns if c[2] is None]
        r, _, _ = select.select(live, [], [], 0.5)
        for s in r:
            try:
                data = s.recv(65536)
            except (BlockingIOError, ConnectionResetError):
                data = b''
            if not data:
                for c in conns:
                    if c[0] is s and c[2] is None:
                        c[2] = time.monotonic() - start
                        closed_at.append(c[2])
    for c in conns:
        c[0].close()
    if closed_at:
        return 'closed %d of %d, first %.1f s, last %.1f s' % (
            len(closed_at), n, min(closed_at), max(closed_at))
    return 'closed 0 of %d' % n


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = sys.argv[4:]
    if mode == 'trickle':
        print(trickle(host, port, int(args[0]), float(args[1])))
        return
    if mode == 'reset-transfer':
        ctx = ssl.create_default_context(cafile=args[0])
        s = ctx.wrap_socket(connect(host, port), server_hostname='localhost')
        s.sendall(b'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' % args[1].encode())
        got = 0
        while got < 1 << 20:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
        reset(s)
        print('read %d bytes, then reset' % got)
        return
    if mode == 'random' and len(args) > 1:
        slowest = 0.0
        for _ in range(int(args[1])):
            s = connect(host, port)
            s.sendall(os.urandom(int(args[0])))
            r = wait_closed(s)
            s.close()
            if not r.startswith('closed after '):
                print(r)
                return
            slowest = max(slowest, float(r.split()[2]))
        print('closed after %.1f s' % slowest)
        return
    s = connect(host, port)
    if mode == 'random':
        s.sendall(os.urandom(int(args[0])))
    elif mode == 'sslv2':
        s.sendall(sslv2_hello())
    elif mode == 'truncated':
        hello = client_hello()
        s.sendall(hello[:len(hello) // 2])
        s.shutdown(socket.SHUT_WR)
    elif mode == 'reset-handshake':
        # [N]: N clients one after the other (one python3 start: slow
        # under emulation)
        for i in range(int(args[0]) if args else 1):
            if i:
                s = connect(host, port)
            hello = client_hello()
            s.sendall(hello[:len(hello) // 2])
            time.sleep(0.5)
            reset(s)
            print('reset')
        return
    else:
        sys.exit('unknown mode ' + mode)
    print(wait_closed(s))


if __name__ == '__main__':
    main()
