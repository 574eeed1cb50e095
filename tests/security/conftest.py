"""Fixtures shared with the channel and widget tests: the SMS fakes and Debian's chromium through Playwright."""

from tests.channels.sms.fakes import bot, clock, sender, service
from tests.web.conftest import browser, context, page

__all__ = ["bot", "browser", "clock", "context", "page", "sender", "service"]
