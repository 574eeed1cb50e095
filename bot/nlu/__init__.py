"""Custom NLU pipeline components (Rasa 3.6 graph components)."""
