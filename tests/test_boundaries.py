"""The core pipeline must not depend on any chat SDK: bot/ works, and is tested, without them."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

CHAT_SDKS = ("discord", "slack_bolt", "slack_sdk")


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_nothing_under_bot_imports_a_chat_sdk() -> None:
    offenders = []
    for path in sorted((REPO / "bot").rglob("*.py")):
        for module in imported_modules(path.read_text(encoding="utf-8")):
            if module.split(".")[0] in CHAT_SDKS:
                offenders.append(f"{path.relative_to(REPO)}: {module}")
    assert offenders == []


def test_importing_every_core_module_loads_no_chat_sdk() -> None:
    code = (
        "import importlib, pkgutil, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {CHAT_SDKS!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_ast_check_would_catch_an_sdk_import() -> None:
    assert "discord.ext.commands" in imported_modules(
        "from discord.ext import commands\nimport discord.ext.commands"
    )
    assert "slack_bolt" in imported_modules("import slack_bolt as sb")
