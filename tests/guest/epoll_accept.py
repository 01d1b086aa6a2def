#!/usr/bin/env python3
"""A plain-TCP server for listener-mode tests of epoll.

epoll_accept.py PORT MODE COUNT [SECONDS]: listens on 127.0.0.1:PORT
(non-blocking), prints "listening fd N" and its descriptor, then waits for
events with epoll, MODE "et" (edge-triggered: accepts until EAGAIN per
event) or "lt" (level-triggered: one accept per event).  Each accepted
connection must carry the tls ULP; it is answered with a small HTTP
response and closed.
After COUNT connections, or SECONDS (default 120), prints one line
  accepted=N tls=N plain=N spurious=N
(spurious: events after which accept found nothing) and exits.
"""
import select
import socket
import sys
import time

TCP_ULP = 31
RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"


def main():
    port, mode, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    ls.setblocking(False)
    print("listening fd %d" % ls.fileno(), flush=True)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN | (select.EPOLLET if mode == "et" else 0))
    accepted = tls = plain = spurious = 0
    end = time.time() + limit
    while accepted < count and time.time() < end:
        if not ep.poll(1.0):
            continue
        got = 0
        while True:
            try:
                conn, _ = ls.accept()
            except BlockingIOError:
                break
            got += 1
            accepted += 1
            ulp = conn.getsockopt(socket.IPPROTO_TCP, TCP_ULP, 16).rstrip(b"\0")
            if ulp == b"tls":
                tls += 1
                conn.setblocking(True)
                try:
                    conn.recv(4096)
                    conn.sendall(RESPONSE)
                except OSError:
                    pass
            else:
                plain += 1
            conn.close()
            if mode == "lt":
                break
        if not got:
            spurious += 1
    print("accepted=%d tls=%d plain=%d spurious=%d" % (accepted, tls, plain, spurious),
          flush=True)


if __name__ == "__main__":
    main()
