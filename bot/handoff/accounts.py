"""Agent accounts: scrypt-hashed passwords, presence, and the CLI that creates them.

    python -m bot.handoff.accounts create NAME [--display-name "Alice"] [--role admin]   (asks the password twice)
    python -m bot.handoff.accounts display-name NAME "Alice"
    python -m bot.handoff.accounts role NAME admin|agent
    python -m bot.handoff.accounts list
    python -m bot.handoff.accounts disable NAME
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata
from bot.handoff.store import add_missing_columns, default_display_name, project_engine, utcnow

if __name__ == "__main__":
    # `python -m bot.handoff.accounts`: run the importable module instead, so that its tables are declared once
    # (the schema check imports every model module, this one included).
    from bot.handoff import accounts as _accounts

    sys.exit(_accounts.main())

agents_table = Table(
    "handoff_agents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("available", Boolean, nullable=False, default=False),
    Column("last_seen_at", DateTime),
    # What users read ("Alice a terminé la conversation"); the login name stays inside the team.
    Column("display_name", String(64)),
    # "agent" answers people; "admin" also manages the team's canned answers and sees the figures per agent.
    Column("role", String(16), nullable=False, server_default="agent"),
)
AGENT, ADMIN = "agent", "admin"
ROLES = (AGENT, ADMIN)

# scrypt cost: n=2**14, r=8, p=1 (16 MiB, ~50 ms): OWASP's minimum for interactive logins.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
NAME_PATTERN = re.compile(r"^[\w.@-]{2,64}$")
DISPLAY_NAME_PATTERN = re.compile(r"^[\w' .-]{1,40}$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A name or password that cannot be used."""


