"""The import rules of docs/architecture.md: which package may use Rasa, rasa-sdk, the actions and the portal."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.paths import PROJECT_ROOT

# What runs inside the Rasa process: the only code that may import Rasa itself.
RASA_PROCESS = ("bot/channels/", "bot/nlu/", "bot/tracker_store.py", "bot/lock_store.py", "bot/event_broker.py",
                "bot/rasa_server.py", "bot/rasa_speedups.py", "bot/resilience.py")


def imports(folder: str) -> Iterator[tuple[str, str]]:
    """(file relative to the project, imported module) for every absolute import under folder."""
    for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), relative)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield relative, node.module
            elif isinstance(node, ast.Import):
                yield from ((relative, alias.name) for alias in node.names)


def top(module: str) -> str:
    return module.split(".")[0]


def test_runtime_package_never_imports_the_actions_or_the_tests() -> None:
    assert [(f, m) for f, m in imports("bot") if top(m) in ("actions", "tests")] == []


def test_only_the_portal_imports_the_portal() -> None:
    assert [(f, m) for f, m in imports("bot") if m.startswith("bot.web") and not f.startswith("bot/web/")] == []
    assert [(f, m) for f, m in imports("actions") if m.startswith("bot.web")] == []


def test_rasa_is_imported_only_by_what_runs_in_the_rasa_process() -> None:
    assert [(f, m) for f, m in imports("bot") if top(m) == "rasa" and not f.startswith(RASA_PROCESS)] == []


def test_rasa_sdk_is_imported_only_by_the_actions_and_their_server() -> None:
    outside = [(f, m) for f, m in imports("bot") if top(m) == "rasa_sdk" and f != "bot/action_server.py"]
    assert outside == []
    assert [(f, m) for f, m in imports("actions") if top(m) == "rasa"] == []


def test_the_rules_see_the_imports_they_forbid() -> None:
    """The walker finds nested and lazy imports, so a rule cannot pass by seeing nothing."""
    found = {m for f, m in imports("bot") if f == "bot/web/app.py"} | {m for _, m in imports("actions")}
    assert "sanic" in found and "rasa_sdk" in found and "bot.settings" in found


def test_the_knowledge_base_never_imports_the_secretariat() -> None:
    """The secretariat builds on the knowledge base (ranking, answers, reports), never the other way round."""
    assert [(f, m) for f, m in imports("bot/knowledge") if m.startswith("bot.secretariat")] == []
