#!/usr/bin/env python3
"""echo_server_test.py - runs examples/echo_server as a real process and talks
to it over loopback TCP.

    echo_server_test.py <path to echo_server>

1. max connections: the server is started with "0 <N>"; N clients connect at
   once (a barrier holds them until all are connected), each sends different
   data - sizes from 1 byte to 1 MiB, some in many small pieces - reads the
   echo until the server closes, and compares it byte for byte.  The server
   must then exit by itself with status 0.
2. SIGTERM: clients hold connections open (one mid-transfer); SIGTERM must
   stop the server cleanly (status 0) and the clients see their connection
   closed.

Whatever happens, no server process is left running (killed in a finally).
Prints one line per scenario and "N passed, M failed"; exits non-zero on any
failure.
"""
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

TIMEOUT = float(os.environ.get("ECHO_TEST_TIMEOUT", "30"))
procs = []


def start_server(binary, *args):
    p = subprocess.Popen([binary, *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    procs.append(p)
    ready, _, _ = select.select([p.stdout], [], [], TIMEOUT)
    if not ready:
        raise AssertionError("the server printed nothing within %.0f s" % TIMEOUT)
    line = p.stdout.readline().decode(errors="replace").strip()
    m = re.fullmatch(r"echo_server listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        raise AssertionError("unexpected first line: %r" % line)
    port = int(m.group(1))
    if not 0 < port < 65536:
        raise AssertionError("bad port %d" % port)
    return p, port


def wait_exit(p, what):
    try:
        rc = p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: the server did not exit within %.0f s" % (what, TIMEOUT))
    err = p.stderr.read().decode(errors="replace")
    if rc != 0:
        raise AssertionError("%s: the server exited with status %d; stderr:\n%s" % (what, rc, err))
    return err


def payload(i, size):
    rnd = random.Random(1000 + i)
    return bytes(rnd.getrandbits(8) for _ in range(min(size, 4096))) * (size // 4096 + 1)


class Client(threading.Thread):
    """Connects, waits at the barrier, sends its data (in pieces if asked) while
    a second thread reads the echo, half-closes, reads to EOF, compares."""

    def __init__(self, port, i, data, piece, barrier):
        super().__init__(daemon=True)
        self.port, self.i, self.data, self.piece, self.barrier = port, i, data[:len(data)], piece, barrier
        self.error = None
        self.got = bytearray()

    def reader(self, s):
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    return
                self.got += b
        except Exception as e:  # noqa: BLE001 - reported by run()
            self.error = self.error or "read: %r" % e

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            s.settimeout(TIMEOUT)
            self.barrier.wait(timeout=TIMEOUT)
            rd = threading.Thread(target=self.reader, args=(s,), daemon=True)
            rd.start()
            for off in range(0, len(self.data), self.piece):
                s.sendall(self.data[off:off + self.piece])
                if self.piece < 1024:
                    time.sleep(0.001)
            s.shutdown(socket.SHUT_WR)
            rd.join(TIMEOUT)
            if rd.is_alive():
                self.error = "no end of file within %.0f s (%d of %d bytes back)" % (
                    TIMEOUT, len(self.got), len(self.data))
            s.close()
            if self.error is None and bytes(self.got) != self.data:
                first = next((k for k in range(min(len(self.got), len(self.data)))
                              if self.got[k] != self.data[k]), min(len(self.got), len(self.data)))
                self.error = "echo differs: %d bytes sent, %d back, first difference at %d" % (
                    len(self.data), len(self.got), first)
        except Exception as e:  # noqa: BLE001
            self.error = self.error or repr(e)


def scenario_max_connections(binary):
    sizes = [1, 10, 100, 1000, 4096, 65537, 200000, 1 << 20, 3, 50000]
    pieces = [1, 3, 100, 1 << 20, 4096, 65536, 7000, 65536, 1, 1 << 20]
    n = len(sizes)
    p, port = start_server(binary, 0, n)
    barrier = threading.Barrier(n)
    clients = [Client(port, i, payload(i, sizes[i])[:sizes[i]], pieces[i], barrier) for i in range(n)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(TIMEOUT * 2)
    errors = ["client %d (%d bytes): %s" % (c.i, len(c.data), c.error or "still running")
              for c in clients if c.error or c.is_alive()]
    if errors:
        raise AssertionError("\n".join(errors))
    err = wait_exit(p, "after %d connections" % n)
    if "%d connection(s) served" % n not in err:
        raise AssertionError("unexpected stderr: %r" % err)


def scenario_sigterm(binary):
    p, port = start_server(binary, 0)
    idle = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    busy = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    busy.sendall(b"x" * 1000)
    got = b""
    while len(got) < 1000:
        b = busy.recv(65536)
        if not b:
            raise AssertionError("the server closed early")
        got += b
    # A third client sends a lot and reads nothing: its echo handler waits
    # in ax_write when the signal comes.
    stuck = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    stuck.setblocking(False)
    sent = 0
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            sent += stuck.send(b"y" * 65536)
        except BlockingIOError:
            if sent > 0:
                break
            time.sleep(0.01)
    time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    err = wait_exit(p, "after SIGTERM")
    if "stopped by a signal" not in err:
        raise AssertionError("unexpected stderr: %r" % err)
    for s in (idle, busy):
        s.settimeout(TIMEOUT)
        if s.recv(10) != b"":
            raise AssertionError("a connection was not closed by the server")
        s.close()
    stuck.close()


def main():
    if len(sys.argv) != 2:
        print("usage: echo_server_test.py <echo_server>", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    passed = failed = 0
    try:
        for name, fn in (("max_connections", scenario_max_connections),
                         ("sigterm", scenario_sigterm)):
            t0 = time.time()
            try:
                fn(binary)
                passed += 1
                print("[       OK ] %s (%.2f s)" % (name, time.time() - t0))
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("[  FAILED  ] %s: %s" % (name, e))
            sys.stdout.flush()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    print("echo_server: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
