#!/usr/bin/env python3
"""smtpclient.py - SMTP clients for tests/e2e/faults.sh (loopback only).

  smtpclient.py slow PORT FROM TO FILE MARKER READY GO
      One transaction that stops in the middle of DATA: the header, the
      first half of the body, then READY is created and the client waits
      (at most 60 s) until GO exists before it sends the rest and the
      final dot.  Prints the reply to the final dot: "CODE TEXT".

  smtpclient.py burst PORT FROM TO FILE PREFIX COUNT THREADS OUT
      COUNT messages, one session each, THREADS at a time; message I
      carries "X-E2E-Id: PREFIX.I" on top.  Writes "I CODE TEXT" per
      message to OUT (the reply to the final dot, or to whatever command
      failed; 000 when the connection failed).

The message FILE is sent with CRLF line ends and dot-stuffed.
"""
import socket
import sys
import threading
import time


def read_reply(f):
    """One SMTP reply: (code, text of all lines joined by ' | ')."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line[4:])
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), " | ".join(lines)


def command(sock, f, text, want):
    sock.sendall(text.encode() + b"\r\n")
    code, reply = read_reply(f)
    if code // 100 != want:
        raise SmtpFailed(code, reply)
    return code, reply


class SmtpFailed(Exception):
    def __init__(self, code, text):
        super().__init__("%d %s" % (code, text))
        self.code = code
        self.text = text


def wire(data):
    """CRLF line ends, dot-stuffed, without the final dot."""
    lines = data.replace(b"\r\n", b"\n").rstrip(b"\n").split(b"\n")
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in lines)


def open_session(port, sender, rcpt):
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    f = sock.makefile("rb")
    code, reply = read_reply(f)
    if code != 220:
        raise SmtpFailed(code, reply)
    command(sock, f, "EHLO client.relaygate-e2e.test", 2)
    command(sock, f, "MAIL FROM:<%s>" % sender, 2)
    command(sock, f, "RCPT TO:<%s>" % rcpt, 2)
    command(sock, f, "DATA", 3)
    return sock, f


def finish(sock, f, rest):
    sock.sendall(rest + b".\r\n")
    code, reply = read_reply(f)
    try:
        sock.sendall(b"QUIT\r\n")
        read_reply(f)
    except (OSError, ConnectionError):
        pass
    sock.close()
    return code, reply


def slow(port, sender, rcpt, path, marker, ready, go):
    data = b"X-E2E-Id: " + marker.encode() + b"\n" + open(path, "rb").read()
    body = wire(data)
    half = body.index(b"\r\n\r\n") + 4
    half += (len(body) - half) // 2
    half = body.index(b"\r\n", half) + 2
    sock, f = open_session(port, sender, rcpt)
    sock.sendall(body[:half])
    open(ready, "w").close()
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            open(go).close()
            break
        except FileNotFoundError:
            time.sleep(0.05)
    code, reply = finish(sock, f, body[half:])
    print("%d %s" % (code, reply))


def burst(port, sender, rcpt, path, prefix, count, threads, out):
    template = open(path, "rb").read()
    results = {}
    lock = threading.Lock()
    todo = list(range(1, count + 1))

    def one(i):
        data = (b"X-E2E-Id: %s.%d\n" % (prefix.encode(), i)) + template
        try:
            sock, f = open_session(port, sender, rcpt)
            code, reply = finish(sock, f, wire(data))
        except SmtpFailed as e:
            code, reply = e.code, e.text
        except (OSError, ConnectionError) as e:
            code, reply = 0, str(e)
        with lock:
            results[i] = (code, reply)

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            one(i)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    with open(out, "w") as f:
        for i in sorted(results):
            f.write("%d %03d %s\n" % (i, results[i][0], results[i][1]))


def main(argv):
    if len(argv) == 9 and argv[1] == "slow":
        slow(int(argv[2]), *argv[3:9])
        return 0
    if len(argv) == 10 and argv[1] == "burst":
        burst(int(argv[2]), argv[3], argv[4], argv[5], argv[6],
              int(argv[7]), int(argv[8]), argv[9])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
