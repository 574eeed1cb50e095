"""Dependency audit of every pin: fails on any known vulnerability not accepted with a reason.

    .venv/bin/python -m devtools.audit             # make test / make audit
    .venv/bin/python -m devtools.audit --offline   # the advisory data only, no pip-audit

1. Offline, always: each pin of requirements.lock and devtools/audit-requirements.lock is checked against
   devtools/advisories.json (PyPA's advisory database, extracted by `make advisories`), with PEP 440 version
   comparison. Any finding not in devtools/audit-ignore.yml fails; a pinned package absent from the data fails
   (it would not be audited); an ignore entry that matches nothing any more is reported as stale. The age of the
   data is printed, with a warning past a year: newer advisories are unknown to it.
2. Online, as a complement: pip-audit (in .venv-audit) asks PyPI for each release, when PyPI answers. A registry
   mirror without PyPI's per-release JSON API does not: one line says so (AUDIT_REQUIRE_SERVICE=1 makes it fail).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from bot.paths import PROJECT_ROOT
from devtools.locks import LOCK_FILE, LOCK_FILES, canonical_name, read_lock

IGNORE_FILE = Path(__file__).with_name("audit-ignore.yml")
ADVISORIES_FILE = Path(__file__).with_name("advisories.json")
PIP_AUDIT = PROJECT_ROOT / ".venv-audit" / "bin" / "pip-audit"
MAX_DATA_AGE_DAYS = 365


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one pinned release."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    lock: str = ""
    summary: str = ""


@dataclass(frozen=True)
class AuditResult:
    """What pip-audit found, what it could not check, and what is not accepted."""

    findings: list[Finding]
    unaudited: list[str]
    audited: int
    unaccepted: list[Finding]


@dataclass(frozen=True)
class Pin:
    """One exact pin of one lock file."""

    lock: str
    name: str
    version: str


@dataclass
class OfflineResult:
    """The offline check: findings, pins the data does not cover, and how many advisories were read."""

    findings: list[Finding] = field(default_factory=list)
    not_covered: list[Pin] = field(default_factory=list)
    uncomparable: list[str] = field(default_factory=list)
    checked: int = 0


def ignore_entries(path: Path = IGNORE_FILE) -> list[dict[str, Any]]:
    """The entries of the ignore file; every entry must give a reason."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for entry in entries:
        if not str(entry.get("reason") or "").strip():
            raise ValueError(f"{entry.get('id')}: an accepted vulnerability needs a reason")
    return entries


def accepted_vulnerabilities(path: Path = IGNORE_FILE) -> dict[str, dict[str, Any]]:
    """The accepted ids (and their aliases) with their entry; every entry must give a reason."""
    return {str(name): entry for entry in ignore_entries(path) for name in (entry["id"], *entry.get("aliases", []))}


def is_accepted(finding: Finding, accepted: Mapping[str, Mapping[str, Any]]) -> bool:
    """Accepted when one of its ids is listed for that package (an entry without a package covers any)."""
    for name in (finding.id, *finding.aliases):
        entry = accepted.get(name)
        if entry is not None and canonical_name(str(entry.get("package") or finding.package)) == canonical_name(
                finding.package):
            return True
    return False


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
                                    tuple(vuln.get("fix_versions", [])), lock="pip-audit"))
    unaccepted = [f for f in findings if not is_accepted(f, accepted)]
    return AuditResult(findings, unaudited, audited, unaccepted)


