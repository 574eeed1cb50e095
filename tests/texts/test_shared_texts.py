"""One place per contact and per shared text: contacts.yml for numbers, bot/replies.py for the shared choices.

domain.yml's responses cannot import Python: their buttons are checked here against bot/replies.py. The widget
shows what the server puts into its script (bot/web/widget.py), and its own file holds no copy.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import yaml

from bot.channels.inputs import MAX_WEBCHAT_MESSAGE_CHARS
from bot.gsm7 import is_gsm7
from bot.knowledge.contacts import CONTACTS_FILE, describe, get_contacts, phone_help, tel_uri
from bot.paths import PROJECT_ROOT
from bot.replies import HUMAN_BUTTON, PHONE_HELP, PHONE_HELP_SMS, SHARED_BUTTONS, call_phone_help
from bot.web.widget import SHARED_MARKERS, WIDGET_DIR, shared_texts, widget_source

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
SHARED_PAYLOADS = {button.payload for button in SHARED_BUTTONS}
# The Solidarité Numérique line, paused since 2022 (contacts.yml says why): never offered again.
OLD_HELPLINE = "01 70 772 372"
# Where the bot's words and choices are written: code, widget, dialogue data. Not the tests nor the docs, and
# not data/knowledge/procedures/ (`make test` runs bot.knowledge.check on its texts; sources' notes stay as read).
SCANNED = ("bot/**/*.py", "bot/**/*.js", "bot/**/*.css", "bot/**/*.html", "actions/**/*.py",
           "domain.yml", "credentials.yml", "endpoints*.yml", "data/rules/*.yml", "data/stories/*.yml")


def number_pattern(phone: str) -> re.Pattern[str]:
    """A number written with any spacing or dots, not inside a longer number."""
    digits = re.sub(r"\D", "", phone)
    return re.compile(r"(?<![\d/])" + r"[\s.]?".join(digits) + r"(?![\d/])")


def numbers_written_outside_contacts() -> list[str]:
    """Every line of code or dialogue data that writes the number of a contact of contacts.yml."""
    numbers = {contact.id: contact.phone for contact in get_contacts().values() if contact.phone}
    numbers["solidarite_numerique (old)"] = OLD_HELPLINE
    patterns = {contact_id: number_pattern(phone) for contact_id, phone in numbers.items()}
    found = []
    files = {path for pattern in SCANNED for path in PROJECT_ROOT.glob(pattern)}
    for path in sorted(files - {CONTACTS_FILE}):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(PROJECT_ROOT)}:{number}: {contact_id}"
                      for contact_id, pattern in patterns.items() if pattern.search(line)]
    return found


def test_contact_numbers_are_written_only_in_contacts_yml() -> None:
    assert numbers_written_outside_contacts() == []


def test_the_scan_finds_a_number_written_by_hand(tmp_path: Path) -> None:
    phone = phone_help().phone or ""
    spaced, packed = number_pattern(phone), number_pattern(OLD_HELPLINE)
    assert spaced.search(f"appelez le {phone} !") and spaced.search(f"tel:{phone.replace(' ', '')}")
    assert packed.search("0170772372") and packed.search("01.70.77.23.72")
    assert not packed.search("30170772372")


def test_the_help_line_is_a_sourced_contact_with_a_number() -> None:
    contact = phone_help()
    assert contact.phone and not contact.unconfirmed
    assert any("phone" in source.backs and source.seen for source in contact.sources)
    assert describe(contact) == PHONE_HELP and contact.phone in PHONE_HELP
    assert is_gsm7(PHONE_HELP_SMS) and contact.phone in PHONE_HELP_SMS
    assert call_phone_help() == f"Vous pouvez appeler {PHONE_HELP}."


def test_domain_buttons_are_the_shared_buttons() -> None:
    shared = [button.as_dict() for button in SHARED_BUTTONS]
    used = [button for variations in DOMAIN["responses"].values() for variation in variations
            for button in variation.get("buttons") or [] if button.get("payload") in SHARED_PAYLOADS]
    assert used and all(button in shared for button in used), [b for b in used if b not in shared]
    assert HUMAN_BUTTON.as_dict() in used


def test_shared_button_titles_are_written_only_in_replies_py() -> None:
    titles = {button.title for button in SHARED_BUTTONS}
    copies = []
    for path in sorted([*PROJECT_ROOT.glob("bot/**/*.py"), *PROJECT_ROOT.glob("actions/**/*.py")]):
        if path == PROJECT_ROOT / "bot" / "replies.py":
            continue
        text = path.read_text(encoding="utf-8")
        if not any(title in text for title in titles):
            continue
        tree = ast.parse(text)
        copies += [f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and node.value in titles]
    assert copies == []


def test_the_shared_buttons_have_one_title_each() -> None:
    titles = [button.title for button in SHARED_BUTTONS]
    assert len(set(titles)) == len(titles)
    assert len({button.payload for button in SHARED_BUTTONS if button.title == HUMAN_BUTTON.title}) == 1


def test_widget_file_holds_no_copy_of_shared_texts() -> None:
    script = (WIDGET_DIR / "numecrivain.js").read_text(encoding="utf-8")
    start, end = SHARED_MARKERS
    assert f"{start}null{end}" in script
    for button in SHARED_BUTTONS:
        assert button.title not in script and f'"{button.payload}"' not in script, button
    assert (phone_help().phone or "?") not in script and phone_help().name not in script
    assert not re.search(rf"(?<!\d){MAX_WEBCHAT_MESSAGE_CHARS}(?!\d)", script)


def test_served_widget_gets_the_shared_texts_from_the_server() -> None:
    script = widget_source("numecrivain.js")
    start, end = SHARED_MARKERS
    served = json.loads(script.split(start, 1)[1].split(end, 1)[0])
    contact = phone_help()
    assert served == shared_texts()
    assert served["help"] == {"name": contact.name, "phone": contact.phone, "tel": tel_uri(contact.phone or "")}
    assert served["human"] == HUMAN_BUTTON.as_dict()
    assert served["max_chars"] == MAX_WEBCHAT_MESSAGE_CHARS
