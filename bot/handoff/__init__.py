"""Handoff to a person: the persistent queue, agent accounts and sessions, availability, relay and watchdog.

Entry points: `service.request_handoff` (action server), `console.HandoffDesk` (portal), `accounts` (CLI).
"""
