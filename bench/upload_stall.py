"""A large photo's upload against the chat messages on the same server.

    .venv/bin/python -m bench.upload_stall [--postgres postgresql://postgres@127.0.0.1/postgres]

The real server (``python wsgi.py``, eventlet: one thread runs every request and socket) on
the demo desk, SQLite and, with ``--postgres``, PostgreSQL (a database of its own, dropped
afterwards). An end user and agent alice are in a chat; the end user sends a message every
20 ms and each round trip (his ``send`` → alice's ``message``) is timed. First alone, then
while the same end user uploads a 12-megapixel phone photo near the size limit (a JPEG with
EXIF: the server reads it, makes its thumbnail and writes it again without the metadata).
The table gives the round trips' median alone, the worst during each upload, their ratio,
and how long the upload took; a round trip held up by the upload is what every chat on the
process would feel.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import servers  # noqa: E402
from bench.chat_pair import open_chat_pair  # noqa: E402
from bench.load import USER_AGENT, login  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SIZE_LIMIT = 10_000_000  # the default ATTACHMENT_MAX_BYTES
PING_EVERY = 0.02


def phone_photo(width: int = 4000, height: int = 3000, limit: int = SIZE_LIMIT) -> bytes:
    """A photo-like JPEG (a gradient under grain, so it compresses like a photo) with a
    phone's EXIF, at the highest quality that stays under the limit."""
    from PIL import ExifTags, Image, ImageChops

    grain = [Image.effect_noise((width, height), sigma) for sigma in (60, 50, 70)]
    light = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", [ImageChops.add(band, light, scale=2.0) for band in grain])
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.Orientation] = 1
    for quality in (95, 93, 90, 85, 80):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
        if out.tell() <= limit - 100_000:
            return out.getvalue()
    raise RuntimeError("no quality keeps the photo under the limit")


async def measure(base: str, photo: bytes, uploads: int, alone: int) -> dict:
    cookie = login(base, "alice", "demo")
    pair = await open_chat_pair(base, cookie)
    loop = asyncio.get_running_loop()
    result: dict = {"alone_ms": [], "uploads": []}
    try:
        for _ in range(alone):
            result["alone_ms"].append(await pair.round_trip() * 1000)
            await asyncio.sleep(PING_EVERY)
        for number in range(uploads):
            started = time.perf_counter()
            upload = loop.run_in_executor(None, lambda n=number: requests.post(
                f"{base}/api/chats/{pair.chat_id}/attachments", timeout=120,
                headers={"Authorization": f"Bearer {pair.visitor_token}",
                         "User-Agent": USER_AGENT},
                files={"file": (f"photo-{n}.jpg", photo, "image/jpeg")}))
            trips = []
            while not upload.done():
                trips.append(await pair.round_trip() * 1000)
                await asyncio.sleep(PING_EVERY)
            answer = await upload
            if answer.status_code != 201:
                raise RuntimeError(f"upload: HTTP {answer.status_code} {answer.text[:300]}")
            result["uploads"].append({"seconds": time.perf_counter() - started,
                                      "trips_ms": trips})
            await asyncio.sleep(0.3)
    finally:
        await pair.close()
    return result


def summary(name: str, result: dict) -> dict:
    alone = statistics.median(result["alone_ms"])
    worst = [max(u["trips_ms"]) for u in result["uploads"] if u["trips_ms"]]
    return {"server": name, "alone_p50_ms": round(alone, 1),
            "alone_max_ms": round(max(result["alone_ms"]), 1),
            "worst_during_upload_ms": [round(w, 1) for w in worst],
            "worst_median_ms": round(statistics.median(worst), 1),
            "ratio": round(statistics.median(worst) / alone, 1),
            "upload_s": round(statistics.median(u["seconds"] for u in result["uploads"]), 2)}


def markdown(rows: list[dict], photo_bytes: int) -> str:
    out = [f"Photo: 4000×3000 JPEG with EXIF, {photo_bytes / 1e6:.1f} MB.", "",
           "| server | round trip alone, median ms | max alone ms | worst round trip during "
           "each upload ms | median of the worsts ms | worst / alone | upload s (median) |",
           "|---|---:|---:|---|---:|---:|---:|"]
    for row in rows:
        out.append(f"| {row['server']} | {row['alone_p50_ms']} | {row['alone_max_ms']} | "
                   f"{', '.join(map(str, row['worst_during_upload_ms']))} | "
                   f"{row['worst_median_ms']} | {row['ratio']} | {row['upload_s']} |")
    return "\n".join(out)


def run_on(name: str, url: str, workdir: Path, photo: bytes, uploads: int, alone: int) -> dict:
    servers.prepare_database(url, agents=0)
    proc = servers.app_process(url, workdir).start(timeout=120)
    try:
        return summary(name, asyncio.run(measure(proc.url, photo, uploads, alone)))
    finally:
        proc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat round trips during a large upload.")
    parser.add_argument("--postgres", help="PostgreSQL admin URL: also measure on PostgreSQL")
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--alone", type=int, default=50, help="round trips without upload")
    parser.add_argument("--json", default=str(RESULTS / "upload-stall.json"))
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sdc-upload-stall-"))
    photo = phone_photo()
    rows = [run_on("SQLite", servers.sqlite_url(workdir), workdir, photo, args.uploads,
                   args.alone)]
    if args.postgres:
        url = servers.create_postgres_database(args.postgres)
        try:
            rows.append(run_on("PostgreSQL", url, workdir, photo, args.uploads, args.alone))
        finally:
            servers.drop_postgres_database(args.postgres, url)
    print(markdown(rows, len(photo)))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"photo_bytes": len(photo), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
