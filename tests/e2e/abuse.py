"""abuse.py: slow and abusive HTTP clients against a running yiqid.

Usage: /usr/bin/python3 abuse.py PORT TOKEN TIMEOUT
Prints TAP lines (no plan) for each check; the shell test counts them.
Everything talks to 127.0.0.1 only and stops by itself.
"""
import socket
import sys
import time

PORT = int(sys.argv[1])
TOKEN = sys.argv[2]
TIMEOUT = int(sys.argv[3])
n = 0


def tap(ok, desc):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc), flush=True)


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    return s


def health_time():
    """Seconds a fresh client waits for /api/v1/health, or None."""
    t = time.time()
    try:
        s = connect()
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        if b" 200 " not in data.split(b"\r\n", 1)[0]:
            return None
        return time.time() - t
    except OSError:
        return None


# 1000 idle connections: the daemon keeps answering others.
idle = []
for i in range(1000):
    try:
        idle.append(connect())
    except OSError:
        break
tap(len(idle) == 1000, "1000 idle connections accepted (%d)" % len(idle))
t = health_time()
tap(t is not None and t < 1.0, "others are served with 1000 idle connections open (%s s)" % t)

# Slowloris: headers trickled byte by byte on 20 connections.
slow = []
for i in range(20):
    s = connect()
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\n")
    slow.append(s)
for k in range(6):
    for s in slow:
        try:
            s.sendall(b"X")
        except OSError:
            pass
    t = health_time()
    if t is None or t > 1.0:
        break
    time.sleep(0.2)
tap(t is not None and t < 1.0, "others are served while 20 clients trickle headers")

# Idle connections are closed after the timeout.
time.sleep(TIMEOUT + 1.5)
closed = 0
for s in idle[:50]:
    try:
        s.settimeout(2)
        if s.recv(1) == b"":
            closed += 1
    except OSError:
        closed += 1
tap(closed == 50, "idle connections closed after %d s (%d of 50)" % (TIMEOUT, closed))
for s in idle + slow:
    s.close()

# Oversized headers are refused, and the daemon goes on.
s = connect()
try:
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
    reply = s.recv(65536)
except OSError:
    reply = b""
s.close()
status = reply.split(b"\r\n", 1)[0]
tap(b" 200 " not in status, "40 KB of headers refused (%r)" % status[:40])
t = health_time()
tap(t is not None, "still serving after oversized headers")

# A client that sends requests and never reads the answers.
lazy = []
req = ("GET /api/v1/instruments?limit=1000 HTTP/1.1\r\nHost: x\r\n"
       "Authorization: Bearer %s\r\n\r\n" % TOKEN).encode() * 50
for i in range(10):
    s = connect()
    try:
        s.sendall(req)
    except OSError:
        pass
    lazy.append(s)
time.sleep(0.5)
t = health_time()
tap(t is not None and t < 1.0, "others are served while 10 clients never read their answers")
for s in lazy:
    s.close()

# Garbage instead of HTTP.
s = connect()
s.sendall(b"\x00\xff\x16\x03\x01 hello? \r\n\r\n")
try:
    s.settimeout(3)
    s.recv(4096)
except OSError:
    pass
s.close()
t = health_time()
tap(t is not None, "still serving after a binary request")
print("COUNT %d" % n)
