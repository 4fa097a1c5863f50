"""The volume run end to end on a small large desk: every line is measured on both desks.

Behaviour only (both desks answer every request and socket event, the desk is left as found);
times are bench/volume.py's to report, never asserted here.
"""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from bench import volume
from tests.support import databases

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.mark.skipif(not databases.postgres_admin_url(), reason="the volume run is PostgreSQL's")
def test_volume_run_measures_every_line_on_both_desks(tmp_path, capsys):
    admin = databases.postgres_admin_url()
    report = tmp_path / "volume.json"
    volume.main(["--postgres", admin, "--scale", "0.001", "--repeat", "1", "--json",
                 str(report)])
    lines = json.loads(report.read_text())
    assert len(lines) >= 15
    for name, line in lines.items():
        assert line["demo_ms"] is not None and line["large_ms"] is not None, name
    printed = capsys.readouterr().out
    assert "| admin: new SR form |" in printed and "| agent: waiting_list |" in printed
    # Both desks' databases were dropped again (they are named after this process).
    engine = sa.create_engine(admin)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname LIKE :mine"),
                            {"mine": f"sdc_bench_{os.getpid()}_%"}).scalar()
    engine.dispose()
    assert left == 0
