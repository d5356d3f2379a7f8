"""The deployment files in deploy/ name only workers and settings that exist, and start
every worker kind: an operator copying them gets a complete installation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings
from workers.runtime import WORKERS, served_workers

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose_workers() -> set[str]:
    text = (DEPLOY / "docker-compose.yml").read_text()
    return set(re.findall(r'command: \["worker", "([^"]+)"\]', text))


def test_the_compose_file_runs_every_worker_kind_and_no_other() -> None:
    assert compose_workers() == set(WORKERS)


def test_the_systemd_instructions_name_every_worker_kind() -> None:
    text = (DEPLOY / "systemd" / "switchboard-web.service").read_text()
    listed = re.search(r"switchboard-worker@\{([^}]+)\}", text)
    assert listed is not None
    assert set(listed.group(1).split(",")) == set(WORKERS)


def test_every_variable_in_the_env_file_is_a_setting() -> None:
    names = re.findall(r"^SWITCHBOARD_([A-Z_]+)=", (DEPLOY / "switchboard.env").read_text(),
                       re.M)
    assert names
    unknown = [n for n in names if n.lower() not in Settings.model_fields]
    assert unknown == []


def test_the_example_configuration_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(DEPLOY / "switchboard.toml.example"))
    settings = Settings()
    assert settings.serve_workers == "none"
    assert [m.name for m in settings.mailboxes] == ["support", "complaints"]
    assert settings.public_url == "https://switchboard.example.nl"


def test_empty_values_in_the_env_file_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in (DEPLOY / "switchboard.env").read_text().splitlines():
        if line.startswith("SWITCHBOARD_") and line.endswith("="):
            monkeypatch.setenv(line[:-1], "")
    settings = Settings()
    assert settings.cti_secret is None  # an empty secret would sign with ""
    assert settings.twilio_auth_token is None and settings.public_url is None


def test_a_serve_process_runs_the_workers_it_is_told() -> None:
    assert served_workers(Settings(serve_workers="all")) == list(WORKERS)
    assert served_workers(Settings(serve_workers="none")) == []
    assert served_workers(Settings(serve_workers="relay,router")) == ["relay", "router"]
    with pytest.raises(ValueError, match="unknown workers"):
        served_workers(Settings(serve_workers="relay,sorter"))
