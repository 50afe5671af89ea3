"""The processes of the team-sync benchmark (tests/benchmarks/bench_team_sync.py), started with
multiprocessing's spawn: simulated agents (the real SyncClient without Qt, each with its own SQLite
file and its own LISTEN connection) and the background writer.

The measured reply's body ends in `#N` (the supervisor's N-th edit): an agent records time.time()
right after the local transaction that brought edit N (or a newer one) commits."""

from __future__ import annotations

import random
import select
import threading
import time
from pathlib import Path
from typing import Any

POLL_SECONDS = 5.0  # the polling fallback, as in a panel: a NOTIFY only wakes the puller


def edit_number(body: str) -> int:
    return int(body.rsplit("#", 1)[1])


class _Agent:
    def __init__(self, name: str, conninfo: str, role: str, folder: Path, measured: str) -> None:
        import psycopg

        from assistant.core import settings
        from assistant.core.store import Store
        from assistant.team import sync

        self.name = name
        self.store = Store(folder / f"{name}.db")
        settings.set(self.store, "team.server", "postgresql://127.0.0.1/bench")
        settings.set(self.store, "team.role", role)
        self.measured = measured
        self.last = -1
        self.seen: dict[int, float] = {}  # edit number -> when it (or a newer one) landed here
        self.pulls = 0
        self.client = sync.SyncClient(self.store, lambda: psycopg.connect(conninfo), run_write=self._run_write)
        self.client.sync()
        self.listener = psycopg.connect(conninfo, autocommit=True)
        sync.listen(self.listener)
        self.pulled_at = time.monotonic()

    def _run_write(self, fn):
        out = fn(self.store)
        now = time.time()  # the local transaction has committed
        rows = self.store.query("SELECT body FROM replies WHERE uuid = ?", (self.measured,))
        if rows:
            n = edit_number(rows[0]["body"])
            for k in range(self.last + 1, n + 1):
                self.seen[k] = now
            self.last = max(self.last, n)
        return out

    def pull(self) -> None:
        self.client.pull()
        self.pulls += 1
        self.pulled_at = time.monotonic()

    def rows(self) -> dict[str, tuple]:
        return {r["uuid"]: (r["title"], r["body"], r["code"], r["shop_version"]) for r in self.store.query(
            "SELECT uuid, title, body, code, shop_version FROM replies WHERE shop IS NOT NULL")}

    def close(self) -> None:
        self.listener.close()
        self.client.close()
        self.store.close()


def agents_main(agents: list[tuple[str, str, str]], folder: str, measured: str, ready, results, stop) -> None:
    """~10 agents in one process: select() on their LISTEN sockets, drain, pull."""
    from assistant.team import sync

    crew = [_Agent(name, conninfo, role, Path(folder), measured) for name, conninfo, role in agents]
    by_fd = {a.listener.fileno(): a for a in crew}
    ready.put(len(crew))
    while not stop.is_set():
        readable, _, _ = select.select(list(by_fd), [], [], 0.2)
        for fd in readable:
            agent = by_fd[fd]
            if sync.drain(agent.listener):
                agent.pull()
        now = time.monotonic()
        for agent in crew:
            if now - agent.pulled_at > POLL_SECONDS:
                agent.pull()
    for agent in crew:  # the writers have stopped: catch up, then report
        sync.drain(agent.listener)
        agent.pull()
        results.put((agent.name, agent.seen, agent.rows(), agent.pulls))
        agent.close()


def writer_main(conninfo: str, same_shop: str, other_shop: str, pool: list[str], rate, written, stop,
                threads: int = 4, same_share: float = 0.1) -> None:
    """Background writes as another supervisor, one transaction each, at rate.value writes/s over
    `threads` connections: mostly inserts into a shop none of the agents serves; `same_share` of them
    in the agents' shop (half inserts, half updates of `pool`), which every agent pulls."""
    import psycopg

    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            due = time.monotonic()
            n = 0
            while not stop.is_set():
                r = rate.value
                if r <= 0:
                    time.sleep(0.05)
                    due = time.monotonic()
                    continue
                due += threads / r
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                elif pause < -1:
                    due = time.monotonic()  # fell behind by a second: do not burst to catch up
                n += 1
                if rng.random() >= same_share:
                    conn.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, %s, %s)",
                                 [other_shop, f"bg{seed}-{n}", f"背景{seed}-{n}"])
                elif rng.random() < 0.5:
                    conn.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, %s, %s)",
                                 [same_shop, f"同店{seed}-{n}", f"同店话术{seed}-{n}"])
                else:
                    conn.execute("UPDATE shop_replies SET body = %s, version = version + 1 WHERE id = %s",
                                 [f"改{seed}-{n}", rng.choice(pool)])
                with lock:
                    written.value += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(samples: list[float]) -> dict[str, Any]:
    return {"n": len(samples), "p50": percentile(samples, 0.5), "p95": percentile(samples, 0.95),
            "p99": percentile(samples, 0.99), "max": max(samples)}
