"""Per-commune access tokens: created by a CLI, stored only as SHA-256 hashes, checked on every call.

    python -m bot.secretariat.tokens create --commune 59350 --name "Mairie de Lille"
    python -m bot.secretariat.tokens create --admin --name "Conseil métropolitain du numérique"
    python -m bot.secretariat.tokens list
    python -m bot.secretariat.tokens revoke 3
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.future import Engine

from bot.paths import KNOWLEDGE_DIR
from bot.secretariat.store import secretariat_engine, tokens_table

TOKEN_PREFIX = "sec_"
ADMIN_COMMUNE = "mel"
MAX_TOKEN_LENGTH = 200


class TokenError(ValueError):
    """A token request that cannot be honoured (unknown commune, empty name...)."""


@dataclass(frozen=True)
class Secretariat:
    """Who is calling: the commune and the name the token was created for."""

    token_id: int
    commune: str
    name: str
    is_admin: bool


def hash_token(token: str) -> str:
    """The only form of a token the database ever holds."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def commune_names() -> dict[str, str]:
    """INSEE code -> name of the 95 communes of the MEL (data/knowledge/communes.csv)."""
    with (KNOWLEDGE_DIR / "communes.csv").open(encoding="utf-8", newline="") as handle:
        return {row["code_insee"]: row["nom"] for row in csv.DictReader(handle)}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def create_token(engine: Engine, name: str, commune: str | None = None, is_admin: bool = False) -> str:
    """Create a token and return it in clear (shown once; only its hash is stored)."""
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 120:
        raise TokenError("the name must have 2 to 120 characters")
    if is_admin:
        commune = commune or ADMIN_COMMUNE
    elif commune not in commune_names():
        raise TokenError(f"unknown commune code {commune!r}: use the INSEE code of a MEL commune (e.g. 59350)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            insert(tokens_table).values(
                token_hash=hash_token(token), commune=commune, name=name, is_admin=is_admin, created_at=_now()
            )
        )
    return token


def authenticate(engine: Engine, token: str | None) -> Secretariat | None:
    """The secretariat a token belongs to, or None when it is missing, unknown or revoked."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as connection:
        row = connection.execute(
            select(tokens_table).where(tokens_table.c.token_hash == hash_token(token))
        ).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None
    return Secretariat(row["id"], row["commune"], row["name"], bool(row["is_admin"]))


def revoke_token(engine: Engine, token_id: int) -> bool:
    """Revoke a token by its number; True when one was revoked."""
    with engine.begin() as connection:
        result = connection.execute(
            update(tokens_table)
            .where(tokens_table.c.id == token_id, tokens_table.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
    return result.rowcount > 0


def list_tokens(engine: Engine) -> list[dict[str, object]]:
    """Every token's number, commune, name and state (never the token itself)."""
    with engine.connect() as connection:
        rows = connection.execute(select(tokens_table).order_by(tokens_table.c.id)).mappings().all()
    return [
        {"id": r["id"], "commune": r["commune"], "name": r["name"], "admin": bool(r["is_admin"]),
         "created_at": r["created_at"], "revoked": r["revoked_at"] is not None}
        for r in rows
    ]


def main(argv: list[str] | None = None) -> int:
    """The token CLI."""
    parser = argparse.ArgumentParser(prog="python -m bot.secretariat.tokens", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: NUMECRIVAIN_DB_URL or var/numecrivain.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--commune", help="INSEE code of the commune, e.g. 59350 for Lille")
    create.add_argument("--name", required=True, help='who uses it, e.g. "Mairie de Lille"')
    create.add_argument("--admin", action="store_true", help="may read the usage figures (metropolitan council)")
    commands.add_parser("list", help="list tokens (numbers, communes, names; never the tokens)")
    revoke = commands.add_parser("revoke", help="revoke a token by its number")
    revoke.add_argument("token_id", type=int)
    args = parser.parse_args(argv)
    engine = secretariat_engine(args.db)
    if args.command == "create":
        try:
            token = create_token(engine, args.name, args.commune, args.admin)
        except TokenError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        commune = args.commune or ADMIN_COMMUNE
        label = commune_names().get(commune, "administration")
        print(f"Token for {args.name} ({commune}, {label}{', admin' if args.admin else ''}), shown only once:")
        print(token)
        return 0
    if args.command == "list":
        for row in list_tokens(engine):
            state = "revoked" if row["revoked"] else "active"
            role = "admin" if row["admin"] else ""
            print(f"{row['id']:>4}  {row['commune']:<6} {role:<5} {state:<8} {row['name']}")
        return 0
    if not revoke_token(engine, args.token_id):
        print(f"error: no active token number {args.token_id}", file=sys.stderr)
        return 1
    print(f"Token {args.token_id} revoked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
