"""What the operating system shows of a running stack: its processes, their command lines, what they listen on."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import requests

PROC = Path("/proc")


def command_line(pid: int) -> list[str]:
    """The argv of a process as `ps` shows it (empty when it is gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _parent(pid: int) -> int:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def children(parent: int) -> dict[int, list[str]]:
    """Direct children of a process: pid -> argv."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and _parent(int(entry.name)) == parent:
            found[int(entry.name)] = command_line(int(entry.name))
    return found


def service_pid(launcher_pid: int, module: str) -> int:
    """The pid of the launcher's child started as `python -m <module>`."""
    for pid, argv in children(launcher_pid).items():
        if "-m" in argv and module in argv:
            return pid
    raise LookupError(f"no child runs {module}")


def listening_addresses(port: int) -> set[str]:
    """The local addresses on which a TCP socket listens on this port (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port or len(address_hex) != width:
                continue
            raw = bytes.fromhex(address_hex)
            # /proc stores each 32-bit word in host (little-endian) order.
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(packed)))
    return found


def wait_for(url: str, timeout: float, expect: int = 200) -> float:
    """Seconds until the URL answers with this status; AssertionError after timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(url, timeout=5).status_code == expect:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer {expect} within {timeout} s")
