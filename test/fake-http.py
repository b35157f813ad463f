#!/usr/bin/env python3
"""An HTTP/1.1 server that answers OpenAI chat requests in the ways a real
or a broken server may, byte by byte, for the tests of scg's own HTTP
client (lib/exec-h1.c).

Usage: fake-http.py MODE LOG

Listens on 127.0.0.1, port 0, and prints the port on the first line of
stdout. Each request read appends "CONN METHOD PATH" to LOG, CONN being the
number of the connection it came on (1, 2, ... in order of accept). The
answer's text is "echo: " and the last message's content. MODE:

  chunked     a 100 Continue first, then the answer chunked in pieces of
              7 bytes (a chunk extension on each), written apart, and a
              trailer; the connection is kept
  gzip        the answer gzip-compressed, with its Content-Length; kept
  http10      HTTP/1.0 without Content-Length: the body ends at the close
  close-idle  Content-Length and no "Connection: close", but the server
              closes each connection right after its answer: a client
              that keeps it finds it closed at the next request
  badchunk    a chunked answer whose chunk size is -1
  garbage     a line that is no HTTP, then the close
  nothing     the close, without a byte
  endless     a status line, then header lines for as long as the client
              reads them
  drip        a status line, then a byte every 0.2 s
"""
import gzip
import json
import socket
import sys
import threading
import time

MODE, LOG = sys.argv[1], sys.argv[2]
lock = threading.Lock()
conns = [0]


def log(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


def read_request(sock, buf):
    """(method, path, body, rest of buf), or None at the close."""
    while b"\r\n\r\n" not in buf:
        got = sock.recv(65536)
        if not got:
            return None
        buf += got
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    size = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            size = int(value.strip())
    while len(buf) < size:
        got = sock.recv(65536)
        if not got:
            return None
        buf += got
    return method, path, buf[:size], buf[size:]


def answer(body):
    try:
        content = json.loads(body)["messages"][-1]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        content = ""
    return json.dumps({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake-1",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "echo: " + content}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }).encode()


def serve(sock, n):
    buf = b""
    while True:
        req = read_request(sock, buf)
        if req is None:
            return
        method, path, body, buf = req
        log("%d %s %s" % (n, method, path))
        data = answer(body)
        if MODE == "chunked":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(data), 7):
                piece = data[i:i + 7]
                sock.sendall(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\nX-Trailer: done\r\n\r\n")
        elif MODE == "gzip":
            z = gzip.compress(data)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(z), z))
        elif MODE == "http10":
            sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + data)
            return
        elif MODE == "close-idle":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
            return
        elif MODE == "badchunk":
            sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n")
        elif MODE == "garbage":
            sock.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            return
        elif MODE == "nothing":
            return
        elif MODE == "endless":
            sock.sendall(b"HTTP/1.1 200 OK\r\n")
            line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
            while True:
                sock.sendall(line)
        elif MODE == "drip":
            for c in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
                sock.sendall(bytes([c]))
                time.sleep(0.2)
            return


def handle(sock, n):
    try:
        serve(sock, n)
    except OSError:
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    while True:
        sock, _ = srv.accept()
        conns[0] += 1
        threading.Thread(target=handle, args=(sock, conns[0]), daemon=True).start()


if __name__ == "__main__":
    main()
