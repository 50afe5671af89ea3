"""Start-up time and memory (issue 17), beside the floor of our stack and the code before, in one run.

On one private Xvfb, a stand-in chat client (its own process) has the focus. Each program is started
and `xdotool key ctrl+alt+1` is pressed every ~20 ms from the moment it is launched until the reply's
text lands in the chat client's box:

    floor   tests/benchmarks/startup_floor.py: bare PySide6 + python-xlib, grabs the key, pastes
    before  `python -m assistant` of main (git archive into a temp dir), its own copy of the data folder
    after   `python -m assistant` of this checkout

Printed per program: launch -> first paste (median of the rounds); for kefu, how long after that paste
full word search was ready (jieba and pypinyin loaded off the GUI thread: the log's line); RSS once
settled (3 s after the first paste: search fully loaded), RSS after a workload of 100 hotkey pastes (kefu: then 500 buyers' messages
searched through the suggestion hotkey and 50 buyers starred from the CLI, with their reminders); then first start on an empty
folder (launch -> "hotkeys registered" in the log: panel shown and searchable, hotkeys grabbed; and
launch -> "seeded N default replies"; launch -> full word search, which on a first start waits for
the lexicon a child process builds), and the
CLI (`kefu replies search 催单` and `kefu paste wh2` beside `kefu replies show wh2`: wall time and max
RSS). Warm caches: one
discarded round first. Children write their bytecode under a temp PYTHONPYCACHEPREFIX (the checkout
stays clean).

Run:  python tests/benchmarks/bench_startup.py [ROUNDS]      (CI: pytest -m benchmark)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.helpers import desktop  # noqa: E402
from tests.helpers.xvfb import start_xvfb  # noqa: E402

ROUNDS = 3
CHORD = "ctrl+alt+1"
SUGGEST_CHORD = "ctrl+alt+s"  # replies for the message selected in the chat client
SEARCHES, STARS = 500, 50     # issue 17's workload, with the 100 pastes
MESSAGES = ["亲 我的退款多久能到账啊", "请问这个优惠券可以叠加使用吗", "什么时候发货 能发顺丰吗", "衣服有色差可以退货吗 运费谁出",
            "这款保温杯能保温多久", "我买大了能换小一码吗", "赠品没收到 怎么回事", "包郵嗎 幾天能到", "质量太差了 穿一次就开线了",
            "双十一会更便宜吗"]
FLOOR = Path(__file__).with_name("startup_floor.py")
TARGET_LAUNCH_MS, TARGET_RSS_MB, TARGET_EMPTY_MS, TARGET_WORDS_MS = 400, 120, 1000, 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def old_tree(dest: Path, ref: str = "main") -> Path | None:
    """main's tree, exported (no .git): the before column. None outside a git checkout."""
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


