"""The soak's traffic and report (bench/soak.sh sets up the server and calls this): a fixed
request rate of mixed reads and writes for a while, sampling the server's memory (VmRSS) and
open file descriptors, then counts by status, latency by third of the run, and the samples."""

import argparse
import json
import os
import sys
import threading
import time

from drills import Client, percentile, print_outcomes, print_server_errors, psql

WORKERS = 4
# Out of every 20 requests, 17 reads (the list below in turn), then a POST of a message, a
# PATCH of it and a DELETE of it: writes go through every path without growing the table.
READS = [
    (
        "hrms",
        "/employees?select=first_name,last_name,job_title,departments(name)&status=eq.active&order=last_name&limit=20",
        {},
    ),
    (
        "hrms",
        "/employees?select=id,email&or=(job_title.ilike.*sales*,salary.gt.50000)",
        {"Prefer": "count=exact", "Range": "0-9"},
    ),
    ("chat", "/channels?select=name,messages(body,sent_at)&messages.order=sent_at.desc&messages.limit=3", {}),
    ("chat", "/messages?select=id,body&order=id.desc&limit=50", {}),
    ("pipeline", "/deals?select=*&limit=10", {}),
]


def request_for(k, worker, args):
    """The k-th request of a worker: (method, target, body, headers)."""
    auth = {"Authorization": f"Bearer {args.token}"}
    slot = k % 20
    marker = f"soak-{args.run}-w{worker}-n{k // 20}"
    if slot < 17:
        profile, target, extra = READS[(k + worker) % len(READS)]
        return "GET", target, None, {**auth, "Accept-Profile": profile, **extra}
    write = {**auth, "Content-Profile": "chat", "Content-Type": "application/json", "Prefer": "return=minimal"}
    if slot == 17:
        return "POST", "/messages", json.dumps({"channel_id": args.channel, "body": marker}), write
    if slot == 18:
        return "PATCH", f"/messages?body=eq.{marker}", json.dumps({"body": f"{marker}-edited"}), write
    return "DELETE", f"/messages?body=eq.{marker}-edited", None, write


def worker(index, args, start, outcomes):
    """Requests index, index + WORKERS, ... each at its time on the schedule (start + n / rate):
    a fixed rate, not as fast as the server answers."""
    client = Client(args.port)
    k = 0
    while True:
        due = start + (k * WORKERS + index) / args.rate
        if due >= start + args.seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        method, target, body, headers = request_for(k, index, args)
        outcomes.append(client.request(method, target, body, headers))
        k += 1
    client.close()


def sample(pid):
    """(VmRSS in MB, open file descriptors) of the server."""
    with open(f"/proc/{pid}/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    p = argparse.ArgumentParser()
    for name in ("--token", "--channel", "--run", "--server-log"):
        p.add_argument(name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--sample-every", type=float, default=5)
    args = p.parse_args()

    outcomes, samples = [], []
    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i, args, start, outcomes)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        samples.append((time.monotonic() - start, *sample(args.pid)))
        time.sleep(args.sample_every)
    for t in threads:
        t.join()
    samples.append((time.monotonic() - start, *sample(args.pid)))

    # each POST is PATCHed then DELETEd by the same worker: only chains the end cut short remain
    left = psql(f"DELETE FROM chat.messages WHERE body LIKE 'soak-{args.run}-%' RETURNING 1").count("1")
    ok = report(args, start, outcomes, samples, left)
    print_server_errors(args.server_log)
    sys.exit(0 if ok else 1)


def report(args, start, outcomes, samples, left):
    elapsed = max(o.finished for o in outcomes) - start
    print(
        f"soak: {len(outcomes)} requests in {elapsed:.0f} s ({len(outcomes) / elapsed:.1f}/s, asked {args.rate:g}/s), "
        f"{WORKERS} keep-alive connections, 85 % reads, 15 % writes (POST, PATCH, DELETE); by outcome:"
    )
    print_outcomes(outcomes)
    thirds = [[], [], []]
    for o in outcomes:
        thirds[min(2, int(3 * (o.started - start) / args.seconds))].append(1000 * (o.finished - o.started))
    print(
        "latency ms, p50 / p99 by third of the run: "
        + ", ".join(f"{percentile(sorted(t), 0.5):.1f} / {percentile(sorted(t), 0.99):.1f}" for t in thirds)
    )
    rss = [s[1] for s in samples]
    middle = samples[len(samples) // 2]
    print(
        f"server RSS MB: start {rss[0]:.1f}, middle {middle[1]:.1f} (at {middle[0]:.0f} s), end {rss[-1]:.1f}, "
        f"max {max(rss):.1f} ({len(samples)} samples every {args.sample_every:g} s); "
        f"open fds: start {samples[0][2]}, end {samples[-1][2]}"
    )
    print(f"messages left by the write chains (each POST is PATCHed, then DELETEd; the end may cut {WORKERS}): {left}")
    errors = sum(1 for o in outcomes if not o.ok)
    print("RESULT: " + ("PASS" if errors == 0 else f"FAIL: {errors} requests not answered 2xx"))
    return errors == 0


if __name__ == "__main__":
    main()
