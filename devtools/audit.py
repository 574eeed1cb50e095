"""Dependency audit: pip-audit on requirements.lock; fails on any known vulnerability not accepted with a reason.

    .venv/bin/python -m devtools.audit            # make test runs it (pip-audit lives in .venv-audit)

pip-audit asks PyPI's JSON API for each pinned release. When PyPI cannot answer for a release (a registry
mirror without that API), that release is "not audited": the run says so loudly and, with
AUDIT_REQUIRE_SERVICE=1, fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.paths import PROJECT_ROOT

IGNORE_FILE = Path(__file__).with_name("audit-ignore.yml")
PIP_AUDIT = PROJECT_ROOT / ".venv-audit" / "bin" / "pip-audit"
LOCK_FILE = PROJECT_ROOT / "requirements.lock"


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one pinned release."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    """What pip-audit found, what it could not check, and what is not accepted."""

    findings: list[Finding]
    unaudited: list[str]
    audited: int
    unaccepted: list[Finding]


def accepted_vulnerabilities(path: Path = IGNORE_FILE) -> dict[str, dict[str, Any]]:
    """The accepted ids (and their aliases) with their entry; every entry must give a reason."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    accepted: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not str(entry.get("reason") or "").strip():
            raise ValueError(f"{entry.get('id')}: an accepted vulnerability needs a reason")
        for name in (entry["id"], *entry.get("aliases", [])):
            accepted[str(name)] = entry
    return accepted


def read_report(report: Mapping[str, Any], accepted: Mapping[str, Any]) -> AuditResult:
    """Sort pip-audit's JSON report into findings, releases it could not audit, and unaccepted findings."""
    findings: list[Finding] = []
    unaudited: list[str] = []
    audited = 0
    for dependency in report.get("dependencies", []):
        name, version = dependency.get("name", "?"), dependency.get("version", "")
        if dependency.get("skip_reason"):
            unaudited.append(f"{name}=={version}" if version else name)
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            findings.append(Finding(name, version, vuln["id"], tuple(vuln.get("aliases", [])),
                                    tuple(vuln.get("fix_versions", []))))
    unaccepted = [f for f in findings if not ({f.id, *f.aliases} & set(accepted))]
    return AuditResult(findings, unaudited, audited, unaccepted)


def run_pip_audit(pip_audit: Path = PIP_AUDIT, lock_file: Path = LOCK_FILE) -> dict[str, Any]:
    """pip-audit's JSON report on the exact pins (no resolution: the lock file is complete)."""
    command = [str(pip_audit), "-r", str(lock_file), "--no-deps", "--disable-pip", "--progress-spinner", "off",
               "--format", "json", "--desc", "off"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(completed.stdout)
    except ValueError as exc:
        raise RuntimeError(f"pip-audit failed (exit {completed.returncode}): {completed.stderr[-2000:]}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, help="read this pip-audit JSON report instead of running pip-audit")
    args = parser.parse_args(argv)
    if args.report:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    elif not PIP_AUDIT.exists():
        print(f"audit: {PIP_AUDIT} is missing: run 'make audit' (it installs pip-audit in .venv-audit)",
              file=sys.stderr)
        return 2
    else:
        report = run_pip_audit()
    result = read_report(report, accepted_vulnerabilities())
    for finding in result.findings:
        state = "NOT ACCEPTED" if finding in result.unaccepted else "accepted (docs/security.md)"
        print(f"audit: {finding.package}=={finding.version} {finding.id} {state}; fixed in "
              f"{', '.join(finding.fix_versions) or 'no release'}")
    print(f"audit: {result.audited} releases audited, {len(result.findings)} known vulnerabilities, "
          f"{len(result.unaccepted)} not accepted, {len(result.unaudited)} not audited.")
    if result.unaudited:
        print(f"audit: WARNING: PyPI gave no vulnerability data for {len(result.unaudited)} releases "
              f"(e.g. {', '.join(result.unaudited[:3])}): they are NOT audited from this machine.",
              file=sys.stderr)
        if os.environ.get("AUDIT_REQUIRE_SERVICE") == "1":
            return 1
    return 1 if result.unaccepted else 0


if __name__ == "__main__":
    sys.exit(main())