class Bench:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.xvfb = start_xvfb()
        self.env = self.xvfb.env()
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode: warm, realistic
        self.env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
        self.env.pop("KEFU_HOME", None)
        self.chat = desktop.start_chat_client(self.xvfb, workdir)

    def close(self) -> None:
        self.chat.stop()
        self.xvfb.stop()

    def app_argv(self, src: Path) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-m", "assistant"], {**self.env, "PYTHONPATH": str(src)}

    def launch_to_paste(self, argv: list[str], env: dict[str, str], cwd: Path, body: str,
                        timeout: float = 30.0) -> tuple[float, subprocess.Popen]:
        self.chat.clear()
        desktop.focus_window(self.xvfb, self.chat.window)
        self.launched_wall = time.time()  # the log's clock, for word_search_ready()
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while time.monotonic() - t0 < timeout:
                subprocess.run(["xdotool", "key", CHORD], env=self.xvfb.env(), check=True, timeout=10)
                state = self.chat.wait(lambda s: body in s["text"], timeout=0.02)
                if body in state["text"]:
                    return (state["t"] - t0) * 1000, proc
                if proc.poll() is not None:
                    raise AssertionError(f"{argv} exited {proc.returncode} before pasting")
            raise AssertionError(f"{argv}: no paste within {timeout} s")
        except BaseException:
            stop(proc)
            raise

    def workload(self, body: str, pastes: int = 100) -> int:
        """Hotkey pastes into the chat client; returns how many were wrong."""
        wrong = 0
        for _ in range(pastes):
            self.chat.clear()
            desktop.press(self.xvfb, CHORD)
            state = self.chat.wait(lambda s: s["text"] == body, timeout=3.0)
            wrong += state["text"] != body
        return wrong

    def agent_workload(self, env: dict[str, str], cwd: Path, searches: int = SEARCHES, stars: int = STARS) -> None:
        """The rest of issue 17's workload, for kefu only: buyers' messages selected in the chat client
        and searched through the suggestion hotkey (Chinese: jieba, pypinyin and OpenCC at work), then
        buyers starred from the CLI, whose chase reminders the running panel picks up and schedules."""
        for i in range(searches):
            desktop.focus_window(self.xvfb, self.chat.window)  # the copy chord reads the focused window
            message = f"{MESSAGES[i % len(MESSAGES)]} {i}"
            self.chat.command(f"select {message}")
            self.chat.wait(lambda s, m=message: s["text"] == m, timeout=3.0)
            desktop.press(self.xvfb, SUGGEST_CHORD)
            time.sleep(0.03)
        for i in range(stars):
            subprocess.run([sys.executable, "-m", "assistant", "buyers", "star", f"bench_buyer_{i}",
                            "--platform", "taobao", "--mark", "咨询未付款"], env=env, cwd=str(cwd), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, check=True, timeout=60)
        time.sleep(2.0)  # the panel sees the new buyers and schedules their reminders
        desktop.focus_window(self.xvfb, self.chat.window)

    def run_program(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, body: str,
                    with_workload: bool) -> dict:
        ms, proc = self.launch_to_paste(argv, env, cwd, body)
        try:
            time.sleep(3.0)  # search fully ready (jieba/pypinyin/OpenCC), deferred work done
            settled = rss_mb(proc.pid)
            words = word_search_ready(Path(env["KEFU_HOME"]), self.launched_wall) if "KEFU_HOME" in env else None
            wrong = self.workload(body) if with_workload else 0
            if with_workload and name != "floor":
                self.agent_workload(env, cwd)
            after = rss_mb(proc.pid) if with_workload else float("nan")
        finally:
            stop(proc)
        return {"name": name, "ms": ms, "rss": settled, "rss_work": after, "wrong": wrong,
                "words": words - ms if words is not None else float("nan")}

    def empty_start(self, src: Path, data: Path, timeout: float = 30.0) -> tuple[float, float, float]:
        """(launch -> hotkeys registered, launch -> default library seeded, launch -> full word search), ms."""
        argv, env = self.app_argv(src)
        env = {**env, "KEFU_HOME": str(data)}
        log = desktop.log_file(data)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=str(src), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        seen: dict[str, float] = {}
        try:
            while time.monotonic() - t0 < timeout:
                text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
                for needle in (desktop.READY_MARKER, "seeded "):
                    if needle in text and needle not in seen:
                        seen[needle] = (time.monotonic() - t0) * 1000
                if len(seen) == 2:
                    break
                time.sleep(0.005)
            else:
                raise AssertionError(f"first start: only {sorted(seen)} logged within the timeout")
            # A first start builds the lexicon in a child process (~2 s of CPU) before word search is
            # ready; waiting for it also keeps that child from running beside the next run's start.
            while time.monotonic() - t0 < timeout + 30:
                if desktop.SEARCH_READY_MARKER in log.read_text(encoding="utf-8", errors="replace"):
                    break
                time.sleep(0.005)
            else:
                raise AssertionError("first start: full word search never became ready")
            words = (time.monotonic() - t0) * 1000
            return seen[desktop.READY_MARKER], seen["seeded "], words
        finally:
            stop(proc)


