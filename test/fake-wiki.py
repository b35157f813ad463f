#!/usr/bin/env python3
"""A fake of the MediaWiki API's action=query&prop=extracts, for the tests.

Usage: fake-wiki.py FIXTURES LOG

Listens on 127.0.0.1, port 0, and prints the port on the first line of
stdout. Every request's path and query go to LOG, one a line. Articles are
FIXTURES/TITLE.txt (the plain-text extract, headings as "== T =="). Titles
are normalised like MediaWiki's (underscores to spaces, first letter upper
case); "Sokrates" redirects to "Socrates"; "Mercury" is a disambiguation
page; "Huge" answers 17 MiB; "Slow" answers after 3 seconds; "Broken"
answers HTTP 500; anything else is missing. A query without the parameters
scg must send gets the API's error answer.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FIXTURES, LOG = sys.argv[1], sys.argv[2]
REDIRECTS = {"Sokrates": "Socrates"}
NEEDED = {"action": "query", "format": "json", "formatversion": "2",
          "explaintext": "1", "exsectionformat": "wiki", "redirects": "1"}


def normalise(title):
    t = title.replace("_", " ").strip()
    return t[:1].upper() + t[1:]


def answer(q):
    for key, want in NEEDED.items():
        if q.get(key, [""])[0] != want:
            return {"error": {"code": "badparams",
                              "info": "%s must be %s" % (key, want)}}
    if "extracts" not in q.get("prop", [""])[0].split("|"):
        return {"error": {"code": "badparams", "info": "prop must hold extracts"}}
    asked = q.get("titles", [""])[0]
    query = {}
    title = normalise(asked)
    if title != asked:
        query["normalized"] = [{"fromencoded": False, "from": asked, "to": title}]
    if title in REDIRECTS:
        query["redirects"] = [{"from": title, "to": REDIRECTS[title]}]
        title = REDIRECTS[title]
    page = {"ns": 0, "title": title}
    path = os.path.join(FIXTURES, title + ".txt")
    if title == "Mercury":
        page.update(pageid=3, extract="Mercury may refer to:\nMercury (planet)",
                    pageprops={"disambiguation": ""})
    elif "/" not in title and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            page.update(pageid=7, extract=f.read())
    else:
        page["missing"] = True
    query["pages"] = [page]
    return {"batchcomplete": True, "query": query}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(self.path + "\n")
        q = parse_qs(urlsplit(self.path).query)
        title = q.get("titles", [""])[0]
        if title == "Broken":
            self.reply(500, b'{"oops": true}')
        elif title == "Huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(17 << 20))
            self.end_headers()
            chunk = b" " * (1 << 20)
            try:
                for _ in range(17):
                    self.wfile.write(chunk)
            except OSError:
                pass
        else:
            if title == "Slow":
                time.sleep(3)
            self.reply(200, json.dumps(answer(q)).encode())

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (the size cap) is expected


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