def parse_version(text: str) -> Version | None:
    """PEP 440 version, or None for a string that is not one (compared by equality only)."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(version: Version, events: Sequence[Mapping[str, str]]) -> bool | None:
    """OSV ECOSYSTEM range: introduced <= v < fixed (or <= last_affected); None when an event is not PEP 440."""
    bounds: list[tuple[Version, str]] = []
    for event in events:
        for kind, text in event.items():
            if kind == "introduced" and text == "0":
                bounds.append((Version("0"), kind))
                continue
            parsed = parse_version(text)
            if parsed is None:
                return None
            bounds.append((parsed, kind))
    order = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 1}
    introduced: Version | None = None
    for bound, kind in sorted(bounds, key=lambda b: (b[0], order.get(b[1], 2))):
        if kind == "introduced":
            introduced = bound if introduced is None else introduced
        elif kind in ("fixed", "last_affected") and introduced is not None:
            if introduced <= version and (version < bound or (kind == "last_affected" and version == bound)):
                return True
            introduced = None
    return introduced is not None and introduced <= version


def affects(advisory: Mapping[str, Any], version_text: str) -> bool | None:
    """Whether the release is affected: listed among the versions, or inside one of the ranges.

    None when the answer depends on a version that cannot be compared (and the release is not listed)."""
    version = parse_version(version_text)
    listed = {parse_version(v) or v for v in advisory.get("versions", [])}
    if (version or version_text) in listed:
        return True
    if version is None:
        return None if advisory.get("ranges") else False
    answers = [in_range(version, events) for events in advisory.get("ranges", [])]
    if any(answers):
        return True
    return None if None in answers else False


def load_advisories(path: Path = ADVISORIES_FILE) -> dict[str, Any]:
    """The extracted advisory data (devtools/advisories.json)."""
    return json.loads(path.read_text(encoding="utf-8"))


def read_pins(lock_files: Iterable[Path] = LOCK_FILES) -> list[Pin]:
    """Every exact pin of the lock files, labelled with the lock file it comes from."""
    pins: list[Pin] = []
    for lock in lock_files:
        label = str(lock.relative_to(PROJECT_ROOT)) if lock.is_relative_to(PROJECT_ROOT) else lock.name
        pins.extend(Pin(label, name, version) for name, version in read_lock(lock))
    return pins


def offline_audit(pins: Iterable[Pin], data: Mapping[str, Any]) -> OfflineResult:
    """Check each pin against the advisory data: findings, and pins the data does not cover."""
    result = OfflineResult()
    packages = data["packages"]
    for pin in pins:
        advisories = packages.get(canonical_name(pin.name))
        if advisories is None:
            result.not_covered.append(pin)
            continue
        for advisory in advisories:
            if advisory.get("withdrawn"):
                continue
            result.checked += 1
            answer = affects(advisory, pin.version)
            if answer is None:
                result.uncomparable.append(f"{pin.name}=={pin.version} {advisory['id']}")
            elif answer:
                result.findings.append(Finding(pin.name, pin.version, advisory["id"], tuple(advisory["aliases"]),
                                               tuple(advisory["fixed"]), pin.lock, advisory.get("summary", "")))
    return result


def stale_entries(entries: Iterable[Mapping[str, Any]], findings: Iterable[Finding]) -> list[Mapping[str, Any]]:
    """Ignore entries that match no finding any more (the pin moved or the advisory was withdrawn)."""
    findings = list(findings)
    return [entry for entry in entries
            if not any(is_accepted(f, {str(n): entry for n in (entry["id"], *entry.get("aliases", []))})
                       for f in findings)]


def data_age_days(data: Mapping[str, Any], today: date) -> int:
    """Days between the advisory database's last commit and today."""
    return (today - datetime.fromisoformat(data["source"]["commit_date"].replace("Z", "+00:00")).date()).days


