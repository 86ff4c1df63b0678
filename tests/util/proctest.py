"""proctest.py - helpers for tests that run axon programs as real processes.

Every program is started in a session of its own, so that everything it
forks can be found afterwards (by process group) and a test can check that
nothing was left behind.  Used by tests/examples/net_examples_test.py and
tests/bench/bench_programs_test.py; import it with tests/util on sys.path.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import time
import traceback


def group_pids(pgid):
    """The live processes of process group pgid (zombies excluded)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split
        # after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(d))
    return pids


def assert_no_leftovers(pgid, within=5.0):
    """Fail (after killing them) if processes of the group outlive `within` s."""
    deadline = time.monotonic() + within
    while True:
        left = group_pids(pgid)
        if not left:
            return
        if time.monotonic() > deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            raise AssertionError("processes left behind: %s" % left)
        time.sleep(0.05)


def start(cmd, env=None):
    """Popen in a new session (its pid is the group id), pipes for output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=full_env)


def finish(p, timeout, what):
    """Wait for p; on a timeout kill its group and fail.  Returns (rc, out, err)."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError("%s did not end within %.0f s; stderr:\n%s" % (what, timeout, err))
    return p.returncode, out, err


def run(cmd, timeout=60, env=None, leftovers=True):
    """Run cmd to the end; check that nothing of it is left running."""
    p = start(cmd, env)
    rc, out, err = finish(p, timeout, os.path.basename(str(cmd[0])))
    if leftovers:
        assert_no_leftovers(p.pid)
    return rc, out, err


def wait_group(pgid, count, timeout=30.0):
    """Wait until the group has at least count live processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = group_pids(pgid)
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError("the group never had %d processes" % count)


def free_port_base(n, tries=50):
    """A base port b such that b+1 .. b+n are free on 127.0.0.1 right now."""
    for _ in range(tries):
        base = random.randrange(20000, 60000 - n)
        socks = []
        try:
            for i in range(1, n + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free range of %d ports" % n)


def expect(cond, what, *detail):
    if not cond:
        raise AssertionError(what + ("\n" + "\n".join(str(d) for d in detail) if detail else ""))


def main(tests):
    """Run the (name, function) pairs; print a line each and the summary."""
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            print("FAIL %s (%.1f s): %s" % (name, time.monotonic() - t0, e))
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
