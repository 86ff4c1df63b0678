#!/usr/bin/env python3
"""bench_programs_test.py - the benchmark programs' command lines and output
lines, which outside checks rely on (behaviour only: no timing is judged).

    bench_programs_test.py <ring_dist> <aead_cost>

ring_dist: over every transport a short run prints exactly one line with
transport, procs, payload, hops_per_s=<n> laps_per_s=<n>, consistent with
each other; --runs adds a median line; a node killed mid-run makes it exit 1
with a message; bad arguments are refused; no process is ever left behind.
aead_cost: one line per run plus a median line; an unknown cipher is refused.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "util"))
import proctest as pt  # noqa: E402

RING_DIST, AEAD_COST = sys.argv[1], sys.argv[2]

LINE = re.compile(r"(?P<label>ring_dist (?:median )?)transport=(?P<t>[\w-]+) procs=(?P<p>\d+) "
                  r"batch=(?P<b>\d+) payload=(?P<s>\d+) busy_poll_us=(?P<bp>\d+) "
                  r"hops=(?P<m>\d+) secs=(?P<secs>[\d.]+) hops_per_s=(?P<h>\d+) "
                  r"laps_per_s=(?P<l>\d+)")


def ring_lines(out):
    return [LINE.fullmatch(l) for l in out.splitlines() if l.strip()]


def check_line(m, transport, procs, batch, payload, hops):
    pt.expect(m is not None, "a line does not have the documented format")
    pt.expect(m["t"] == transport and int(m["p"]) == procs and int(m["b"]) == batch
              and int(m["s"]) == payload and int(m["m"]) == hops, "fields differ", m.group(0))
    h, l, secs = int(m["h"]), int(m["l"]), float(m["secs"])
    pt.expect(h > 0 and l > 0 and secs > 0, "zero figures", m.group(0))
    # hops = laps * procs; both are rates over the same time.
    pt.expect(abs(h - l * procs) <= procs, "hops_per_s != laps_per_s * procs", m.group(0))


def ring_transport(transport, payload):
    def case():
        args = [RING_DIST, "--procs", 3, "--batch", 64, "--payload", payload, "--hops", 30000,
                "--transport", transport]
        rc, out, err = pt.run(args, timeout=120)
        pt.expect(rc == 0, "status %d" % rc, err)
        lines = ring_lines(out)
        pt.expect(len(lines) == 1, "expected one line", out)
        check_line(lines[0], transport, 3, 64, payload, 30000)
    return case


def ring_runs():
    rc, out, err = pt.run([RING_DIST, "--procs", 2, "--batch", 16, "--payload", 8, "--hops",
                           20000, "--runs", 3, "--busy-poll", 0], timeout=120)
    pt.expect(rc == 0, "status %d" % rc, err)
    lines = ring_lines(out)
    pt.expect(len(lines) == 4 and all(lines), "expected 3 runs and a median", out)
    for m in lines:
        check_line(m, "tcp", 2, 16, 8, 20000)
        pt.expect(int(m["bp"]) == 0, "busy_poll_us not 0", m.group(0))
    pt.expect([m["label"] for m in lines] == ["ring_dist "] * 3 + ["ring_dist median "], "labels", out)
    rates = sorted(int(m["h"]) for m in lines[:3])
    pt.expect(int(lines[3]["h"]) == rates[1], "the median line is not the median", out)


def ring_node_killed():
    p = pt.start([RING_DIST, "--procs", 3, "--batch", 64, "--hops", 10**15])
    pids = pt.wait_group(p.pid, 4)  # ring_dist, node 1 and two more nodes
    time.sleep(1.0)
    victim = [pid for pid in pids if pid != p.pid][-1]
    os.kill(victim, signal.SIGKILL)
    rc, out, err = pt.finish(p, 30, "ring_dist")
    pt.assert_no_leftovers(p.pid)
    pt.expect(rc == 1, "status %d, expected 1" % rc, out, err)
    pt.expect("ended early" in err, "no message naming the failed node", err)
    pt.expect("hops_per_s=" not in out, "a figure printed for a failed run", out)


def ring_bad_arguments():
    for args in (["--procs", 1], ["--procs", 2, "--transport", "carrier-pigeon"], ["--hops", 0],
                 ["--batch"], ["--busy-poll", 2000000], ["--frobnicate", 1]):
        rc, out, err = pt.run([RING_DIST, *args], timeout=20)
        pt.expect(rc != 0 and err.strip(), "ring_dist %s: status %d" % (args, rc), err)
        pt.expect("hops_per_s=" not in out, "a figure for bad arguments", out)


AEAD = re.compile(r"(?P<label>aead_cost|median) cipher=(?P<c>[\w-]+) record=16384 "
                  r"window_kib=(?P<w>\d+) payload=(?P<s>\d+) seal_gb_s=(?P<seal>[\d.]+) "
                  r"open_gb_s=(?P<open>[\d.]+) ns_per_hop=(?P<ns>\d+)")


def aead_lines():
    for cipher in ("aes-128-gcm", "chacha20-poly1305"):
        rc, out, err = pt.run([AEAD_COST, "--cipher", cipher, "--seconds", 0.05, "--runs", 3,
                               "--window", 256, "--payload", 512], timeout=60)
        pt.expect(rc == 0, "%s: status %d" % (cipher, rc), err)
        lines = [AEAD.fullmatch(l) for l in out.splitlines()]
        pt.expect(len(lines) == 4 and all(lines), "expected 3 runs and a median", out)
        for m in lines:
            pt.expect(m["c"] == cipher and m["w"] == "256" and m["s"] == "512", "fields", out)
            pt.expect(float(m["seal"]) > 0 and float(m["open"]) > 0 and int(m["ns"]) > 0,
                      "zero figures", out)
        pt.expect([m["label"] for m in lines] == ["aead_cost"] * 3 + ["median"], "labels", out)


def aead_bad_arguments():
    for args in (["--cipher", "rot13"], ["--cipher", "aes-128-cbc"], ["--record", 10],
                 ["--runs", 0], ["--seconds"]):
        rc, out, err = pt.run([AEAD_COST, *args], timeout=20)
        pt.expect(rc == 2 and err.strip() and not out, "aead_cost %s: status %d" % (args, rc),
                  out, err)


if __name__ == "__main__":
    cases = [("ring_dist over %s, %d B" % (t, s), ring_transport(t, s))
             for t in ("tcp", "unix", "tls", "tls-unix") for s in (0, 1024)]
    cases += [("ring_dist --runs 3", ring_runs),
              ("ring_dist: a node killed mid-run", ring_node_killed),
              ("ring_dist: bad arguments", ring_bad_arguments),
              ("aead_cost lines", aead_lines),
              ("aead_cost: bad arguments", aead_bad_arguments)]
    sys.exit(pt.main(cases))
