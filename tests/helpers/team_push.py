"""A supervisor's panel pushing its outbox, as a child process a test can kill -9 at any moment
(tests/team/test_sync_crash.py). Run as `python -m tests.helpers.team_push STORE PUSH_BATCH` with
KEFU_TEST_CONNINFO in the environment (the password stays out of the process list).

Prints `ready` once the store is open and the server connection is up, `committed` when the server
has committed a batch and the local acknowledgement is about to start (it then waits
KEFU_TEST_ACK_PAUSE seconds, a slow disk, so a kill can be aimed between the two), one line per
batch pushed, `batch PUSHED DUPLICATES CONFLICTS`, and `done` when the outbox is empty."""

from __future__ import annotations

import os
import sys
import time


def main(path: str, push_batch: int) -> None:
    import psycopg

    from assistant.core import outbox
    from assistant.core.store import Store
    from assistant.team import sync

    conninfo = os.environ["KEFU_TEST_CONNINFO"]
    store = Store(path)
    pause = float(os.environ.get("KEFU_TEST_ACK_PAUSE", "0"))

    def run_write(fn):  # push() calls it once per batch, after the server's commit
        print("committed", flush=True)
        time.sleep(pause)
        return fn(store)

    client = sync.SyncClient(store, lambda: psycopg.connect(conninfo), run_write=run_write,
                             push_batch=push_batch)
    client.conn  # noqa: B018 - connect now, so `ready` means the next step is a push
    print("ready", flush=True)
    while outbox.size(store):
        result = client.push()
        print(f"batch {result.pushed} {result.duplicates} {result.conflicts}", flush=True)
    print("done", flush=True)
    client.close()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
