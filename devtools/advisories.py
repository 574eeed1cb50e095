"""Extract our packages' advisories from PyPA's advisory database into devtools/advisories.json.

    make advisories ADVISORY_DB=/path/to/advisory-database      # a git clone or mirror of pypa/advisory-database
    .venv/bin/python -m devtools.advisories --db /path/to/advisory-database

The database (https://github.com/pypa/advisory-database, CC-BY 4.0, OSV format) is read with git only, at the
given revision (HEAD by default), so a bare mirror works. Only the packages named in requirements.lock and
devtools/audit-requirements.lock are kept, with all their advisories (fixed or not, whatever our version), so
that the offline audit (devtools/audit.py) can check any pin of those packages without the database.

Optionally (--github-db, GITHUB_ADVISORY_DB=), GitHub's advisory database (github/advisory-database, CC-BY 4.0,
OSV JSON) adds the reviewed GHSA advisories that PyPA's database lacks (same id or alias: kept once).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from bot.paths import PROJECT_ROOT
from devtools.locks import LOCK_FILES, canonical_name, read_lock

ADVISORIES_FILE = Path(__file__).with_name("advisories.json")
SOURCE_URL = "https://github.com/pypa/advisory-database"
GITHUB_URL = "https://github.com/github/advisory-database"
SUMMARY_LENGTH = 300


def git(db: Path, *args: str) -> str:
    """Output of a read-only git command in the database (works on a bare mirror: no work tree needed)."""
    return subprocess.run(["git", "-C", str(db), *args], capture_output=True, text=True, check=True).stdout


def first_line(text: str) -> str:
    """The advisory's one-line summary: its first line, cut at SUMMARY_LENGTH characters."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= SUMMARY_LENGTH else line[:SUMMARY_LENGTH - 1].rstrip() + "…"


