"""What the drills share: a keep-alive HTTP/1.1 connection per worker that opens a new one
after a failure, the outcome of each request in one word (its status, or how the connection
failed), the tables they print, and psql for the rows they check."""

import collections
import http.client
import json
import subprocess
import time


class Outcome(collections.namedtuple("Outcome", "started finished status error retry_after")):
    """status is the HTTP status, or None when the connection failed (error says how)."""

    @property
    def word(self):
        return str(self.status) if self.status is not None else f"connection: {self.error}"

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


class Client:
    """One connection to 127.0.0.1:port, kept alive across requests as a browser or a pooled
    HTTP client would. A connection the server closes after a response without saying so
    (no `Connection: close`) fails the *next* request; `dropped_after` names that response."""

    def __init__(self, port, timeout=15):
        self.port, self.timeout = port, timeout
        self.connection = None
        self.last = None  # (method, status) of the previous response on this connection
        self.dropped_after = collections.Counter()

    def request(self, method, target, body=None, headers=None):
        started = time.monotonic()
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.last = None
        try:
            self.connection.request(method, target, body=body, headers=headers or {})
            response = self.connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError) as e:
            if self.last is not None:
                self.dropped_after[self.last] += 1
            self.close()
            return Outcome(started, time.monotonic(), None, type(e).__name__, None)
        self.last = (method, response.status)
        if response.will_close:
            self.close()  # the server said so: not a dropped connection
        return Outcome(started, time.monotonic(), response.status, None, response.getheader("Retry-After"))

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def count_outcomes(outcomes):
    """'201': 1200, '503': 4, 'connection: RemoteDisconnected': 1 ..., in that order."""
    return collections.Counter(o.word for o in outcomes)


def print_outcomes(outcomes, indent="  "):
    """Counts by status; every 5xx says whether it carried Retry-After, and 500s are flagged."""
    counts = count_outcomes(outcomes)
    for word in sorted(counts, key=lambda w: (not w[0].isdigit(), w)):
        line = f"{indent}{word}: {counts[word]}"
        if word.startswith("5"):
            with_retry = sum(1 for o in outcomes if o.word == word and o.retry_after is not None)
            line += f" (with Retry-After: {with_retry})"
        if word == "500":
            line += "   <-- 500: a server fault, not an unavailable database"
        print(line)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def print_server_errors(log_path, indent="  "):
    """The server's own account of its 5xx answers (its JSON log): counts by status and cause."""
    causes = collections.Counter()
    with open(log_path) as log:
        for line in log:
            try:
                fields = json.loads(line).get("fields", {})
            except ValueError:
                continue
            if fields.get("message") == "request failed":
                causes[(fields.get("status"), fields.get("cause") or "")] += 1
    if causes:
        print("server log, 5xx answers by cause:")
    for (status, cause), n in causes.most_common(10):
        print(f"{indent}{n} x {status}: {cause[:160]}")


def psql(sql):
    """The superuser's answer, unaligned (PGPORT and the rest come from the environment)."""
    return subprocess.run(["psql", "-X", "-Atc", sql], check=True, capture_output=True, text=True).stdout
