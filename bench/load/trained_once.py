"""A stock Rasa bot of the bench, built and trained once, then cached with its training time."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path


def trained_once(folder: Path, build: Callable[[], None], what: str) -> tuple[Path, float | None]:
    """The newest model in ``folder``/models and the seconds its build took; ``build`` (which writes the project
    and trains it) runs only when no model is there yet."""
    models = folder / "models"
    timing = folder / "train-seconds.txt"
    if not list(models.glob("*.tar.gz")):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"Creating and training {what} once (cached in {folder})...", flush=True)
        began = time.monotonic()
        build()
        timing.write_text(f"{time.monotonic() - began:.1f}\n")
    model = max(models.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return model, float(timing.read_text()) if timing.exists() else None
