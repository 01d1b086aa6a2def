#!/usr/bin/env python3
# Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/:
# well-formed inputs of each kind, from which libFuzzer mutates.  The
# binary seeds follow include/uapi/linux/ktls_offload.h; run again after
# the protocol changes.  Usage: tests/fuzz/mkseeds.py
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILY = 0x1d                       # fuzz_netlink.c's FUZZ_FAMILY
CMD = dict(GET_VERSION=1, SUBMIT=2, READY=3, ACCEPT=4, DONE=5, COMPLETE=6,
           COLLECT=7, CANCEL=8, GET_REQUEST=9, GET_STATS=10)
REQ = dict(ID=1, SOCKFD=2, ROLE=3, PROFILE=4, PEERNAME=5, ALPN=6, TIMEOUT_MS=7,
           COOKIE=8, FLAGS=9, PID=10, UID=11, GID=12, STATE=13, AGENT_PORTID=14)
RES = dict(ID=1, STATUS=2, COOKIE=3, TLS_VERSION=4, CIPHER=5, ALPN=6,
           PEER_IDENTITY=7, RESUMED=8)
STATS = dict(SUBMITTED=1, ACCEPTED=2, COMPLETED=3, FAILED=4, TIMED_OUT=5,
             CANCELLED=6, AGENT_LOSSES=7, PENDING=8, ERRNO=9)
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI = 2


def attr(t, payload):
    a = struct.pack('<HH', 4 + len(payload), t) + payload
    return a + b'\0' * (-len(a) % 4)


def u32(t, v): return attr(t, struct.pack('<I', v))
def u64(t, v): return attr(t, struct.pack('<Q', v))
def s(t, v): return attr(t, v.encode() + b'\0')


def nlmsg(typ, seq, body, flags=0):
    return struct.pack('<IHHII', 16 + len(body), typ, flags, seq, 0) + body


def genl(cmd, seq, attrs, flags=0):
    return nlmsg(FAMILY, seq, struct.pack('<BBH', cmd, 2, 0) + b''.join(attrs), flags)


def ack(seq, err=0):
    return nlmsg(NLMSG_ERROR, seq, struct.pack('<i', err) + nlmsg(FAMILY, seq, b'')[:16])


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


accepted = genl(CMD['ACCEPT'], 1, [u32(REQ['ID'], 7), u32(REQ['SOCKFD'], 12),
                                   u32(REQ['ROLE'], 1), s(REQ['PROFILE'], 'default'),
                                   s(REQ['PEERNAME'], 'www.example.test'),
                                   s(REQ['ALPN'], 'h2,http/1.1'),
                                   u32(REQ['TIMEOUT_MS'], 9000), u32(REQ['PID'], 100),
                                   u32(REQ['UID'], 0), u32(REQ['GID'], 0)])
result = genl(CMD['COLLECT'], 1, [u32(RES['ID'], 7), u32(RES['STATUS'], 0),
                               u64(RES['COOKIE'], 0xfeed), u32(RES['TLS_VERSION'], 0x0304),
                               u32(RES['CIPHER'], 52), s(RES['ALPN'], 'http/1.1'),
                               s(RES['PEER_IDENTITY'], 'CN=client'),
                               attr(RES['RESUMED'], b'')])
errno_nest = attr(STATS['ERRNO'] | 0x8000, u32(1, 110) + u64(2, 3))
stats = genl(CMD['GET_STATS'], 1, [u64(STATS[k], i) for i, k in enumerate(
    ['SUBMITTED', 'ACCEPTED', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED',
     'AGENT_LOSSES'])] + [u32(STATS['PENDING'], 2), errno_nest, errno_nest])
listing = b''.join(genl(CMD['GET_REQUEST'], 1, [u32(REQ['ID'], i), u32(REQ['STATE'], 1),
                                                 u32(REQ['ROLE'], 1),
                                                 s(REQ['PROFILE'], 'p%d' % i),
                                                 u32(REQ['AGENT_PORTID'], 4242)],
                        NLM_F_MULTI) for i in range(3)) + nlmsg(NLMSG_DONE, 1, b'\0' * 4, NLM_F_MULTI)
