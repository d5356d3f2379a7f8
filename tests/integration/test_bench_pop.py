"""`switchboard bench pop` runs end to end (tiny numbers; the figures are not checked:
benchmarks measure, tests never assert timings)."""

from __future__ import annotations

import argparse

import pytest

from workers import bench


async def test_bench_pop_measures_every_offer(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["pop", "--pops", "6", "--pop-agents", "2",
                              "--pop-customers", "3"])
    assert await bench.run(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "$ switchboard bench pop --pops 6 --pop-agents 2 --pop-customers 3"
    assert lines[1].startswith("6 offers with their screen-pop to 2 agents on /agent/ws")
    assert "routing decision -> pop received" in lines[2] and "p95" in lines[2]
