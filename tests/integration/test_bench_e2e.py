"""``switchboard bench`` end to end runs against its own embedded service and reports every
figure issue 8 names (the numbers themselves are measured, never asserted)."""

from __future__ import annotations

import argparse
import json

import pytest

from workers import bench
from workers.bench_e2e import run


async def test_the_end_to_end_benchmark_reports_every_figure(
        capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--contacts", "30", "--bench-agents", "3", "--json"])
    assert args.what == "e2e"  # the default
    assert await run(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["contacts_per_s"] > 0
    assert set(result["pop_ms"]) == {"p50", "p95", "p99"}
    assert 0 < result["pop_ms"]["p50"] <= result["pop_ms"]["p99"]
    assert result["rss_mb"] > 0
    assert {"bare_requests_per_s", "post_to_push_ms_p50", "sqlite_commits_per_s"} <= set(
        result["baseline"])