def word_search_ready(data: Path, launched_wall: float) -> float | None:
    """Launch -> full word search ready (jieba and pypinyin loaded, off the GUI thread), ms, from the
    panel's log (asctime: local time, ms resolution); None if that start never logged it."""
    log = desktop.log_file(data)
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    for line in text.splitlines():
        if desktop.SEARCH_READY_MARKER not in line:
            continue
        stamp, _, millis = line[:23].partition(",")
        at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
        if at >= launched_wall - 0.001:  # earlier rounds logged into the same file
            return (at - launched_wall) * 1000
    return None


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# The CLI run as `python -m assistant ARGS`, printing its own peak RSS (VmHWM of its memory map) at exit:
# the child's rusage would also count the memory of the process it was forked from.
CLI_WRAPPER = ("import atexit, runpy, sys\n"
               "def hwm():\n"
               "    for line in open('/proc/self/status'):\n"
               "        if line.startswith('VmHWM:'):\n"
               "            sys.stderr.write('VMHWM ' + line.split()[1] + '\\n')\n"
               "atexit.register(hwm)\n"
               "sys.argv = ['kefu', *sys.argv[1:]]\n"
               "runpy.run_module('assistant', run_name='__main__', alter_sys=True)\n")


def cli_run(src: Path, data: Path, args: list[str], pycache: Path, extra_env: dict | None = None
            ) -> tuple[float, float]:
    """Wall ms and peak RSS MB of `python -m assistant ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(src), "KEFU_HOME": str(data), "PYTHONPYCACHEPREFIX": str(pycache),
           **(extra_env or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CLI_WRAPPER, *args], env=env, cwd=str(src),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    ms = (time.monotonic() - t0) * 1000
    assert proc.returncode == 0, f"{args} exited {proc.returncode}: {proc.stderr[-500:]}"
    peak = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("VMHWM ")]
    return ms, peak[-1] / 1024


def seed_with(src: Path, data: Path) -> str:
    """The default library with wh2 on the chord, written by the tree at src; wh2's body."""
    code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from tests.helpers import desktop;"
            f"print(json.dumps(desktop.seed_data_dir(Path(sys.argv[2]), {{'wh2': {CHORD.title()!r}}})['wh2']['body']))")
    env = {**os.environ, "PYTHONPATH": str(src), "KEFU_HOME": str(data)}
    out = subprocess.run([sys.executable, "-c", code, str(src), str(data)], env=env, cwd=str(src),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(rounds: int = ROUNDS) -> dict:
    desktop.require_desktop_tools()
    tmp = tempfile.TemporaryDirectory(prefix="kefu-startup-")
    workdir = Path(tmp.name)
    bench = None
    try:
        old = old_tree(workdir / "before")
        sources = {"after": REPO} if old is None else {"before": old, "after": REPO}
        data, bodies = {}, {}
        for name, src in sources.items():  # each tree seeds its own folder: main may not read a newer schema
            data[name] = workdir / f"data-{name}"
            data[name].mkdir(mode=0o700)
            bodies[name] = seed_with(src, data[name])
        body = bodies["after"]
        bench = Bench(workdir)
        results: dict[str, list[dict]] = {"floor": [], **{name: [] for name in sources}}
        for i in range(rounds + 1):  # round 0 warms caches (bytecode, lexicon / jieba.cache) and is dropped
            got = [bench.run_program("floor", [sys.executable, str(FLOOR), CHORD, body], bench.env, REPO, body,
                                     with_workload=i == rounds)]
            for name, src in sources.items():
                argv, env = bench.app_argv(src)
                got.append(bench.run_program(name, argv, {**env, "KEFU_HOME": str(data[name])}, src, bodies[name],
                                             with_workload=i == rounds))
            if i:
                for row in got:
                    results[row["name"]].append(row)
        empty = {}
        for name, src in sources.items():
            times = [bench.empty_start(src, workdir / f"empty-{name}-{i}") for i in range(rounds)]
            empty[name] = tuple(statistics.median(t[k] for t in times) for k in range(3))
        cli = {}
        for name, src in sources.items():
            runs: dict[str, list] = {"show": [], "search": [], "paste": []}
            # `kefu paste` (desktop shortcuts) puts the text on the Xvfb's clipboard through xclip
            display = {k: bench.env[k] for k in ("DISPLAY", "XAUTHORITY") if k in bench.env}
            for _ in range(rounds + 1):
                runs["show"].append(cli_run(src, data[name], ["replies", "show", "wh2"], workdir / "pycache"))
                runs["search"].append(cli_run(src, data[name], ["replies", "search", "催单"], workdir / "pycache"))
                runs["paste"].append(cli_run(src, data[name], ["paste", "wh2"], workdir / "pycache", display))
            cli[name] = {k: (statistics.median(ms for ms, _ in v[1:]), max(mb for _, mb in v[1:]))
                         for k, v in runs.items() if v}
        return {"rounds": rounds, "results": results, "empty": empty, "cli": cli}
    finally:
        if bench is not None:
            bench.close()
        tmp.cleanup()


def report(m: dict) -> str:
    lines = [f"start-up, {m['rounds']} rounds (medians), launch -> first hotkey paste in a separate window:",
             f"  {'program':<8} {'launch->paste':>14} {'words ready after':>18} {'RSS settled':>12} "
             f"{'RSS after workload':>21} {'wrong':>6}"]
    for name, rows in m["results"].items():
        ms = statistics.median(r["ms"] for r in rows)
        words = statistics.median(r["words"] for r in rows)
        rss = statistics.median(r["rss"] for r in rows)
        work = [r["rss_work"] for r in rows if r["rss_work"] == r["rss_work"]]
        shown = f"{words:>+15.0f} ms" if words == words else f"{'-':>18}"
        lines.append(f"  {name:<8} {ms:>11.0f} ms {shown} {rss:>9.1f} MB "
                     f"{(work[0] if work else float('nan')):>18.1f} MB {sum(r['wrong'] for r in rows):>6}")
    lines.append(f"  targets: launch -> paste <= {TARGET_LAUNCH_MS} ms; full word search ready <= "
                 f"{TARGET_WORDS_MS} ms after it (the log's '{desktop.SEARCH_READY_MARKER}'); RSS <= {TARGET_RSS_MB} MB")
    lines.append(f"first start on an empty folder (target: usable <= {TARGET_EMPTY_MS} ms):")
    for name, (ready, seeded, words) in m["empty"].items():
        lines.append(f"  {name:<8} panel shown, hotkeys registered {ready:>6.0f} ms; default library seeded "
                     f"{seeded:>6.0f} ms; full word search (lexicon built) {words:>6.0f} ms")
    lines.append("CLI (medians; max RSS):")
    for name, runs in m["cli"].items():
        show, search, paste = runs["show"], runs["search"], runs["paste"]
        lines.append(f"  {name:<8} replies show {show[0]:.0f} ms / {show[1]:.0f} MB; replies search 催单 "
                     f"{search[0]:.0f} ms / {search[1]:.0f} MB ({search[0] / show[0]:.2f}x show; target <= 2x, "
                     f"<= {TARGET_RSS_MB} MB); paste wh2 {paste[0]:.0f} ms / {paste[1]:.0f} MB "
                     f"({paste[0] / show[0]:.2f}x show; target: as fast)")
    return "\n".join(lines)


@pytest.mark.benchmark
def test_startup():
    m = measure(1)
    print("\n" + report(m))
    assert all(r["wrong"] == 0 for rows in m["results"].values() for r in rows)
    # every kefu start logged its full word search (the figure itself is printed, not asserted)
    assert all(r["words"] == r["words"] for name, rows in m["results"].items() if name != "floor" for r in rows)


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)), flush=True)
