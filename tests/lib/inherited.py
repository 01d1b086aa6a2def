#!/usr/bin/env python3
# A server that inherits its listener, as under systemd's socket
# activation or inetd, for the preload library's tests.
#
#   inherited.py listen PORT COMMAND...
#       listens on 127.0.0.1:PORT (without the library, which it is not
#       run under), then execs COMMAND with the listener's descriptor
#       number appended
#   inherited.py serve FD
#       only calls accept() on descriptor FD (never listen()), and answers
#       each connection's first read with "plain text" over HTTP/1.0;
#       exits when accept() fails
import os
import socket
import sys

if sys.argv[1] == "listen":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[2])))
    s.listen(64)
    os.set_inheritable(s.fileno(), True)
    os.execvp(sys.argv[3], sys.argv[3:] + [str(s.fileno())])

s = socket.socket(fileno=int(sys.argv[2]))
print("accepting", flush=True)
while True:
    try:
        c, _ = s.accept()
    except OSError as e:
        print("accept failed:", e, flush=True)
        sys.exit(1)
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nplain text\n")
    except OSError:
        pass
    c.close()
