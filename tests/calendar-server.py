#!/usr/bin/python3
# calendar-server.py: a small external calendar for tests/e2e/calpoll.sh.
#
# usage: calendar-server.py DIR
#
# Listens on 127.0.0.1 on a free port and prints the port.  GET /cal.ics
# answers as DIR/mode says: "ok" serves DIR/cal.ics with an ETag (and 304
# to a matching If-None-Match), "500" a server error, "garbage" 200 with
# bytes that are not iCalendar.  GET /slow.ics never answers in time.
# Every request appends "PATH STATUS" to DIR/log.

import hashlib
import http.server
import os
import socketserver
import sys
import time

DIR = sys.argv[1]


def note(path, status):
    with open(os.path.join(DIR, "log"), "a") as f:
        f.write("%s %d\n" % (path, status))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        note(self.path, status)

    def do_GET(self):
        if self.path == "/slow.ics":
            note(self.path, 0)
            time.sleep(120)
            return
        if self.path != "/cal.ics":
            return self.answer(404)
        with open(os.path.join(DIR, "mode")) as f:
            mode = f.read().strip()
        if mode == "500":
            return self.answer(500, b"oops")
        if mode == "garbage":
            return self.answer(200, b"\x00\x01\x02garbage\xff\xfe",
                               [("Content-Type", "text/calendar")])
        with open(os.path.join(DIR, "cal.ics"), "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.answer(304, b"", [("ETag", etag)])
        self.answer(200, body, [("ETag", etag),
                                ("Content-Type", "text/calendar")])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
