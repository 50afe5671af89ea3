"""kill -9 while writing: every acknowledged reply survives and the file stays intact."""

import os
import random
import signal
import subprocess
import sys
import time

from assistant.core import replies
from assistant.core.store import open_store

WRITER = r"""
import sys
from assistant.core.store import open_store
from assistant.core import replies
store = open_store(sys.argv[1])
start = int(sys.argv[2])
i = start
while True:
    r = replies.create_reply(store, body=f"催单话术 {i}：今天下单送{{赠品}}，明天就能发货" * 3,
                             code=f"k{i}", group=f"批次{i % 7}/子{i % 3}")
    if i % 5 == 0:
        replies.update_reply(store, r.id, body=f"改过的内容 {i}")
    # Acknowledge only after the transaction committed.
    sys.stdout.write(f"{i}\n")
    sys.stdout.flush()
    i += 1
"""


def test_kill_dash_nine_during_writes_loses_nothing_acknowledged(tmp_path):
    db = tmp_path / "kefu.db"
    open_store(db).close()
    acknowledged: set[int] = set()
    rng = random.Random(1234)
    rounds = 12
    for round_no in range(rounds):
        # A killed writer may have committed one row it never acknowledged: start each round on
        # fresh codes so that row cannot collide.
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(round_no * 100_000)],
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert proc.stdout is not None
        wanted = rng.randint(3, 40)
        seen = 0
        deadline = time.monotonic() + 60
        while seen < wanted and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged.add(int(line))
            seen += 1
        time.sleep(rng.random() * 0.05)  # kill at an arbitrary point of the next write
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()  # lines printed before death were acknowledged too
        acknowledged.update(int(x) for x in rest.split())
        proc.stdout.close()
        proc.wait()
        assert seen > 0, "writer produced nothing"

    store = open_store(db)
    try:
        assert store.integrity_check() == ["ok"]
        codes = {r["code"] for r in store.query("SELECT code FROM replies")}
        missing = [i for i in acknowledged if f"k{i}" not in codes]
        assert not missing, f"{len(missing)} acknowledged rows lost"
        for i in acknowledged:
            if i % 5 == 0:
                assert replies.get_reply(store, f"k{i}").body == f"改过的内容 {i}"
        # The writer died between acknowledgements, never half-way into a reply.
        assert store.query("SELECT count(*) AS n FROM replies WHERE body = ''")[0]["n"] == 0
        print(f"\n{rounds} kills, {len(acknowledged)} acknowledged rows, all present")
    finally:
        store.close()
