#!/usr/bin/env python3
"""net_examples_test.py - runs examples/distributed_ring and examples/ping_remote
as real processes on loopback.

    net_examples_test.py <distributed_ring> <ping_remote>

distributed_ring: every lap goes through every process, over Unix sockets and
over TCP; a node that cannot start (its port taken) or that stalls (SIGSTOP)
makes node 1 give up with status 1 and a message, not hang.
ping_remote: the one-command form pings a pong process 10,000 times; a wrong
shared secret and a pong that dies mid-run end the pinger with status 1 and a
message.  After every case no process of the program is left.
"""
import os
import re
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import proctest as pt  # noqa: E402

RING, PING = sys.argv[1], sys.argv[2]


def check_laps(out, procs, laps):
    lines = [l for l in out.splitlines() if l.startswith("lap ")]
    pt.expect(len(lines) == laps, "expected %d lap lines" % laps, out)
    for i, line in enumerate(lines, 1):
        m = re.fullmatch(r"lap (\d+): (\d+) hops through (\d+) processes, [\d.]+ us per hop", line)
        pt.expect(m and int(m.group(1)) == i and int(m.group(2)) == procs
                  and int(m.group(3)) == procs, "bad lap line", line)


def ring_unix():
    rc, out, err = pt.run([RING, "--procs", 5, "--laps", 4], timeout=60)
    pt.expect(rc == 0, "status %d" % rc, err)
    check_laps(out, 5, 4)


def ring_tcp():
    for attempt in range(3):  # a port may be taken between the check and the bind
        base = pt.free_port_base(3)
        rc, out, err = pt.run([RING, "--procs", 3, "--laps", 3, "--tcp", base], timeout=60)
        if rc == 0 or "serve" not in err:
            break
    pt.expect(rc == 0, "status %d" % rc, err)
    check_laps(out, 3, 3)


def ring_node_fails():
    base = pt.free_port_base(4)
    taken = socket.socket()
    taken.bind(("127.0.0.1", base + 3))  # node 3 cannot serve
    taken.listen()
    try:
        t0 = time.monotonic()
        rc, out, err = pt.run([RING, "--procs", 4, "--laps", 2, "--tcp", base], timeout=30)
    finally:
        taken.close()
    pt.expect(rc == 1, "status %d, expected 1" % rc, out, err)
    pt.expect("serve 127.0.0.1:%d" % (base + 3) in err, "no serve error named", err)
    pt.expect("node 3 ended early" in err, "node 1 did not name node 3", err)
    pt.expect(time.monotonic() - t0 < 15, "took too long")


def ring_node_stalls():
    p = pt.start([RING, "--procs", 3, "--laps", 1000000, "--timeout", 2])
    pids = pt.wait_group(p.pid, 3)
    time.sleep(0.5)
    victim = [pid for pid in pids if pid != p.pid][0]
    os.kill(victim, signal.SIGSTOP)
    rc, out, err = pt.finish(p, 30, "distributed_ring")
    pt.assert_no_leftovers(p.pid)
    pt.expect(rc == 1, "status %d, expected 1" % rc, err[-2000:])
    pt.expect("timed out in lap" in err, "no timeout message", err[-2000:])


def ping_one_command():
    rc, out, err = pt.run([PING], timeout=120)
    pt.expect(rc == 0, "status %d" % rc, out, err)
    pt.expect(re.search(r'found "pong" at node 2 \(index \d+\)', out), "pong not found", out)
    m = re.search(r"(\d+) pings in [\d.]+ s: round trip median [\d.]+ us", out)
    pt.expect(m and int(m.group(1)) == 10000, "not 10000 pings", out)
    m = re.search(r"link: (\d+) frames out, (\d+) in", out)
    pt.expect(m and int(m.group(1)) >= 10000 and int(m.group(2)) >= 10000, "link stats", out)


def ping_wrong_secret():
    with tempfile.TemporaryDirectory() as d:
        addr = os.path.join(d, "pong.sock")
        pong = pt.start([PING, "pong", addr], env={"AXON_SECRET": "right secret"})
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(addr) and time.monotonic() < deadline:
                time.sleep(0.02)
            t0 = time.monotonic()
            rc, out, err = pt.run([PING, "ping", addr, 10], timeout=40,
                                  env={"AXON_SECRET": "wrong secret"})
            pt.expect(rc == 1, "status %d, expected 1" % rc, out, err)
            pt.expect("wrong shared secret" in err, "no log line about the secret", err)
            pt.expect('no "pong" at %s within' % addr in err, "no give-up message", err)
            pt.expect(time.monotonic() - t0 < 30, "took too long")
        finally:
            pong.send_signal(signal.SIGTERM)
            rc, _, perr = pt.finish(pong, 20, "pong")
            pt.assert_no_leftovers(pong.pid)
        pt.expect(rc == 0, "pong ended with status %d" % rc, perr)


def ping_pong_dies():
    with tempfile.TemporaryDirectory() as d:
        addr = os.path.join(d, "pong.sock")
        pong = pt.start([PING, "pong", addr])
        deadline = time.monotonic() + 10
        while not os.path.exists(addr) and time.monotonic() < deadline:
            time.sleep(0.02)
        ping = pt.start([PING, "ping", addr, 10000000])
        time.sleep(1.5)
        os.kill(pong.pid, signal.SIGKILL)
        pt.finish(pong, 10, "pong")
        rc, out, err = pt.finish(ping, 30, "ping_remote ping")
        pt.assert_no_leftovers(ping.pid)
        pt.expect(rc == 1, "status %d, expected 1" % rc, out, err)
        pt.expect('"pong" stopped answering after' in err, "no give-up message", err)


def bad_arguments():
    for args in (["--procs"], ["--procs", 1], ["--procs", "x"], ["--bogus", 1]):
        rc, _, err = pt.run([RING, *args], timeout=10)
        pt.expect(rc == 2 and "usage:" in err, "distributed_ring %s: status %d" % (args, rc), err)
    for args in (["ping"], ["ping", "/nonexistent", 0], ["ping", "/x", "1x"], ["bogus"]):
        rc, _, err = pt.run([PING, *args], timeout=10)
        pt.expect(rc == 2 and "usage:" in err, "ping_remote %s: status %d" % (args, rc), err)


if __name__ == "__main__":
    sys.exit(pt.main([
        ("distributed_ring over Unix sockets", ring_unix),
        ("distributed_ring over TCP", ring_tcp),
        ("distributed_ring: a node cannot serve", ring_node_fails),
        ("distributed_ring: a node stalls", ring_node_stalls),
        ("ping_remote, one command", ping_one_command),
        ("ping_remote: wrong shared secret", ping_wrong_secret),
        ("ping_remote: pong dies mid-run", ping_pong_dies),
        ("bad arguments", bad_arguments),
    ]))
