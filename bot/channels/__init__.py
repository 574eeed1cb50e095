"""Custom Rasa input/output channels (web chat, SMS)."""
