"""The offline dependency audit: PyPA advisories in devtools/advisories.json against the pins of the lock files."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

import devtools.audit
from bot.paths import PROJECT_ROOT
from devtools.advisories import extract
from devtools.audit import ADVISORIES_FILE, Pin, affects, load_advisories, main, offline_audit

AIOHTTP_3_9_2_FIXES = {"PYSEC-2024-24", "PYSEC-2024-26"}
DATA_DAY = date(2024, 10, 11)


def lock(tmp_path: Path, *pins: str) -> Path:
    path = tmp_path / "requirements.lock"
    path.write_text("# synthetic lock\n" + "\n".join(pins) + "\n", encoding="utf-8")
    return path


def ignore(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "audit-ignore.yml"
    path.write_text(entries, encoding="utf-8")
    return path


def run(tmp_path: Path, lock_file: Path, ignore_file: Path, today: date = DATA_DAY) -> int:
    return main(["--offline", "--lock", str(lock_file), "--ignore", str(ignore_file)], today=today)


def test_old_aiohttp_is_found_vulnerable_and_the_fixed_release_is_not() -> None:
    data = load_advisories()
    old = {f.id for f in offline_audit([Pin("lock", "aiohttp", "3.9.1")], data).findings}
    fixed = {f.id for f in offline_audit([Pin("lock", "aiohttp", "3.9.2")], data).findings}
    assert old >= AIOHTTP_3_9_2_FIXES
    assert not AIOHTTP_3_9_2_FIXES & fixed


def test_package_names_are_matched_whatever_their_spelling() -> None:
    pins = [Pin("lock", "AioHTTP", "3.9.1"), Pin("lock", "Markdown_It.py", "2.1.0")]
    findings = offline_audit(pins, load_advisories())
    assert {f.id for f in findings.findings if f.package == "AioHTTP"} >= AIOHTTP_3_9_2_FIXES
    assert "PYSEC-2023-23" in {f.id for f in findings.findings if f.package == "Markdown_It.py"}
    assert findings.not_covered == []


@pytest.mark.parametrize("version,expected", [
    ("0.9", False), ("1.0", True), ("1.4.9", True), ("1.5", False), ("1.5.0", False), ("2.0rc1", False),
    ("2.0", True), ("2.1", True), ("2.2", False), ("3.0.7", True), ("not-a-version", None)])
def test_ranges_include_introduced_exclude_fixed_and_honour_last_affected_and_listed_versions(
        version: str, expected: bool | None) -> None:
    advisory = {"ranges": [[{"introduced": "1.0"}, {"fixed": "1.5"}],
                           [{"introduced": "2.0"}, {"last_affected": "2.1"}]],
                "versions": ["3.0.7"]}
    assert affects(advisory, version) is expected


def test_a_range_without_fix_affects_every_later_release() -> None:
    assert affects({"ranges": [[{"introduced": "0"}]], "versions": []}, "2026.10.19.post1") is True


def test_unlisted_finding_fails_the_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.1"), ignore(tmp_path, "[]\n")) == 1
    out = capsys.readouterr().out
    assert "aiohttp==3.9.1 PYSEC-2024-26 (CVE-2024-23829, GHSA-8qpw-xqxj-h4r2) NOT ACCEPTED; fixed in 3.9.2" in out


def test_fixed_release_passes_the_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.2"), ignore(tmp_path, "[]\n")) == 0
    assert "0 NOT accepted" in capsys.readouterr().out


def test_accepted_finding_passes_and_an_entry_matching_nothing_is_reported_stale(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = "".join(f"- {{id: {i}, package: aiohttp, reason: synthetic}}\n" for i in sorted(AIOHTTP_3_9_2_FIXES))
    entries += "- {id: PYSEC-2099-1, package: sanic, reason: fixed long ago}\n"
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.1"), ignore(tmp_path, entries)) == 0
    out = capsys.readouterr().out
    assert "PYSEC-2024-24 (CVE-2024-23334, GHSA-5h86-8mv2-jq9f) accepted" in out
    assert "STALE ignore entry PYSEC-2099-1 (sanic)" in out
    assert "STALE ignore entry PYSEC-2024-24" not in out


def test_an_id_accepted_for_one_package_does_not_cover_another(tmp_path: Path) -> None:
    entries = "".join(f"- {{id: {i}, package: sanic, reason: synthetic}}\n" for i in sorted(AIOHTTP_3_9_2_FIXES))
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.1"), ignore(tmp_path, entries)) == 1


def test_online_findings_missing_from_the_offline_data_also_fail(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "pip-audit.json"
    report.write_text(json.dumps({"dependencies": [
        {"name": "aiohttp", "version": "3.9.2", "vulns": [
            {"id": "GHSA-newer-than-data", "aliases": ["CVE-2099-1"], "fix_versions": ["3.9.9"]}]}]}))
    lock_file, ignore_file = lock(tmp_path, "aiohttp==3.9.2"), ignore(tmp_path, "[]\n")
    assert main(["--lock", str(lock_file), "--ignore", str(ignore_file), "--report", str(report)], DATA_DAY) == 1
    out = capsys.readouterr().out
    assert "aiohttp==3.9.2 GHSA-newer-than-data (CVE-2099-1) NOT ACCEPTED; fixed in 3.9.9" in out
    assert "1 vulnerabilities not in the offline data" in out


def test_pypi_not_answering_is_one_line_and_fails_only_when_the_service_is_required(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake_pip_audit = tmp_path / "pip-audit"
    fake_pip_audit.touch()
    monkeypatch.setattr(devtools.audit, "PIP_AUDIT", fake_pip_audit)
    monkeypatch.setattr(devtools.audit, "pypi_answers", lambda pins: False)
    arguments = ["--lock", str(lock(tmp_path, "aiohttp==3.9.2")), "--ignore", str(ignore(tmp_path, "[]\n"))]
    assert main(arguments, DATA_DAY) == 0
    out = capsys.readouterr().out
    assert out.count("online (pip-audit)") == 1 and "does not answer from this machine" in out
    monkeypatch.setenv("AUDIT_REQUIRE_SERVICE", "1")
    assert main(arguments, DATA_DAY) == 1


def test_ghsa_only_entry_is_not_stale_offline_and_accepts_pypi_s_finding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = ("- {id: GHSA-jwhx-xcg6-8xhj, aliases: [CVE-2024-42367], package: aiohttp, in_offline_data: false,"
               " reason: server only}\n")
    lock_file, ignore_file = lock(tmp_path, "aiohttp==3.9.5"), ignore(tmp_path, entries)
    assert run(tmp_path, lock_file, ignore_file) == 0
    out = capsys.readouterr().out
    assert "STALE" not in out and "1 accepted advisories are not in the offline data (GHSA only: GHSA-jwhx" in out
    report = tmp_path / "pip-audit.json"
    report.write_text(json.dumps({"dependencies": [{"name": "aiohttp", "version": "3.9.5", "vulns": [
        {"id": "GHSA-jwhx-xcg6-8xhj", "aliases": ["CVE-2024-42367"], "fix_versions": ["3.10.2"]}]}]}))
    assert main(["--lock", str(lock_file), "--ignore", str(ignore_file), "--report", str(report)], DATA_DAY) == 0
    out = capsys.readouterr().out
    assert "GHSA-jwhx-xcg6-8xhj (CVE-2024-42367) accepted" in out and "not in the offline data (GHSA" not in out


def test_pinned_package_missing_from_the_data_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.2", "brand-new-package==1.0"), ignore(tmp_path, "[]\n")) == 1
    assert "brand-new-package==1.0 is NOT in advisories.json: it is not audited" in capsys.readouterr().out


def test_data_over_a_year_old_is_flagged_without_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.2"), ignore(tmp_path, "[]\n"), date(2026, 12, 2)) == 0
    captured = capsys.readouterr()
    assert "commit 3ccb612573e2 of 2024-10-10, 783 days old" in captured.out
    assert "WARNING: the advisory data is 26 months old" in captured.err
    assert run(tmp_path, lock(tmp_path, "aiohttp==3.9.2"), ignore(tmp_path, "[]\n"), date(2025, 6, 1)) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_our_lock_files_pass_the_offline_audit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--offline"]) == 0, capsys.readouterr().out
    assert "0 pins not covered by the data" in capsys.readouterr().out


def test_the_data_names_its_source_licence_and_is_credited() -> None:
    source = json.loads(ADVISORIES_FILE.read_text(encoding="utf-8"))["source"]
    assert source["license"] == "CC-BY-4.0" and len(source["commit"]) == 40
    doc = (PROJECT_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert "CC-BY 4.0" in doc and source["commit"][:12] in doc


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def test_extraction_keeps_only_our_pypi_package_with_ranges_versions_and_fixes(tmp_path: Path) -> None:
    db = tmp_path / "db"
    (db / "vulns" / "Some_Lib").mkdir(parents=True)
    (db / "vulns" / "other").mkdir()
    (db / "vulns" / "Some_Lib" / "PYSEC-2024-1.yaml").write_text(
        "id: PYSEC-2024-1\npublished: 2024-01-02T00:00:00Z\nmodified: 2024-01-03T00:00:00Z\n"
        "aliases: [CVE-2024-1, GHSA-aaaa-bbbb-cccc]\ndetails: |\n  First line says what.\n  Second line.\n"
        "affected:\n- package: {ecosystem: PyPI, name: some-lib}\n  ranges:\n"
        "  - {type: GIT, events: [{introduced: '0'}, {fixed: abc123}]}\n"
        "  - {type: ECOSYSTEM, events: [{introduced: '1.0'}, {fixed: 1.10.1}]}\n"
        "  versions: ['1.9', '1.10', '1.0']\n", encoding="utf-8")
    (db / "vulns" / "other" / "PYSEC-2024-2.yaml").write_text(
        "id: PYSEC-2024-2\naffected:\n- package: {ecosystem: PyPI, name: other}\n", encoding="utf-8")
    git(db, "init", "-q")
    git(db, "add", ".")
    git(db, "commit", "-q", "-m", "data")
    data = extract(db, ["some-lib", "unknown-lib"])
    assert data["packages"]["unknown-lib"] == []
    [advisory] = data["packages"]["some-lib"]
    assert advisory == {"id": "PYSEC-2024-1", "aliases": ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"],
                        "summary": "First line says what.", "published": "2024-01-02T00:00:00Z",
                        "modified": "2024-01-03T00:00:00Z", "ranges": [[{"introduced": "1.0"}, {"fixed": "1.10.1"}]],
                        "versions": ["1.0", "1.9", "1.10"], "fixed": ["1.10.1"]}
    assert len(data["source"]["commit"]) == 40 and data["source"]["license"] == "CC-BY-4.0"
    assert affects(advisory, "1.10") and not affects(advisory, "1.10.1")


def github_advisory(ghsa: str, package: str, cve: str, fixed: str) -> str:
    return json.dumps({"id": ghsa, "aliases": [cve], "summary": f"{package} flaw", "published": "2024-05-06T14:21:27Z",
                       "modified": "2024-05-06T14:21:27Z", "affected": [{
                           "package": {"ecosystem": "PyPI", "name": package},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})


def test_github_database_adds_only_the_advisories_pypa_lacks(tmp_path: Path) -> None:
    pypa = tmp_path / "pypa"
    (pypa / "vulns" / "some-lib").mkdir(parents=True)
    (pypa / "vulns" / "some-lib" / "PYSEC-2024-1.yaml").write_text(
        "id: PYSEC-2024-1\naliases: [CVE-2024-1, GHSA-aaaa-bbbb-cccc]\nsummary: known to both\n"
        "affected:\n- package: {ecosystem: PyPI, name: some-lib}\n"
        "  ranges: [{type: ECOSYSTEM, events: [{introduced: '0'}, {fixed: '1.1'}]}]\n", encoding="utf-8")
    github = tmp_path / "github"
    for ghsa, package, cve, fixed in [("GHSA-aaaa-bbbb-cccc", "some-lib", "CVE-2024-1", "1.1"),
                                      ("GHSA-dddd-eeee-ffff", "Some_Lib", "CVE-2024-2", "3.0.3"),
                                      ("GHSA-gggg-hhhh-jjjj", "not-ours", "CVE-2024-3", "2.0")]:
        folder = github / "advisories" / "github-reviewed" / "2024" / "05" / ghsa
        folder.mkdir(parents=True)
        (folder / f"{ghsa}.json").write_text(github_advisory(ghsa, package, cve, fixed), encoding="utf-8")
    for repo in (pypa, github):
        git(repo, "init", "-q")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "data")
    data = extract(pypa, ["some-lib"], github_db=github)
    assert [a["id"] for a in data["packages"]["some-lib"]] == ["PYSEC-2024-1", "GHSA-dddd-eeee-ffff"]
    assert data["source"]["also"][0]["url"] == "https://github.com/github/advisory-database"
    assert [f.id for f in offline_audit([Pin("lock", "some-lib", "3.0.0")], data).findings] == ["GHSA-dddd-eeee-ffff"]