def run_pip_audit(pip_audit: Path = PIP_AUDIT, lock_file: Path = LOCK_FILE) -> dict[str, Any]:
    """pip-audit's JSON report on the exact pins (no resolution: the lock file is complete)."""
    command = [str(pip_audit), "-r", str(lock_file), "--no-deps", "--disable-pip", "--progress-spinner", "off",
               "--format", "json", "--desc", "off"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(completed.stdout)
    except ValueError as exc:
        raise RuntimeError(f"pip-audit failed (exit {completed.returncode}): {completed.stderr[-2000:]}") from exc


def pypi_answers(pins: Sequence[Pin], pip_audit: Path = PIP_AUDIT) -> bool:
    """One release asked first: a mirror that lacks PyPI's per-release API answers 404 for all of them."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.txt"
        probe.write_text(f"{pins[0].name}=={pins[0].version}\n", encoding="utf-8")
        report = run_pip_audit(pip_audit, probe)
    return not any(d.get("skip_reason") for d in report.get("dependencies", []))


def describe(finding: Finding, accepted: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per finding: where, what, accepted or not, and the first fixed release."""
    state = "accepted (docs/security.md)" if is_accepted(finding, accepted) else "NOT ACCEPTED"
    aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
    return (f"audit: {finding.lock}: {finding.package}=={finding.version} {finding.id}{aliases} {state}; "
            f"fixed in {', '.join(finding.fix_versions) or 'no release'}")


def main(argv: list[str] | None = None, today: date | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="the advisory data only (no pip-audit)")
    parser.add_argument("--lock", type=Path, action="append", help="lock file(s) to check (default: ours)")
    parser.add_argument("--advisories", type=Path, default=ADVISORIES_FILE, help="extracted advisory data")
    parser.add_argument("--ignore", type=Path, default=IGNORE_FILE, help="accepted vulnerabilities")
    parser.add_argument("--report", type=Path, help="read this pip-audit JSON report instead of running pip-audit")
    args = parser.parse_args(argv)
    today = today or date.today()
    entries = ignore_entries(args.ignore)
    accepted = {str(name): entry for entry in entries for name in (entry["id"], *entry.get("aliases", []))}
    pins = read_pins(args.lock or LOCK_FILES)
    data = load_advisories(args.advisories)
    source = data["source"]
    age = data_age_days(data, today)
    print(f"audit: advisory data: {source['database']}, commit {source['commit'][:12]} of "
          f"{source['commit_date'][:10]}, {age} days old ({args.advisories.name}, extracted {source['extracted_on']}).")
    for other in source.get("also", []):
        print(f"audit: advisory data: also {other['database']}, commit {other['commit'][:12]} of "
              f"{other['commit_date'][:10]}.")
    if "also" not in source:
        print("audit: advisory data: PyPA's PYSEC advisories only; GHSA-only ones are not in it (docs/security.md).")
    if age > MAX_DATA_AGE_DAYS:
        print(f"audit: WARNING: the advisory data is {age // 30} months old: advisories published after "
              f"{source['commit_date'][:10]} are NOT checked offline. Refresh it with 'make advisories "
              "ADVISORY_DB=<fresh clone of pypa/advisory-database>' (docs/security.md).", file=sys.stderr)

    offline = offline_audit(pins, data)
    findings = list(offline.findings)
    for finding in findings:
        print(describe(finding, accepted))
    for finding in findings:
        entry = next((accepted[n] for n in (finding.id, *finding.aliases) if n in accepted), None)
        if entry and entry.get("version") and str(entry["version"]) != finding.version:
            print(f"audit: note: {finding.id} was accepted for {finding.package} {entry['version']}, the pin is now "
                  f"{finding.version}: check that its reason still holds.")
    for pin in offline.not_covered:
        print(f"audit: {pin.lock}: {pin.name}=={pin.version} is NOT in {args.advisories.name}: it is not audited; "
              "run 'make advisories ADVISORY_DB=...' after changing a lock file.")
    for item in offline.uncomparable:
        print(f"audit: WARNING: {item}: a version there is not PEP 440, cannot tell whether it applies.",
              file=sys.stderr)
    unaccepted = [f for f in findings if not is_accepted(f, accepted)]
    print(f"audit: offline: {len(pins)} pins checked ({offline.checked} advisories of their packages): "
          f"{len(findings)} known vulnerabilities, {len(findings) - len(unaccepted)} accepted, "
          f"{len(unaccepted)} NOT accepted, {len(offline.not_covered)} pins not covered by the data.")

    service_failed = False
    if args.report or not args.offline:
        online = online_check(args, pins, accepted)
        if online is None:
            service_failed = True
        else:
            known = {name for f in findings for name in (f.id, *f.aliases)}
            extra = [f for f in online.findings if not ({f.id, *f.aliases} & known)]
            for finding in extra:
                print(describe(finding, accepted))
            findings += extra
            unaccepted += [f for f in extra if not is_accepted(f, accepted)]
            print(f"audit: online (pip-audit): {online.audited} releases audited by PyPI, {len(extra)} vulnerabilities "
                  f"not in the offline data, {len(online.unaudited)} releases PyPI could not audit.")

    unmatched = stale_entries(entries, findings)
    waiting = [e for e in unmatched if e.get("in_offline_data") is False]
    if waiting:
        print(f"audit: {len(waiting)} accepted advisories are not in the offline data (GHSA only: "
              f"{', '.join(str(e['id']) for e in waiting)}); they count when pip-audit answers or the data has them.")
    for entry in entries:
        if entry.get("in_offline_data") is False and entry not in unmatched:
            print(f"audit: note: {entry['id']} is now found: drop 'in_offline_data: false' from its ignore entry.")
    for stale in [e for e in unmatched if e.get("in_offline_data") is not False]:
        print(f"audit: STALE ignore entry {stale['id']} ({stale.get('package', '?')}): it matches no pinned release "
              "any more; remove it from devtools/audit-ignore.yml and docs/security.md.")
    if service_failed and os.environ.get("AUDIT_REQUIRE_SERVICE") == "1":
        return 1
    return 1 if unaccepted or offline.not_covered else 0


def online_check(args: argparse.Namespace, pins: Sequence[Pin], accepted: Mapping[str, Any]) -> AuditResult | None:
    """pip-audit's findings on the lock files, or None (said in one line) when PyPI's API does not answer."""
    if args.report:
        return read_report(json.loads(args.report.read_text(encoding="utf-8")), accepted)
    if not PIP_AUDIT.exists():
        print(f"audit: online (pip-audit): {PIP_AUDIT} is missing ('make audit' installs it): offline check only.")
        return None
    if not pypi_answers(pins):
        print("audit: online (pip-audit): PyPI's per-release vulnerability API does not answer from this machine "
              "(registry mirror): offline check only.")
        return None
    dependencies = [d for lock in args.lock or LOCK_FILES for d in run_pip_audit(PIP_AUDIT, lock)["dependencies"]]
    return read_report({"dependencies": dependencies}, accepted)

if __name__ == "__main__":
    sys.exit(main())
