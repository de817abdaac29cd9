import importlib
import importlib.util
import os
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
from pathlib import Path

from bot.matching import build

SUFFIX = EXTENSION_SUFFIXES[0]


def _write(path: Path, mtime: int) -> None:
    path.write_text("", encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_a_module_with_an_extension_beside_it_runs_compiled(tmp_path: Path) -> None:
    _write(tmp_path / "index.py", 100)
    _write(tmp_path / f"index{SUFFIX}", 200)
    _write(tmp_path / "parser.py", 100)
    assert build.compiled(tmp_path) == ["index"]
    assert build.stale(tmp_path) == []


def test_an_extension_older_than_its_source_is_stale_in_a_checkout(tmp_path: Path) -> None:
    package = tmp_path / "bot" / "matching"
    package.mkdir(parents=True)
    _write(package / "index.py", 300)
    _write(package / f"index{SUFFIX}", 200)
    _write(package / "text.py", 100)
    _write(package / f"text{SUFFIX}", 200)
    assert build.stale(package) == []  # installed: unpacking a wheel sets the times it likes
    _write(tmp_path / "setup.py", 100)
    assert build.stale(package) == ["index.py"]
    _write(package / "_scan.c", 300)
    _write(package / f"_scan{SUFFIX}", 200)
    assert build.stale(package) == ["_scan.c", "index.py"]


def test_what_is_reported_compiled_is_what_python_imported() -> None:
    modules = build.compiled()
    for name in ("document", "index", "parser", "text"):
        loader = importlib.import_module(f"bot.matching.{name}").__spec__.loader
        assert isinstance(loader, ExtensionFileLoader) == (name in modules)
    scanner = importlib.util.find_spec("bot.matching._scan") is not None
    assert build.scanner() == scanner
    expected = f"compiled with mypyc ({len(modules)} modules)" + (" and the C tokeniser" if scanner else "")
    assert build.describe() == (expected if modules else "pure Python")