def hash_password(password: str) -> str:
    """A self-describing scrypt hash with a random 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Compared against when the name is unknown, so that timing does not reveal which names exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Agent:
    """A person who answers users in the console."""

    id: int
    name: str
    available: bool
    last_seen_at: datetime | None
    display_name: str = ""
    role: str = AGENT

    @property
    def public_name(self) -> str:
        """The name users read."""
        return self.display_name or default_display_name(self.name)

    @property
    def is_admin(self) -> bool:
        """May manage canned answers and read the figures per agent."""
        return self.role == ADMIN


def _agent(row: Row) -> Agent:
    return Agent(row.id, row.name, row.available, row.last_seen_at, row.display_name or default_display_name(row.name),
                 row.role or AGENT)


def check_role(role: str) -> str:
    """agent or admin."""
    if role not in ROLES:
        raise AccountError("Le rôle doit être « agent » ou « admin ».")
    return role


def check_display_name(display_name: str) -> str:
    """A display name users may read: letters, spaces, apostrophes, dots, hyphens; 1 to 40 characters."""
    display_name = " ".join(display_name.split())
    if not DISPLAY_NAME_PATTERN.match(display_name) or not any(c.isalpha() for c in display_name):
        raise AccountError("Le nom affiché doit faire 1 à 40 caractères : lettres, espaces, apostrophe, point, tiret.")
    return display_name


def _upgrade_agents(engine: Engine) -> None:
    """Accounts created before display names get their first name (prenom.nom → Prenom)."""
    add_missing_columns(engine, agents_table)
    with engine.begin() as conn:
        rows = conn.execute(select(agents_table.c.id, agents_table.c.name)
                            .where(agents_table.c.display_name.is_(None))).all()
        for row in rows:
            conn.execute(update(agents_table).where(agents_table.c.id == row.id)
                         .values(display_name=default_display_name(row.name)))


class AgentDirectory:
    """Accounts and presence of agents in the project database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)
        _upgrade_agents(self.engine)

    def create(self, name: str, password: str, now: datetime | None = None, display_name: str | None = None,
               role: str = AGENT) -> Agent:
        """A new account; AccountError for a bad name, a short password, a taken name or an unknown role."""
        display_name = check_display_name(display_name) if display_name else default_display_name(name)
        role = check_role(role)
        if not NAME_PATTERN.match(name):
            raise AccountError("Le nom doit faire 2 à 64 caractères : lettres, chiffres, point, tiret, @.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"Le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères.")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(agents_table).values(
                        name=name, password_hash=hash_password(password), created_at=now or utcnow(),
                        disabled=False, available=False, display_name=display_name, role=role,
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"Le compte « {name} » existe déjà.") from exc
        agent = self.by_name(name)
        assert agent is not None
        return agent

    def authenticate(self, name: str, password: str) -> Agent | None:
        """The agent when name and password match an active account, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(agents_table).where(agents_table.c.name == name, agents_table.c.disabled.is_(False))
            ).first()
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, row.password_hash):
            return None
        return _agent(row)

    def by_name(self, name: str) -> Agent | None:
        """The active agent with this name."""
        return self._active(agents_table.c.name == name)

    def by_id(self, agent_id: int) -> Agent | None:
        """The active agent with this id."""
        return self._active(agents_table.c.id == agent_id)

    def _active(self, condition: Any) -> Agent | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(agents_table).where(condition, agents_table.c.disabled.is_(False))).first()
        return _agent(row) if row else None

    def set_display_name(self, name: str, display_name: str) -> bool:
        """Change what users read for this account; False when there is no such account."""
        display_name = check_display_name(display_name)
        with self.engine.begin() as conn:
            result = conn.execute(update(agents_table).where(agents_table.c.name == name)
                                  .values(display_name=display_name))
        return result.rowcount == 1

    def set_role(self, name: str, role: str) -> bool:
        """Make an account an agent or an admin; False when there is no such account."""
        role = check_role(role)
        with self.engine.begin() as conn:
            result = conn.execute(update(agents_table).where(agents_table.c.name == name).values(role=role))
        return result.rowcount == 1

    def available_agents(self, now: datetime, presence_minutes: float) -> list[Agent]:
        """Colleagues marked available whose console was seen in the last minutes (for a transfer)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(agents_table).where(
                agents_table.c.available.is_(True), agents_table.c.disabled.is_(False),
                agents_table.c.last_seen_at >= now - timedelta(minutes=presence_minutes),
            ).order_by(agents_table.c.display_name)).all()
        return [_agent(row) for row in rows]

    def all(self) -> list[tuple[str, bool]]:
        """Names and disabled flags, for the CLI."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(agents_table.c.name, agents_table.c.disabled).order_by(agents_table.c.name))
            return [(row.name, bool(row.disabled)) for row in rows]

    def disable(self, name: str) -> bool:
        """Stop an account from logging in; its sessions die with it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(agents_table).where(agents_table.c.name == name).values(disabled=True, available=False)
            )
        return result.rowcount == 1

    def set_available(self, agent_id: int, available: bool, now: datetime | None = None) -> None:
        """The agent says whether they can take conversations."""
        with self.engine.begin() as conn:
            conn.execute(
                update(agents_table)
                .where(agents_table.c.id == agent_id)
                .values(available=available, last_seen_at=now or utcnow())
            )

    def heartbeat(self, agent_id: int, now: datetime | None = None) -> None:
        """The agent's console is open."""
        with self.engine.begin() as conn:
            conn.execute(update(agents_table).where(agents_table.c.id == agent_id).values(last_seen_at=now or utcnow()))

    def available_count(self, now: datetime, presence_minutes: float) -> int:
        """Agents marked available whose console was seen in the last minutes."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(agents_table).where(
                        agents_table.c.available.is_(True),
                        agents_table.c.disabled.is_(False),
                        agents_table.c.last_seen_at >= now - timedelta(minutes=presence_minutes),
                    )
                ).scalar_one()
            )


def _ask_password() -> str:
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Mot de passe (encore) : ")
    if first != second:
        raise AccountError("Les deux mots de passe sont différents.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.handoff.accounts", description="Comptes des agents.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="créer un compte (le mot de passe est demandé)")
    create.add_argument("name")
    create.add_argument("--display-name", help="le nom que lisent les usagers (par défaut : le prénom)")
    create.add_argument("--role", choices=ROLES, default=AGENT, help="admin : gère les réponses types (défaut : agent)")
    role = commands.add_parser("role", help="changer le rôle d'un compte (agent ou admin)")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    rename = commands.add_parser("display-name", help="changer le nom que lisent les usagers")
    rename.add_argument("name")
    rename.add_argument("display_name")
    commands.add_parser("list", help="lister les comptes")
    disable = commands.add_parser("disable", help="désactiver un compte")
    disable.add_argument("name")
    args = parser.parse_args(argv)
    directory = AgentDirectory()
    try:
        if args.command == "create":
            password = _ask_password() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
            agent = directory.create(args.name, password, display_name=args.display_name, role=args.role)
            print(f"Compte « {args.name} » ({agent.role}) créé. Les usagers verront : « {agent.public_name} ».")
        elif args.command == "role":
            if not directory.set_role(args.name, args.role):
                raise AccountError(f"Aucun compte « {args.name} ».")
            print(f"Le compte « {args.name} » a maintenant le rôle « {args.role} ».")
        elif args.command == "display-name":
            if not directory.set_display_name(args.name, args.display_name):
                raise AccountError(f"Aucun compte « {args.name} ».")
            print(f"Les usagers verront maintenant : « {check_display_name(args.display_name)} ».")
        elif args.command == "list":
            for name, disabled in directory.all():
                print(f"{name}{' (désactivé)' if disabled else ''}")
        elif args.command == "disable":
            if not directory.disable(args.name):
                raise AccountError(f"Aucun compte « {args.name} ».")
            print(f"Compte « {args.name} » désactivé.")
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
