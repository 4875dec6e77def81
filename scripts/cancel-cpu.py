#!/usr/bin/env python3
"""How much CPU `quarry run` still burns after SIGINT on a CPU-bound local query.

Starts a cross join of the sample table `trips` with itself (900 M row pairs through a filter
that rarely matches), waits until the process has used 1.5 s of CPU, sends SIGINT and reads
the process's own CPU time (/proc/PID/stat) until it exits — what a user watching `top` sees.

Usage: scripts/cancel-cpu.py [QUARRY_BINARY] [RUNS]   (default target/release/quarry, 3)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

SQL = ("SELECT count(*) FROM trips a CROSS JOIN trips b "
       "WHERE a.payment_type || b.payment_type LIKE '%nomatch%'")
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of `pid`, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return (int(fields[11]) + int(fields[12])) / HZ


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/quarry"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "QUARRY_DATA_DIR": data}
        env.pop("QUARRY_CONFIG", None)
        for i in range(runs):
            p = subprocess.Popen([binary, "run", SQL], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.time() + 60
            while (cpu_seconds(p.pid) or 0) < 1.5:
                if p.poll() is not None or time.time() > deadline:
                    sys.exit(f"the query never got busy: {p.stderr.read().decode()}")
                time.sleep(0.02)
            before = cpu_seconds(p.pid)
            signalled = time.time()
            p.send_signal(signal.SIGINT)
            last = before
            while (now := cpu_seconds(p.pid)) is not None:
                last = now
                time.sleep(0.005)
            p.wait()
            print(f"run {i + 1}: {last - before:.2f} s of CPU after SIGINT, "
                  f"exit {p.returncode} after {time.time() - signalled:.2f} s")


if __name__ == "__main__":
    main()
