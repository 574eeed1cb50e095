"""The Kubernetes manifests in deploy/k8s: valid against Kubernetes' schemas (offline), with probes, resources,
secrets only by reference, and only the public routes exposed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.paths import PROJECT_ROOT

K8S_DIR = PROJECT_ROOT / "deploy" / "k8s"
VALIDATOR = PROJECT_ROOT / ".venv-k8s" / "bin" / "kubernetes-validate"
MANIFESTS = sorted(path for path in K8S_DIR.glob("*.yaml") if path.name != "kustomization.yaml")
SECRET_NAME = "numecrivain-secrets"
SECRET_WORDS = re.compile(r"TOKEN|PASSWORD|PEPPER|SECRET|SIGNING_KEY|DB_URL|REDIS_URL|AUTH")


def _documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _workloads() -> list[dict[str, Any]]:
    return [doc for doc in _documents() if doc["kind"] in ("Deployment", "Job")]


def _containers(kind: str | None = None) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: container for doc in _workloads() if kind in (None, doc["kind"])
            for container in doc["spec"]["template"]["spec"]["containers"]}


def test_every_manifest_validates_against_the_kubernetes_schemas_offline() -> None:
    if not VALIDATOR.exists():
        pytest.fail(".venv-k8s is missing: `make test` installs it (devtools/k8s-requirements.lock)")
    result = subprocess.run([str(VALIDATOR), "--strict", "--quiet", *map(str, MANIFESTS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((K8S_DIR / "rasa.yaml").read_text(encoding="utf-8").replace("periodSeconds:", "period:", 1))
    result = subprocess.run([str(VALIDATOR), "--strict", "--quiet", str(broken)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "period" in result.stdout + result.stderr


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [path.name for path in MANIFESTS]


def test_every_service_has_probes_and_measured_resources() -> None:
    deployments = _containers("Deployment")
    assert set(deployments) == {"numecrivain-rasa", "numecrivain-actions", "numecrivain-portal"}
    for name, container in deployments.items():
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] == "http", (name, probe)
        requests = container["resources"]["requests"]
        assert requests["cpu"] and requests["memory"], name
        assert container["resources"]["limits"]["memory"], name
    rasa = deployments["numecrivain-rasa"]
    startup = rasa["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180  # the model load takes minutes
    assert rasa["resources"]["requests"]["memory"] == "1536Mi"  # ~1.5 GiB resident measured
    assert "endpoints.prod.yml" in rasa["command"]


def test_secrets_are_referenced_never_written_in_the_repository() -> None:
    assert not [doc for doc in _documents() if doc["kind"] == "Secret"]
    config = next(doc for doc in _documents() if doc["kind"] == "ConfigMap")
    assert not [key for key in config["data"] if SECRET_WORDS.search(key)]
    for name, container in _containers().items():
        for variable in container.get("env", []):
            if SECRET_WORDS.search(variable["name"]):
                assert "value" not in variable, (name, variable["name"])
                assert variable["valueFrom"]["secretKeyRef"]["name"] == SECRET_NAME, (name, variable["name"])


def test_every_secret_a_service_would_otherwise_generate_comes_from_the_secret() -> None:
    """A pod that generated its own token (bot.settings.local_secret) could not talk to the others."""
    generated = set()
    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        if "prod" in path.parts:  # the one-machine production launcher generates those of its own services
            continue
        generated |= set(re.findall(r"local_secret\(\"([A-Z_]+)\"\)", path.read_text(encoding="utf-8")))
    assert generated
    for name, container in _containers().items():
        required = {variable["name"] for variable in container["env"]
                    if "secretKeyRef" in variable.get("valueFrom", {})
                    and not variable["valueFrom"]["secretKeyRef"].get("optional")}
        assert generated <= required, (name, generated - required)


def test_only_public_routes_reach_rasa_through_the_ingress() -> None:
    paths = [(path["path"], path["backend"]["service"]["name"]) for doc in _documents() if doc["kind"] == "Ingress"
             for rule in doc["spec"]["rules"] for path in rule["http"]["paths"]]
    to_rasa = sorted(path for path, service in paths if service == "numecrivain-rasa")
    assert to_rasa == ["/socket.io/", "/webhooks/rest/webhook", "/webhooks/sms/android", "/webhooks/sms/twilio"]
    assert not [service for _, service in paths if service == "numecrivain-actions"]


def test_postgresql_and_redis_are_external_services() -> None:
    services = {doc["metadata"]["name"]: doc["spec"] for doc in _documents() if doc["kind"] == "Service"}
    assert services["numecrivain-postgresql"]["type"] == "ExternalName"
    assert services["numecrivain-redis"]["type"] == "ExternalName"
    config = next(doc for doc in _documents() if doc["kind"] == "ConfigMap")["data"]
    assert config["TRACKER_HOST"] == "numecrivain-postgresql" and config["REDIS_HOST"] == "numecrivain-redis"


def test_the_migration_job_upgrades_the_project_database() -> None:
    job = _containers("Job")["numecrivain-db-migrate"]
    assert job["command"] == ["python", "-m", "bot.db", "upgrade"]
