"""bot.store sits below every stage: it imports bot.core and itself, so a backend can be added (or the
store used by a tool) without the ingest, processing, delivery or web code, or any platform."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

ALLOWED = ("bot.core", "bot.store")


def bot_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:  # the bot imports absolutely: report these
            modules.add("." * node.level + (node.module or ""))
    return {m for m in modules if m.split(".")[0] in ("bot", "handlers") or m.startswith(".")}


def allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_bot_store_imports_only_core_and_itself() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: {module}"
        for path in sorted((REPO / "bot" / "store").rglob("*.py"))
        for module in sorted(bot_imports(path.read_text(encoding="utf-8")))
        if not allowed(module)
    ]
    assert offenders == []


def test_importing_bot_store_loads_nothing_else_of_the_bot() -> None:
    code = (
        "import sys, bot.store\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'handlers')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = ast.literal_eval(result.stdout.strip())
    assert "bot.store.sqlite" in loaded
    assert [m for m in loaded if m != "bot" and not allowed(m)] == []


def test_the_check_would_catch_a_stage_import() -> None:
    source = "from bot.processing.alerts import alert_id\nimport bot.ingest.feeds\nfrom . import x\n"
    assert {m for m in bot_imports(source) if not allowed(m)} == {
        "bot.processing.alerts",
        "bot.ingest.feeds",
        ".",
    }
