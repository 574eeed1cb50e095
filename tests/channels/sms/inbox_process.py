"""One SMS webhook process for the fault test: the real channel and inbox, an echo bot, replies written to a file.

    python -m tests.channels.sms.inbox_process DB_URL PORT REPLIES_FILE

The secrets, the coalescing window and the lease come from the environment (SMS_WEBHOOK_SIGNING_KEY,
NUMECRIVAIN_SMS_PEPPER, SMS_COALESCE_SECONDS, SMS_INBOX_LEASE_SECONDS), as in a Rasa process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.sms.channel import SmsInput
from bot.channels.sms.config import SmsConfig
from bot.channels.sms.store import SmsStore
from bot.db import make_engine


class FileSender:
    """Appends each SMS handed to the gateway to a file, flushed at once (the test reads it from outside)."""

    name = "android"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, phone: str, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as replies:
            replies.write(json.dumps({"to": phone, "text": text, "pid": os.getpid()}) + "\n")
            replies.flush()
            os.fsync(replies.fileno())

    async def close(self) -> None:
        return None


async def echo_bot(message: UserMessage) -> None:
    """Stands for Rasa: answers every message with its text."""
    await message.output_channel.send_text_message(message.sender_id, f"Réponse à : {message.text}")


def main() -> None:
    database_url, port, replies = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    channel = SmsInput(SmsConfig.load(), store=SmsStore(make_engine(database_url)),
                       senders={"android": FileSender(replies)}, internal_token="unused")
    app = Sanic(f"sms_inbox_process_{os.getpid()}")
    app.blueprint(channel.blueprint(echo_bot), url_prefix="/webhooks/sms")
    app.run(host="127.0.0.1", port=port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
