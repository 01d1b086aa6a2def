#!/usr/bin/env python3
"""One soak client for tests/guest/soak.sh: until SECONDS have passed,
does a random mix of requests against https://localhost:PORT (verified
against CA) and checks every body against the SHA-256 of the file under
ROOT: a new connection per request, keep-alive runs of 10 requests, byte
ranges, HEAD.  Prints "requests N errors E" and the first errors.

  soak_client.py PORT CA ROOT SECONDS SEED
"""
import hashlib
import http.client
import os
import random
import ssl
import sys
import time


def main():
    port, ca, root, secs, seed = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                  float(sys.argv[4]), int(sys.argv[5]))
    rnd = random.Random(seed)
    files = sorted(f for f in os.listdir(root) if os.path.isfile(os.path.join(root, f)))
    data = {f: open(os.path.join(root, f), 'rb').read() for f in files}
    ctx = ssl.create_default_context(cafile=ca)
    deadline = time.monotonic() + secs
    n = errors = 0
    notes = []

    def check(conn, method, name, rng=None):
        nonlocal n, errors
        headers = {}
        want = data[name]
        status = 200
        if rng:
            a, b = rng
            headers['Range'] = 'bytes=%d-%d' % (a, b)
            want = want[a:b + 1]
            status = 206
        conn.request(method, '/' + name, headers=headers)
        r = conn.getresponse()
        body = r.read()
        n += 1
        if method == 'HEAD':
            want = b''
            ok = r.status == 200 and int(r.getheader('Content-Length')) == len(data[name])
        else:
            ok = r.status == status and hashlib.sha256(body).digest() == hashlib.sha256(want).digest()
        if not ok:
            errors += 1
            if len(notes) < 5:
                notes.append('%s /%s %s: status %d, %d bytes' % (method, name, rng, r.status, len(body)))

    while time.monotonic() < deadline:
        kind = rnd.choice(['new', 'new', 'keepalive', 'range', 'head'])
        conn = http.client.HTTPSConnection('localhost', port, context=ctx, timeout=60)
        try:
            if kind == 'keepalive':
                for _ in range(10):
                    check(conn, 'GET', rnd.choice(files))
            elif kind == 'range':
                name = rnd.choice(files)
                size = len(data[name])
                a = rnd.randrange(size)
                check(conn, 'GET', name, (a, rnd.randrange(a, size)))
            elif kind == 'head':
                check(conn, 'HEAD', rnd.choice(files))
            else:
                check(conn, 'GET', rnd.choice(files))
        except Exception as e:      # a lost response counts as an error
            n += 1
            errors += 1
            if len(notes) < 5:
                notes.append('%s: %r' % (kind, e))
        finally:
            conn.close()
    print('requests %d errors %d' % (n, errors))
    for note in notes:
        print('# ' + note)


if __name__ == '__main__':
    main()
