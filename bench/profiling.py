"""Sample a running server with py-spy and summarise where its time goes.

py-spy (``pip install py-spy``; not a project dependency) attaches to the server process
from outside, so the server runs unmodified. Under eventlet it sees the greenlet that is
running at each sample, which is what costs CPU.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start(process, slug: str):
    exe = _py_spy()
    if exe is None:
        print("py-spy is not installed: no profile", file=sys.stderr)
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"profile-{slug}.txt"
    popen = subprocess.Popen([exe, "record", "--pid", str(process.popen.pid), "--rate", "250",
                              "--format", "raw", "--output", str(out), "--nonblocking"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return popen, out


def stop(spy) -> dict:
    popen, out = spy
    popen.send_signal(signal.SIGINT)
    try:
        popen.wait(30)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(5)
    return summarise(out)


def summarise(path: Path, top: int = 25) -> dict:
    """Inclusive share of samples per function (each function counted once per stack)."""
    inclusive: Counter = Counter()
    total = 0
    idle = 0
    if not path.exists():
        return {"file": str(path), "samples": 0, "top": []}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if frames and "do_poll" in frames[-1]:
            idle += n
        for frame in set(frames):
            inclusive[_short(frame)] += n
    busy = max(1, total - idle)
    rows = [(name, round(100 * n / busy, 1)) for name, n in inclusive.most_common(top * 4)
            if "hub.py" not in name and "do_poll" not in name]
    return {"file": str(path), "samples": total, "idle_share": round(idle / max(1, total), 2),
            "top_busy_percent": rows[:top]}


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    marker = where.find("/app/")
    if marker >= 0:
        where = where[marker + 1:]
    else:
        where = where.rsplit("site-packages/", 1)[-1]
    return f"{name} ({where})"


if __name__ == "__main__":
    import json

    print(json.dumps(summarise(Path(sys.argv[1])), indent=2))
