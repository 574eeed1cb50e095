"""The pinned releases of our lock files, by canonical name (shared by the audit and the advisory extraction)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.paths import PROJECT_ROOT

LOCK_FILE = PROJECT_ROOT / "requirements.lock"
AUDIT_LOCK_FILE = PROJECT_ROOT / "devtools" / "audit-requirements.lock"
K8S_LOCK_FILE = PROJECT_ROOT / "devtools" / "k8s-requirements.lock"  # kubernetes-validate's venv (make test)
LOCK_FILES = (LOCK_FILE, AUDIT_LOCK_FILE, K8S_LOCK_FILE)


def canonical_name(name: str) -> str:
    """PEP 503 name: 'PyJWT', 'pyjwt' and 'py_jwt' are one package to the index (and to the advisories)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> list[tuple[str, str]]:
    """(name, version) of each exact pin 'name==version' (comments, options and markers set aside)."""
    pins = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "-")):
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"{path.name}: '{raw}' is not an exact pin (name==version)")
        pins.append((name.split("[", 1)[0].strip(), version.strip()))
    return pins