def as_text(value: Any) -> str:
    """YAML dates may come back as datetimes: keep them as the ISO text OSV writes."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value) if value is not None else ""


def ecosystem_ranges(affected: dict[str, Any]) -> list[list[dict[str, str]]]:
    """The ECOSYSTEM ranges of one affected entry, each as its ordered events (introduced/fixed/last_affected...)."""
    ranges = []
    for range_ in affected.get("ranges") or []:
        if range_.get("type") != "ECOSYSTEM":
            continue  # GIT ranges name commits, not releases
        ranges.append([{kind: str(value) for kind, value in event.items()} for event in range_.get("events") or []])
    return ranges


def version_key(text: str) -> tuple[int, Version | str]:
    """Sort releases in version order (a string that is not PEP 440 goes last)."""
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def to_json(data: dict[str, Any]) -> str:
    """Readable and diff-friendly: the source indented, then one line per advisory."""
    lines = ["{", f' "source": {json.dumps(data["source"], indent=2, ensure_ascii=False)},', ' "packages": {']
    packages = list(data["packages"].items())
    for position, (package, advisories) in enumerate(packages):
        comma = "," if position < len(packages) - 1 else ""
        if not advisories:
            lines.append(f"  {json.dumps(package)}: []{comma}")
            continue
        lines.append(f"  {json.dumps(package)}: [")
        lines += [f"   {json.dumps(a, ensure_ascii=False)}{',' if i < len(advisories) - 1 else ''}"
                  for i, a in enumerate(advisories)]
        lines.append(f"  ]{comma}")
    return "\n".join([*lines, " }", "}", ""])


def advisory_entry(document: dict[str, Any], package: str) -> dict[str, Any] | None:
    """Our record of one OSV advisory for one package, or None when no affected entry is that PyPI package."""
    affected = [a for a in document.get("affected") or []
                if (a.get("package") or {}).get("ecosystem") == "PyPI"
                and canonical_name(str((a.get("package") or {}).get("name", ""))) == package]
    if not affected:
        return None
    ranges = [r for a in affected for r in ecosystem_ranges(a)]
    versions = sorted({str(v) for a in affected for v in a.get("versions") or []}, key=version_key)
    fixed = sorted({event["fixed"] for r in ranges for event in r if "fixed" in event}, key=version_key)
    entry = {
        "id": str(document["id"]),
        "aliases": sorted(str(a) for a in document.get("aliases") or []),
        "summary": first_line(str(document.get("summary") or document.get("details") or "")),
        "published": as_text(document.get("published")),
        "modified": as_text(document.get("modified")),
        "ranges": ranges,
        "versions": versions,
        "fixed": fixed,
    }
    if document.get("withdrawn"):
        entry["withdrawn"] = as_text(document["withdrawn"])
    return entry


def package_directories(db: Path, revision: str) -> dict[str, list[str]]:
    """vulns/<directory> by canonical package name (a name may be spelt several ways)."""
    directories: dict[str, list[str]] = {}
    for name in git(db, "ls-tree", "--name-only", revision, "vulns/").splitlines():
        directories.setdefault(canonical_name(name.removeprefix("vulns/")), []).append(name)
    return directories


def commit_and_date(db: Path, revision: str) -> tuple[str, str]:
    """The commit a revision names, and its date in UTC (ISO, 'Z')."""
    commit, date = git(db, "log", "-1", "--format=%H %cI", revision).split()
    return commit, datetime.fromisoformat(date).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def read_blobs(db: Path, commit: str, paths: list[str]) -> Iterator[str]:
    """The text of many files of one commit with a single git process (tens of thousands for GitHub's database)."""
    request = "".join(f"{commit}:{path}\n" for path in paths).encode()
    output = subprocess.run(["git", "-C", str(db), "cat-file", "--batch"], input=request, capture_output=True,
                            check=True).stdout
    position = 0
    for _ in paths:
        header_end = output.index(b"\n", position)
        size = int(output[position:header_end].split()[2])
        yield output[header_end + 1:header_end + 1 + size].decode("utf-8")
        position = header_end + 1 + size + 1


def github_advisories(db: Path, packages: set[str], revision: str) -> tuple[dict[str, Any], dict[str, list]]:
    """Our packages' reviewed advisories in GitHub's database (OSV JSON, one file per advisory, filed by date)."""
    commit, date = commit_and_date(db, revision)
    paths = [p for p in git(db, "ls-tree", "-r", "--name-only", commit, "advisories/github-reviewed/").splitlines()
             if p.endswith(".json")]
    found: dict[str, list[dict[str, Any]]] = {}
    for text in read_blobs(db, commit, paths):
        if '"PyPI"' not in text:
            continue
        document = json.loads(text)
        for package in {canonical_name(str((a.get("package") or {}).get("name", "")))
                        for a in document.get("affected") or []} & packages:
            entry = advisory_entry(document, package)
            if entry:
                found.setdefault(package, []).append(entry)
    source = {"database": "GitHub Advisory Database, reviewed advisories (OSV format)", "url": GITHUB_URL,
              "license": "CC-BY-4.0", "commit": commit, "commit_date": date}
    return source, found


def extract(db: Path, packages: Iterable[str], revision: str = "HEAD", github_db: Path | None = None,
            github_revision: str = "HEAD") -> dict[str, Any]:
    """Every advisory of each package, with the database commit and date it comes from.

    With GitHub's database too, its advisories that PyPA's does not already hold (same id or alias) are added."""
    commit, date = commit_and_date(db, revision)
    directories = package_directories(db, commit)
    wanted = set(packages)
    result: dict[str, list[dict[str, Any]]] = {}
    for package in sorted(wanted):
        advisories = []
        for directory in directories.get(package, []):
            for path in git(db, "ls-tree", "-r", "--name-only", commit, directory + "/").splitlines():
                if not path.endswith((".yaml", ".yml", ".json")):
                    continue
                document = yaml.safe_load(git(db, "show", f"{commit}:{path}"))
                entry = advisory_entry(document, package) if isinstance(document, dict) else None
                if entry:
                    advisories.append(entry)
        result[package] = advisories
    source: dict[str, Any] = {
        "database": "PyPA advisory database (OSV format)",
        "url": SOURCE_URL,
        "license": "CC-BY-4.0",
        "commit": commit,
        "commit_date": date,
        "extracted_on": datetime.now(timezone.utc).date().isoformat(),
        "packages_from": [str(lock.relative_to(PROJECT_ROOT)) for lock in LOCK_FILES],
    }
    if github_db:
        github_source, github = github_advisories(github_db, wanted, github_revision)
        source["also"] = [github_source]
        for package, advisories in github.items():
            known = {name for a in result[package] for name in (a["id"], *a["aliases"])}
            result[package] += [a for a in advisories if not ({a["id"], *a["aliases"]} & known)]
    for package in result:
        result[package].sort(key=lambda a: (a["published"], a["id"]))
    return {"source": source, "packages": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=os.environ.get("ADVISORY_DB") or None,
                        help="git clone or mirror of pypa/advisory-database (or set ADVISORY_DB)")
    parser.add_argument("--revision", default="HEAD", help="revision of the database to read (default HEAD)")
    parser.add_argument("--github-db", type=Path, default=os.environ.get("GITHUB_ADVISORY_DB") or None,
                        help="also GitHub's advisory database (git clone of github/advisory-database; optional)")
    parser.add_argument("--out", type=Path, default=ADVISORIES_FILE)
    args = parser.parse_args(argv)
    if not args.db:
        parser.error("give the database: --db PATH or ADVISORY_DB=PATH "
                     f"(git clone --bare {SOURCE_URL} /tmp/advisory-database)")
    packages = {canonical_name(name) for lock in LOCK_FILES for name, _ in read_lock(lock)}
    data = extract(args.db, packages, args.revision, args.github_db)
    args.out.write_text(to_json(data), encoding="utf-8")
    count = sum(len(a) for a in data["packages"].values())
    print(f"advisories: {count} advisories for {len(packages)} packages from {SOURCE_URL} "
          f"commit {data['source']['commit'][:12]} of {data['source']['commit_date'][:10]} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
