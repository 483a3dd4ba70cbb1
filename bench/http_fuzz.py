"""The HTTP part of bench/fuzz.sh: mutated query strings (and, for one request in eight, a
body on a request the server must refuse: POST to a table that does not exist, PUT or PATCH
on a function) against the running server, over keep-alive connections. Any 5xx, and any
request lost to a connection the server closed without saying so, is a failure. Reads only: the mutated
requests cannot change a row (GET and HEAD on tables; writes only where they must fail)."""

import argparse
import random
import sys
import threading
import time

from drills import Client, print_outcomes, print_server_errors

WORKERS = 4
SEEDS = [
    ("hrms", "/employees", "select=first_name,last_name,job_title,departments(name)&status=eq.active&order=last_name"),
    ("hrms", "/employees", "select=id,email&or=(job_title.ilike.*sales*,salary.gt.50000,and(hired_on.gte.2020-01-01))"),
    ("hrms", "/employees", "select=*,d:departments!inner(*)&departments.name=in.(Sales,%22R%26D%22)&limit=5&offset=1"),
    ("hrms", "/departments", "select=name,employees(first_name,salary)&employees.order=salary.desc.nullslast"),
    ("chat", "/channels", "select=name,messages(body,sent_at)&messages.order=sent_at.desc&messages.limit=3"),
    ("chat", "/messages", "select=id,body::text,sent_at&body=fts(english).hello&id=gt.0&order=id.desc&limit=50"),
    ("chat", "/messages", "select=id&body=like(any).{*a*,b*}&sent_at=lt.2100-01-01&not.is_private=is.true"),
    ("pipeline", "/deals", "select=*&limit=10&order=id&id=not.in.(1,2)&columns=a,b"),
]
TOKENS = [
    "&",
    "=",
    ".",
    ",",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    ":",
    "::",
    "->",
    "->>",
    "!",
    "...",
    "*",
    "%",
    "%2C",
    "%22",
    "%E2%9C",
    "%zz",
    "%00",
    "+",
    "select=",
    "order=",
    "limit=",
    "offset=",
    "or=(",
    "and=(",
    "not.",
    "eq.",
    "in.(",
    "is.",
    "cs.{",
    "fts(",
    "(any)",
    "!inner",
    ".desc",
    "-1",
    "99999999999999999999",
    "é",
]
# Where a body must be refused: no such table (404), a function's wrong method (405).
REFUSED_WITH_BODY = [("POST", "/no_such_table"), ("PUT", "/rpc/no_such_function"), ("PATCH", "/rpc/x")]


def mutate(rng, text):
    data = bytearray(text.encode())
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(data))
        kind = rng.randrange(6)
        if kind == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[at:at] = bytes([rng.randrange(256)])
        elif kind == 2:
            del data[at : at + rng.randint(1, 16)]
        elif kind == 3:
            data[at:at] = data[at : at + rng.randint(1, 16)] * rng.randint(1, 32)
        elif kind == 4:
            data[at:at] = rng.choice(TOKENS).encode()
        else:
            other = rng.choice(SEEDS)[2].encode()
            start = rng.randint(0, len(other))
            data[at:at] = other[start : start + rng.randint(1, 64)]
    return data


def target(data):
    """The bytes as a request target: what no request line may carry (controls, space, DEL,
    non-ASCII, '#') is percent-encoded, everything else (a stray '%' too) goes as it is."""
    return "".join(chr(b) if 0x20 < b < 0x7F and b != ord("#") else f"%{b:02X}" for b in data)


def worker(index, args, outcomes, refused):
    rng = random.Random(args.seed * 1000 + index)
    client = Client(args.port)
    auth = {"Authorization": f"Bearer {args.token}"}
    for n in range(index, args.requests, WORKERS):
        profile, path, query = rng.choice(SEEDS)
        query = target(mutate(rng, query))
        if n % 8 == 7:
            method, path = rng.choice(REFUSED_WITH_BODY)
            headers = {**auth, "Content-Profile": profile, "Content-Type": "application/json"}
            outcome = client.request(method, f"{path}?{query}", '{"a": 1}', headers)
            refused.append(outcome)
        else:
            method = "HEAD" if n % 8 == 6 else "GET"
            outcome = client.request(method, f"{path}?{query}", None, {**auth, "Accept-Profile": profile})
        outcomes.append(outcome)
    client.close()
    return client.dropped_after


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--server-log", required=True)
    args = p.parse_args()

    outcomes, refused, dropped = [], [], []
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda i=i: dropped.append(worker(i, args, outcomes, refused))) for i in range(WORKERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started

    print(
        f"http fuzz: {len(outcomes)} requests (seed {args.seed}) in {elapsed:.1f} s, {WORKERS} keep-alive connections"
    )
    print_outcomes(outcomes)
    print(f"of which with a body where one must be refused: {len(refused)}, answered:")
    print_outcomes(refused, indent="    ")
    for d in dropped:
        for (method, status), n in d.items():
            print(f"  a connection closed without notice after a {method} answered {status}: {n}")
    print_server_errors(args.server_log)
    server_errors = sum(1 for o in outcomes if o.status is not None and o.status >= 500)
    problems = [f"{server_errors} 5xx answers"] * bool(server_errors)
    failed = sum(1 for o in outcomes if o.status is None)
    problems += [f"{failed} requests lost to a closed connection"] * bool(failed)
    print("RESULT: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
