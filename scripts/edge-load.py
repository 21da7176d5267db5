#!/usr/bin/env python3
"""Load at an HTTP listener's edge: many idle or slow connections, or many large request bodies at once, while
/healthz is timed on fresh connections. Prints one JSON object with what it measured. Used by the edge-load
tests; run it by hand against any CohortSync listener:

  scripts/edge-load.py connections --port 9101 [--idle 500 --slow 500 --seconds 5]
  scripts/edge-load.py bodies --port 8089 [--path /12/...] [--count 32 --megabytes 60] [--chunked] [--pid PID]

connections: opens the idle connections (connected, nothing sent) and the slow ones (a request line, then one
header byte a second), then asks /healthz every 20 ms for --seconds and reports the latencies.
bodies: sends --count POST bodies of --megabytes each at once (with Content-Length, or chunked), reads each
answer, and reports the statuses, /healthz latencies meanwhile and, with --pid, the listener's resident memory
from /proc before, at its peak (sampled every 50 ms) and after.
"""
import argparse
import json
import resource
import socket
import sys
import threading
import time


def status_line(conn):
    """The answer's status line, or "" when the connection closed without one."""
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def healthz(port, timeout=5.0):
    """Seconds for one GET /healthz on a fresh connection, and its status line."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status = status_line(conn)
    return time.monotonic() - started, status


def probe(port, seconds, stop=None):
    latencies, failures = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        try:
            elapsed, status = healthz(port)
            latencies.append(elapsed)
            if " 200 " not in status + " ":
                failures.append(status)
        except OSError as error:
            failures.append(str(error))
        time.sleep(0.02)
    return latencies, failures


def summary(latencies):
    ordered = sorted(latencies)
    if not ordered:
        return {"probes": 0}
    return {"probes": len(ordered), "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def connections(args):
    held, slow = [], []
    for _ in range(args.idle):
        held.append(socket.create_connection(("127.0.0.1", args.port), timeout=10))
    for _ in range(args.slow):
        conn = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        slow.append(conn)
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for conn in slow:
                try:
                    conn.sendall(b"a")
                except OSError:
                    pass
    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    latencies, failures = probe(args.port, args.seconds)
    stop.set()
    # How many of the held connections the listener still keeps open: a closed one reads as EOF.
    still_open = 0
    for conn in held + slow:
        conn.setblocking(False)
        try:
            still_open += 1 if conn.recv(1) else 0
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        conn.close()
    print(json.dumps(dict(summary(latencies), failures=failures[:5], failure_count=len(failures),
                          held=len(held) + len(slow), still_open=still_open)))


def resident(pid):
    """(VmHWM, VmRSS) of pid in MiB."""
    values = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = int(rest.split()[0]) / 1024
    return values.get("VmHWM", 0.0), values.get("VmRSS", 0.0)


def bodies(args):
    size = args.megabytes * 1024 * 1024
    block = b"[" + b"0," * (1024 * 1024 // 2 - 1) + b"0"  # 1 MiB of a JSON array that never closes
    statuses = []
    lock = threading.Lock()

    def send():
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=120) as conn:
                head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % args.path
                head += "Transfer-Encoding: chunked\r\n\r\n" if args.chunked else "Content-Length: %d\r\n\r\n" % size
                conn.sendall(head.encode())
                sent = 0
                try:
                    while sent < size:
                        piece = block[: min(len(block), size - sent)]
                        conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if args.chunked else piece)
                        sent += len(piece)
                    if args.chunked:
                        conn.sendall(b"0\r\n\r\n")
                except OSError:
                    pass  # the listener answered early and closed; its answer is still there to read
                status = status_line(conn)
        except OSError as error:
            status = "error: %s" % error
        with lock:
            statuses.append(status)

    before = resident(args.pid)[1] if args.pid else 0.0
    peak = [before]
    stop = threading.Event()

    def watch():
        while not stop.wait(0.05):
            if args.pid:
                peak[0] = max(peak[0], resident(args.pid)[1])
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    senders = [threading.Thread(target=send) for _ in range(args.count)]
    started = time.monotonic()
    for sender in senders:
        sender.start()
    prober_result = {}

    def probing():
        prober_result["value"] = probe(args.port, 3600, stop=done)
    done = threading.Event()
    prober = threading.Thread(target=probing)
    prober.start()
    for sender in senders:
        sender.join()
    done.set()
    prober.join()
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    stop.set()
    latencies, failures = prober_result["value"]
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    result = dict(summary(latencies), failures=failures[:5], failure_count=len(failures), statuses=counts, seconds=round(elapsed, 2))
    if args.pid:
        hwm, rss = resident(args.pid)
        result.update(rss_before_mib=round(before, 1), peak_rss_mib=round(max(peak[0], rss), 1), vm_hwm_mib=round(hwm, 1),
                      rss_after_mib=round(rss, 1))
    print(json.dumps(result))


def main():
    # A thousand connections are a thousand descriptors: take the hard limit, not a soft one of 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    held = commands.add_parser("connections")
    held.add_argument("--port", type=int, required=True)
    held.add_argument("--idle", type=int, default=500)
    held.add_argument("--slow", type=int, default=500)
    held.add_argument("--seconds", type=float, default=5.0)
    load = commands.add_parser("bodies")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--path", default="/metrics")
    load.add_argument("--count", type=int, default=32)
    load.add_argument("--megabytes", type=int, default=60)
    load.add_argument("--chunked", action="store_true")
    load.add_argument("--pid", type=int)
    args = parser.parse_args()
    connections(args) if args.command == "connections" else bodies(args)


if __name__ == "__main__":
    sys.exit(main())
