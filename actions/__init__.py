"""Thin rasa-sdk actions: read slots and entities, call bot/, render for the channel."""
