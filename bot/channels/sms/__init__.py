"""SMS channel for basic phones: SMS Gateway for Android or Twilio, GSM-7 replies, numbered menus.

The Rasa classes are imported lazily so that the fake gateway and the CLI start without loading Rasa.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SmsInput", "SmsOutput"]


def __getattr__(name: str) -> Any:
    if name == "SmsInput":
        from bot.channels.sms.channel import SmsInput

        return SmsInput
    if name == "SmsOutput":
        from bot.channels.sms.service import SmsOutput

        return SmsOutput
    raise AttributeError(name)
