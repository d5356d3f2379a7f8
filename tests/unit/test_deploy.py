"""The deployment files in deploy/ name only workers and settings that exist, and start
every worker kind: an operator copying them gets a complete installation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.config import Settings
from workers.runtime import WORKERS, served_workers

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


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


# Kubernetes (deploy/k8s/): checked with kubernetes-validate against the API schemas of
# this version, strictly (an unknown or misspelt field fails).
KUBERNETES_VERSION = "1.33.0"
K8S = DEPLOY / "k8s"


@cache  # read once: the tests below only look
def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return documents


def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == "Deployment"}


def k8s_config() -> dict[str, str]:
    [config] = [d for d in k8s_documents() if d["kind"] == "ConfigMap"]
    data: dict[str, str] = config["data"]
    return data


def test_the_kustomization_lists_every_manifest_and_each_is_valid_kubernetes() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"}
    for document in k8s_documents():
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_would_catch_a_broken_manifest() -> None:
    web = deployments()["switchboard-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    broken = {**web, "spec": {**web["spec"], "template": {**web["spec"]["template"], "spec": {
        **web["spec"]["template"]["spec"],
        "containers": [{**container, "readinessProbe": {"httpGett": {"path": "/readyz"}}}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kubernetes_runs_every_worker_kind_and_the_web_as_compose_does() -> None:
    commands = {name: d["spec"]["template"]["spec"]["containers"][0]["args"]
                for name, d in deployments().items()}
    kinds = {args[1] for args in commands.values() if args[0] == "worker"}
    assert kinds == set(WORKERS), (
        f"deploy/k8s/workers.yaml lacks {sorted(set(WORKERS) - kinds)} (copy another "
        f"worker's Deployment) and has unknown {sorted(kinds - set(WORKERS))}")
    assert {f"switchboard-{args[1]}" for args in commands.values() if args[0] == "worker"} \
        == {name for name, args in commands.items() if args[0] == "worker"}
    [web] = [d for d in deployments().values()
             if d["spec"]["template"]["spec"]["containers"][0]["args"] == ["serve"]]
    env = {e["name"]: e["value"] for e in web["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SWITCHBOARD_SERVE_WORKERS"] == "none"
    assert compose_workers() == set(WORKERS)


def test_every_pod_is_probed_and_may_drain_before_it_is_killed() -> None:
    drain_s = float(k8s_config()["SWITCHBOARD_DRAIN_TIMEOUT_S"])
    metrics_port = int(k8s_config()["SWITCHBOARD_METRICS_PORT"])
    for name, deployment in deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == metrics_port, name
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                            ("readinessProbe", "/readyz")):
            assert container[probe]["httpGet"]["path"] == path, (name, probe)
            assert container[probe]["httpGet"]["port"] in ports, (name, probe)
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
        pre_stop_s = float(pre_stop["command"][1]) if pre_stop else 0.0
        assert pod["terminationGracePeriodSeconds"] > pre_stop_s + drain_s, name
        assert deployment["spec"]["template"]["metadata"]["annotations"][
            "prometheus.io/port"] == str(metrics_port), name


def test_every_pod_runs_as_non_root_without_privileges_and_within_limits() -> None:
    pods = [d["spec"]["template"]["spec"] for d in k8s_documents()
            if d["kind"] in ("Deployment", "Job")]
    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
            assert "memory" in container["resources"]["limits"]


def test_every_kubernetes_setting_is_a_setting_and_loads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    [secret] = [d for d in k8s_documents() if d["kind"] == "Secret"]
    names = {**k8s_config(), **secret["stringData"]}
    assert [n for n in names if n.removeprefix("SWITCHBOARD_").lower()
            not in Settings.model_fields] == []
    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)
    for name, value in k8s_config().items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.metrics_port == 9090 and settings.metrics_host == "0.0.0.0"  # noqa: S104


def test_the_alert_rules_use_metrics_switchboard_exports() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    exported = "".join(p.read_text() for p in (ROOT / "workers").glob("metrics*.py"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= rule.keys(), rule
            assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
            for name in re.findall(r"\bswitchboard_[a-z_]+", rule["expr"]):
                base = re.sub(r"_(total|bucket|count|sum)$", "", name)
                assert f'"{base}"' in exported, (rule["alert"], name)


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool is not installed (Debian package prometheus)")
def test_promtool_accepts_the_alert_rules() -> None:
    checked = subprocess.run(  # noqa: S603  # our own fixed command line
        ["promtool", "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],  # noqa: S607
        capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
