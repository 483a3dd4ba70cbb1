"""The restart drill's traffic and verdict (bench/restart_drill.sh sets up the server and
calls this): writers POST chat messages, each body unique ("drill <run> w<writer> n<seq>"),
while PostgreSQL restarts; then every acknowledged body must be a row."""

import argparse
import json
import shlex
import subprocess
import sys
import threading
import time

from drills import Client, print_outcomes, print_server_errors, psql

# After a failed request a writer waits this long: the retry loop stays fine-grained enough to
# time the recovery, without spinning on a server that answers 503 at once.
PAUSE_AFTER_FAILURE = 0.01


def writer(index, args, deadline, outcomes, acknowledged):
    client = Client(args.port)
    headers = {
        "Authorization": f"Bearer {args.token}",
        "Content-Profile": "chat",
        "Content-Type": "application/json",
        "Prefer": "return=minimal",
    }
    seq = 0
    while time.monotonic() < deadline:
        body = f"drill {args.run} w{index} n{seq}"
        seq += 1
        outcome = client.request("POST", "/messages", json.dumps({"channel_id": args.channel, "body": body}), headers)
        outcomes.append(outcome)
        if outcome.status == 201:
            acknowledged.append(body)
        elif not outcome.ok:
            time.sleep(PAUSE_AFTER_FAILURE)
    client.close()
    return client.dropped_after


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--channel", required=True)
    p.add_argument("--run", required=True, help="names this run's rows")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--restart-at", type=float, default=8)
    p.add_argument("--restart-command", required=True)
    p.add_argument("--server-log", required=True)
    args = p.parse_args()

    outcomes, acknowledged, dropped = [], [], []
    start = time.monotonic()
    deadline = start + args.seconds
    threads = [
        threading.Thread(target=lambda i=i: dropped.append(writer(i, args, deadline, outcomes, acknowledged)))
        for i in range(args.writers)
    ]
    for t in threads:
        t.start()
    time.sleep(max(0.0, start + args.restart_at - time.monotonic()))
    restart_began = time.monotonic()
    subprocess.run(shlex.split(args.restart_command), check=True, stdout=subprocess.DEVNULL)
    back_up = time.monotonic()
    for t in threads:
        t.join()

    found = psql(
        f"SELECT body FROM chat.messages WHERE tenant_id = '{args.tenant}' AND body LIKE 'drill {args.run} %'"
    ).split("\n")
    found = [b for b in found if b]
    verdict = report(args, start, restart_began, back_up, outcomes, acknowledged, found, dropped)
    print_server_errors(args.server_log)
    psql(f"DELETE FROM chat.messages WHERE body LIKE 'drill {args.run} %'")
    sys.exit(0 if verdict else 1)


def longest_gap_without_success(outcomes, since):
    """(from, to): the longest stretch after `since` in which no request succeeded, ending at the
    first success after it; None when none succeeded after `since`."""
    successes = sorted(o.finished for o in outcomes if o.ok and o.finished > since)
    if not successes:
        return None
    return max(zip([since] + successes, successes), key=lambda pair: pair[1] - pair[0])


def report(args, start, restart_began, back_up, outcomes, acknowledged, found, dropped):
    def rel(t):  # seconds since the run began
        return t - start

    acked, rows = set(acknowledged), set(found)
    lost = acked - rows
    duplicates = len(found) - len(rows)
    failures = [o for o in outcomes if not o.ok]
    print(
        f"restart drill: {args.writers} writers for {args.seconds:.0f} s; PostgreSQL restarted "
        f"(pg_ctl restart -m fast) at {rel(restart_began):.2f} s, accepting again at {rel(back_up):.2f} s "
        f"({back_up - restart_began:.2f} s)"
    )
    print(f"requests: {len(outcomes)} ({len(outcomes) / args.seconds:.0f}/s), by outcome:")
    print_outcomes(outcomes)
    for d in dropped:
        for (method, status), n in d.items():
            print(f"  a connection closed without notice after a {method} answered {status}: {n}")
    print(
        f"acknowledged writes (201): {len(acked)}; rows found: {len(rows)}; lost: {len(lost)}; "
        f"duplicated: {duplicates}; rows whose request got no 201 (committed, answer lost): {len(rows - acked)}"
    )
    if failures:
        print(
            f"failed requests: {len(failures)}, finished between {rel(min(o.finished for o in failures)):.2f} s "
            f"and {rel(max(o.finished for o in failures)):.2f} s"
        )
    gap = longest_gap_without_success(outcomes, restart_began)
    if gap:
        # pg_ctl polls, so the server may well be writing again before pg_ctl says PostgreSQL is up
        print(
            f"recovery: writes unavailable {gap[1] - gap[0]:.2f} s (no 201 from {rel(gap[0]):.2f} s to "
            f"{rel(gap[1]):.2f} s); that first 201 came {1000 * (gap[1] - back_up):+.0f} ms from pg_ctl's 'up'"
        )
    problems = []
    if lost:
        problems.append(f"{len(lost)} acknowledged writes lost, e.g. {sorted(lost)[:3]}")
    if duplicates:
        problems.append(f"{duplicates} duplicated rows")
    if any(o.status == 500 for o in outcomes):
        problems.append("500 answers (a restart should be 503 with Retry-After)")
    if any(o.status == 503 and o.retry_after is None for o in outcomes):
        problems.append("503 without Retry-After")
    if any(o.status is None for o in outcomes):
        problems.append("connections failed")
    if not gap:
        problems.append("no write succeeded after the restart")
    print("RESULT: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
    return not problems


if __name__ == "__main__":
    main()
