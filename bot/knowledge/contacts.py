"""Contacts written once (data/knowledge/contacts.yml) and the placeholders that bring them into texts.

A procedure text never writes a phone number: it writes {contact:ID}, {phone:ID} or {name:ID}, and
`expand` replaces them for the channel (GSM-7 for SMS).
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.gsm7 import to_gsm7
from bot.knowledge.model import Contact, Source
from bot.knowledge.schema import CONTACT_SCHEMA, schema_problems, sound_entries
from bot.paths import KNOWLEDGE_DIR

CONTACTS_FILE = KNOWLEDGE_DIR / "contacts.yml"
# The line offered when a person is needed and the chat cannot help. Solidarité Numérique's current status
# could not be confirmed by an official text (sources stop in 2020): Allô Service Public is the national line.
PHONE_HELP_ID = "allo_service_public"

# {contact:caf}, {phone:caf}, {name:caf}: bounded, linear pattern.
PLACEHOLDER = re.compile(r"\{(contact|phone|name):([a-z][a-z0-9_]{0,40})\}")
# A French phone number written in a text: 10 digits (01 23 45 67 89, 0 800 123 456, 0123456789)
# or a 4-digit service number written "12 34" / "1234" beside a telephone word.
_TEN_DIGITS = re.compile(r"(?<![\d/])0\s?[1-9](?:[\s.]?\d){8}(?!\d)")
_SHORT_NUMBER = re.compile(
    r"(?:\b(?:au|le|appelez|appeler|t[ée]l[ée]phone|t[ée]l\.?|num[ée]ro)\s*:?\s*)(\d{2}\s?\d{2})(?!\s?\d)",
    re.IGNORECASE,
)


class ContactError(ValueError):
    """contacts.yml does not follow the format, or a text names an unknown contact."""


def dates_to_text(value: Any) -> Any:
    """YAML reads 2026-12-02 as a date: turn dates back into ISO text before JSON-schema validation."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: dates_to_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dates_to_text(item) for item in value]
    return value


def source_from_dict(raw: dict[str, Any]) -> Source:
    return Source(
        id=raw["id"], url=raw["url"], title=raw["title"], publisher=raw["publisher"],
        seen=date.fromisoformat(raw["seen"]), backs=tuple(raw["backs"]),
        version=date.fromisoformat(raw["version"]) if raw.get("version") else None,
        review_by=date.fromisoformat(raw["review_by"]) if raw.get("review_by") else None,
        note=" ".join(str(raw.get("note") or "").split()),
    )


def load_contacts(path: Path = CONTACTS_FILE) -> dict[str, Contact]:
    """Read and validate contacts.yml; raise ContactError listing every problem."""
    try:
        entries = dates_to_text(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise ContactError(f"{path.name}: cannot be read ({exc})") from exc
    if not isinstance(entries, list):
        raise ContactError(f"{path.name}: must be a list of contacts")
    validator = jsonschema.Draft7Validator(CONTACT_SCHEMA)
    contacts: dict[str, Contact] = {}
    errors: list[str] = []
    for label, entry in sound_entries(path.name, entries, lambda entry: schema_problems(validator, entry), errors):
        if entry["id"] in contacts:
            errors.append(f"{label}: duplicate id")
            continue
        contacts[entry["id"]] = Contact(
            id=entry["id"], name=entry["name"], phone=entry["phone"], hours=entry["hours"], url=entry["url"],
            review_by=date.fromisoformat(entry["review_by"]),
            sources=tuple(source_from_dict(raw) for raw in entry["sources"]),
            address=entry.get("address"), email=entry.get("email"),
            note=" ".join(str(entry.get("note") or "").split()),
            unconfirmed=bool(entry.get("unconfirmed")),
            verified=date.fromisoformat(entry["verified"]) if entry.get("verified") else None,
        )
    if errors:
        raise ContactError("\n".join(errors))
    return contacts


@functools.lru_cache(maxsize=1)
def get_contacts(path: Path = CONTACTS_FILE) -> dict[str, Contact]:
    """The project's contacts, loaded once per process."""
    return load_contacts(path)


def short_url(url: str) -> str:
    """The URL as a person would type it: without https:// and www., nor a trailing slash."""
    return re.sub(r"^https://(www\.)?", "", url).rstrip("/")


def describe(contact: Contact) -> str:
    """'Name au 01 23 45 67 89 (hours)', or 'Name (site.fr)' when there is no confirmed number."""
    if contact.phone is None:
        return f"{contact.name} ({short_url(contact.url)})"
    hours = f" ({contact.hours})" if contact.hours else ""
    return f"{contact.name} au {contact.phone}{hours}"


def placeholders(text: str) -> list[tuple[str, str]]:
    """The (kind, id) placeholders a text uses, in order."""
    return [(match.group(1), match.group(2)) for match in PLACEHOLDER.finditer(text)]


def expand(text: str, contacts: dict[str, Contact] | None = None, sms: bool = False) -> str:
    """Replace {contact:ID}, {phone:ID} and {name:ID} (in GSM-7 for SMS). Unknown ids raise ContactError."""
    contacts = get_contacts() if contacts is None else contacts

    def replace(match: re.Match[str]) -> str:
        kind, contact_id = match.group(1), match.group(2)
        contact = contacts.get(contact_id)
        if contact is None:
            raise ContactError(f"unknown contact id {contact_id!r}")
        if kind == "name":
            value = contact.name
        elif kind == "phone":
            value = contact.phone or short_url(contact.url)
        else:
            value = describe(contact)
        return to_gsm7(value) if sms else value

    return PLACEHOLDER.sub(replace, text)


def _number_pattern(phone: str) -> re.Pattern[str]:
    """A known number written with any spacing (12 34, 1234, 1 2 3 4), not inside a longer number."""
    digits = re.sub(r"\D", "", phone)
    return re.compile(r"(?<![\d/])" + r"[\s.]?".join(digits) + r"(?![\d/])")


def literal_phone_numbers(text: str, contacts: dict[str, Contact] | None = None) -> list[str]:
    """Phone numbers written literally in a text (placeholders removed first), known contacts' numbers included."""
    text = PLACEHOLDER.sub(" ", text)
    found = [match.group(0).strip() for match in _TEN_DIGITS.finditer(text)]
    found += [match.group(1) for match in _SHORT_NUMBER.finditer(text)]
    for contact in (contacts or {}).values():
        if contact.phone:
            found += [match.group(0).strip() for match in _number_pattern(contact.phone).finditer(text)]
    return sorted(set(found), key=found.index)


def tel_uri(phone: str) -> str:
    """'01 23 45 67 89' -> 'tel:+33123456789'; a short number such as '12 34' -> 'tel:1234'."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 10 and digits.startswith("0"):
        return f"tel:+33{digits[1:]}"
    return f"tel:{digits}"


def phone_help(contacts: dict[str, Contact] | None = None) -> Contact:
    """The national line to call when the chat cannot help (PHONE_HELP_ID in contacts.yml)."""
    contacts = get_contacts() if contacts is None else contacts
    return contacts[PHONE_HELP_ID]
