"""Defences shared by every service: rate limits kept in the project database."""