submitted = genl(CMD['SUBMIT'], 1, [u32(REQ['ID'], 9)])
complete = genl(CMD['COMPLETE'], 0, [u32(RES['ID'], 9), u32(RES['STATUS'], 0),
                                     u64(RES['COOKIE'], 1), s(RES['ALPN'], 'h2')])
ready = genl(CMD['READY'], 0, [])

write('netlink', 'accept', bytes([0]) + accepted + ack(1))
write('netlink', 'accept-none', bytes([0]) + ack(1, -11))
write('netlink', 'result', bytes([1]) + result + ack(1))
write('netlink', 'stats', bytes([2]) + stats + ack(1))
write('netlink', 'list', bytes([3]) + listing)
write('netlink', 'submit', bytes([4]) + complete + submitted + ack(1))
write('netlink', 'events', bytes([5]) + ready + complete)

# the agent's socket: the command is the message type, sequence names the request
def sock(cmd, seq, attrs):
    return nlmsg(cmd, seq, b''.join(attrs))


write('sockmsg', 'submit', bytes([1]) + sock(CMD['SUBMIT'], 3, [
    u32(REQ['ROLE'], 1), s(REQ['PROFILE'], 'default'), s(REQ['ALPN'], 'http/1.1'),
    u32(REQ['TIMEOUT_MS'], 5000), u64(REQ['COOKIE'], 77)]))
write('sockmsg', 'submit-client', bytes([1]) + sock(CMD['SUBMIT'], 4, [
    u32(REQ['ROLE'], 2), s(REQ['PEERNAME'], 'server.example.test')]))
write('sockmsg', 'cancel', bytes([0]) + sock(CMD['CANCEL'], 3, []))
write('sockmsg', 'complete', bytes([0]) + sock(CMD['COMPLETE'], 3, [
    u32(RES['ID'], 3), u32(RES['STATUS'], 0), u32(RES['TLS_VERSION'], 0x0303),
    u32(RES['CIPHER'], 51), s(RES['ALPN'], 'http/1.1'), u64(RES['COOKIE'], 77)]))
write('sockmsg', 'complete-error', bytes([0]) + sock(CMD['COMPLETE'], 5, [
    u32(RES['ID'], 5), u32(RES['STATUS'], 110), u64(RES['COOKIE'], 0)]))

for name, req in {
    'get': 'GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/7.88\r\n\r\n',
    'head-range': 'HEAD /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=100-199\r\n'
                  'If-Range: "5f-1a2b3c"\r\nConnection: close\r\n\r\n',
    'conditional': 'GET /dir/a%20b.txt?x=1 HTTP/1.1\r\nHost: a\r\n'
                   'If-None-Match: W/"1", "5f-1a2b3c"\r\n'
                   'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n',
    'http10': 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    'post': 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
    'chunked': 'PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
    'suffix-range': 'GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=-500\r\n'
                    'Referer: https://a/\r\n\r\n',
    'pipelined': 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n',
    'obs-fold': 'GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n',
    'traversal': 'GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n',
}.items():
    write('http', name, req.encode())

write('config', 'full', b'''# a full configuration
[global]
workers = 2
user = nobody
socket = /run/ktls-offload/agent.sock
socket_group = www-data
log = syslog
log_level = debug
module = auto

[profile default]
cert = /etc/ssl/a.pem
key = /etc/ssl/a.key
cert = /etc/ssl/b.pem
key = /etc/ssl/b.key
ca = /etc/ssl/ca.pem
client_cert = optional
priority = NORMAL:-VERS-ALL:+VERS-TLS1.3
alpn = h2,http/1.1
tickets = yes
ticket_rotation = 3600
handshake_timeout = 10000

[profile client]
ca = /etc/ssl/ca.pem
''')
write('config', 'minimal', b'[profile web]\ncert = c.pem\nkey = k.pem\n')

# regression: a COMPLETE event whose RESULT_ID is empty, once read unchecked
write('netlink', 'short-attr-event', bytes([5]) + genl(CMD['COMPLETE'], 0, [
    u32(RES['STATUS'], 0), struct.pack('<HH', 4, RES['ID'])]))
