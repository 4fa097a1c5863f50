"""Read a py-spy raw profile (bench/results/profile-*.txt): where the busy time goes.

    .venv/bin/python -m bench.profile_report bench/results/profile-....txt [--focus on_send]

Prints the share of busy samples per function, inclusive (anywhere on the stack) and self
(the running frame), optionally only for stacks that pass through `--focus`.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def frame_name(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    marker = where.find("/app/")
    where = where[marker + 1:] if marker >= 0 else where.rsplit("/", 1)[-1]
    return f"{name} [{where}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--focus", default=None)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    inclusive, own = Counter(), Counter()
    total = 0
    for line in args.path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        if args.focus:
            hits = [i for i, f in enumerate(frames) if args.focus in f]
            if not hits:
                continue
            frames = frames[hits[0]:]
        n = int(count)
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    print(f"{total} samples" + (f" through {args.focus}" if args.focus else ""))
    print("inclusive:")
    for name, n in inclusive.most_common(args.top):
        print(f"  {100 * n / max(1, total):5.1f}%  {name}")
    print("self:")
    for name, n in own.most_common(args.top):
        print(f"  {100 * n / max(1, total):5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
