"""A throw-away PostgreSQL server (Debian's binaries) on a free port, in a temporary folder."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.stack import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a server with trust authentication on 127.0.0.1; yield the URL of an empty database; stop it."""
    # Its own folder under /tmp: pytest's are private to root, and the server runs as `postgres`.
    with tempfile.TemporaryDirectory(prefix="numecrivain-pg-") as folder:
        yield from _serve(Path(folder))


def _serve(workdir: Path) -> Iterator[str]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)")
    data, sockets = workdir / "pgdata", workdir / "pgsock"
    sockets.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "numecrivain", "--auth=trust",
                              "--encoding=UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "pg.log"),
                              "-w", "start"]), check=True, capture_output=True)
    try:
        subprocess.run(_as_owner([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "numecrivain",
                                  "numecrivain"]), check=True, capture_output=True)
        yield f"postgresql://numecrivain@127.0.0.1:{port}/numecrivain"
    finally:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       check=False, capture_output=True)
