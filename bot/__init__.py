"""Numécrivain runtime: knowledge base, places finder, handoff service, channels and web pages."""
