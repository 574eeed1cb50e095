"""Fixtures of an SMS service wired to the fakes (clock, scripted bot, recording gateway)."""

from tests.channels.sms.fakes import bot, clock, sender, service

__all__ = ["bot", "clock", "sender", "service"]
