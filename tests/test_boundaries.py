"""Who may import whom (docs/architecture.md): the core pipeline depends on no chat SDK, bot/'s stage
packages import only the stages below them (so there are no cycles), and the config is read only by
the composition root and the command line."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO

CHAT_SDKS = ("discord", "slack_bolt", "slack_sdk")


LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"matching", "store", "stories", "summarise"}),
    frozenset({"ingest"}),
    frozenset({"processing", "delivery", "web"}),
    frozenset({"platforms", "observe"}),
    frozenset({"config"}),
    frozenset({"assembly"}),
    frozenset({"app", "logs"}),
    frozenset({"__main__"}),
)
"""bot/'s stages from the bottom up. A stage imports itself and the layers below it, never one beside
or above it; handlers/ stands on top and may use everything below the composition root."""
COMPOSITION = frozenset({"app", "__main__", "logs", "config", "assembly"})


def stage(module: str) -> str | None:
    """``bot.ingest.fetch`` -> ``ingest``; ``handlers.slack.adapter`` -> ``handlers``; None outside."""
    top, _, rest = module.partition(".")
    if top == "handlers":
        return "handlers"
    return rest.split(".")[0] if top == "bot" and rest else None


def imports_by_module() -> dict[str, set[str]]:
    found = {}
    for path in sorted([*(REPO / "bot").rglob("*.py"), *(REPO / "handlers").rglob("*.py")]):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found[module] = imported_modules(path.read_text(encoding="utf-8"))
    return found


def layer(name: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if name in names)


def test_every_stage_of_bot_is_placed_in_a_layer() -> None:
    stages = {stage(module) for module in imports_by_module()} - {"handlers", None}
    assert stages == set().union(*LAYERS)


def test_stages_import_only_the_layers_below_them() -> None:
    offenders = []
    for module, imported in imports_by_module().items():
        here = stage(module)
        for target in {stage(name) for name in imported} - {None, here}:
            if target == "handlers":
                offenders.append(f"{module} imports handlers")
            elif here == "handlers":
                if target in COMPOSITION:
                    offenders.append(f"{module} imports bot.{target}")
            elif here is not None and layer(target) >= layer(here):
                offenders.append(f"{module} ({here}) imports bot.{target}")
    assert offenders == []


@pytest.mark.parametrize("package", sorted(set().union(*LAYERS[:5])))
def test_importing_a_stage_loads_only_the_layers_below_it(package: str) -> None:
    """What Python really loads, which a source check can miss (an import inside an ``__init__``)."""
    code = (  # the package and every module in it
        f"import importlib, pkgutil, sys, bot.{package} as p\n"
        "for m in pkgutil.walk_packages(getattr(p, '__path__', []), p.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bot.', 'handlers'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = {stage(m) for m in ast.literal_eval(result.stdout.strip())} - {package}
    assert [s for s in loaded if s == "handlers" or layer(str(s)) >= layer(package)] == []


def test_bot_and_handlers_import_absolutely() -> None:
    """The layer checks read absolute module names; a relative import would slip past them."""
    relative = []
    for path in sorted([*(REPO / "bot").rglob("*.py"), *(REPO / "handlers").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                relative.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert relative == []


def test_only_the_composition_root_and_the_cli_read_the_config() -> None:
    readers = {
        m
        for m, imported in imports_by_module().items()
        if stage(m) != "config" and any(stage(i) == "config" for i in imported)
    }
    assert readers == {"bot.app", "bot.assembly", "bot.__main__"}


def test_the_layer_check_would_catch_an_upward_import() -> None:
    assert layer("store") < layer("ingest") < layer("processing") < layer("config")
    source = "from bot.processing import pipeline\nimport bot.web\nfrom bot import config"
    assert {stage(m) for m in imported_modules(source)} == {"processing", "web", "config", None}


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            if node.module in ("bot", "handlers"):  # `from bot import config` imports bot.config
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
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
