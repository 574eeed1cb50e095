"""Procedures knowledge base: one source of truth, rendered for every channel."""

from bot.knowledge.loader import KnowledgeError, get_knowledge_base, load_procedures
from bot.knowledge.model import Link, Procedure

__all__ = ["KnowledgeError", "Link", "Procedure", "get_knowledge_base", "load_procedures"]
