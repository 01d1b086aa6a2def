#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Unmodified servers for keyupdate.t, each taking one connection on
127.0.0.1:PORT (attached in listener mode by the test):

  peek PORT  waits with select() and reads with MSG_PEEK until a whole
             request (head and Content-Length body) is in, then reads it
  pipe PORT  default SIGPIPE; answers a request, shutdown(SHUT_WR), then
             recv() (a lingering close)
  two PORT SIZE  two threads in recv() until a POST of SIZE body bytes
             is in
  late PORT  reads only 2 s after accepting (so that a client's burst is
             all in before the first read)
Each prints one line saying what happened, then answers "plain text".
"""
import os
import re
import select
import signal
import socket
import sys
import threading
import time

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nplain text\n"


def accept(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    print("listening", flush=True)
    return ls.accept()[0]


def whole(d):
    i = d.find(b"\r\n\r\n")
    if i < 0:
        return False
    m = re.search(rb"Content-Length: (\d+)", d)
    return len(d) >= i + 4 + (int(m.group(1)) if m else 0)


def peek(c):
    time.sleep(1)
    d = b""
    while True:
        r, _, _ = select.select([c], [], [], 10)
        if not r:
            print("STALL: not readable for 10 s after peeking %d bytes" % len(d), flush=True)
            return
        d = c.recv(65536, socket.MSG_PEEK)
        if not d or whole(d):
            break
    got = b""
    while len(got) < len(d):
        got += c.recv(65536)
    print("peeked %d, read %d" % (len(d), len(got)), flush=True)
    c.sendall(ANSWER)


def pipe(c):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    d = b""
    while b"\r\n\r\n" not in d:
        d += c.recv(4096)
    c.sendall(ANSWER)
    c.shutdown(socket.SHUT_WR)
    try:
        c.recv(100)
    except OSError as e:
        print("recv:", e, flush=True)
    print("server survived", flush=True)


def two(c, size):
    want = len(b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n" % size) + size
    lock = threading.Lock()
    total = [0]
    errs = []
    done = threading.Event()

    def rd():
        while not done.is_set():
            try:
                d = c.recv(65536)
            except OSError as e:
                with lock:
                    errs.append(e.errno)
                done.set()
                return
            if not d:
                done.set()
                return
            with lock:
                total[0] += len(d)
                if total[0] >= want:
                    done.set()

    ts = [threading.Thread(target=rd) for _ in range(2)]
    for t in ts:
        t.start()
    done.wait(300)
    print("total %d of %d, errors %r" % (total[0], want, errs), flush=True)
    c.sendall(ANSWER)
    c.shutdown(socket.SHUT_RDWR)
    os._exit(0)     # a thread may still sit in recv()


def late(c):
    time.sleep(2)
    try:
        d = b""
        while b"\r\n\r\n" not in d:
            x = c.recv(4096)
            if not x:
                print("EOF", flush=True)
                return
            d += x
    except OSError as e:
        print("recv:", e, flush=True)
        return
    c.sendall(ANSWER)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    c = accept(port)
    if mode == "peek":
        peek(c)
    elif mode == "pipe":
        pipe(c)
    elif mode == "late":
        late(c)
    else:
        two(c, int(sys.argv[3]))
    c.close()


main()
