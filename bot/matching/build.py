"""Whether matching runs compiled.

``make build`` and ``pip install`` compile this package's modules with mypyc into C extensions beside
their sources, and build ``_scan.c`` (see ``setup.py``). Python imports an extension in preference to
the ``.py`` of the same name, so an extension older than its source would quietly run old code:
:func:`stale` names those.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

HERE = Path(__file__).resolve().parent


def compiled(package: Path = HERE) -> list[str]:
    """The modules of this package that Python will import compiled (an extension for this interpreter
    sits beside the source)."""
    return sorted(source.stem for source in package.glob("*.py") if _extension(source) is not None)


def scanner(package: Path = HERE) -> bool:
    """Whether ``_scan.c``, the ASCII path's token tables in C, was built (see ``text.token_tables``)."""
    return _extension(package / "_scan.c") is not None


def stale(package: Path = HERE) -> list[str]:
    """Compiled modules whose source changed after they were built (``make build`` rebuilds them).

    Only a source checkout (``setup.py`` at its top) builds in place; an installed wheel's extensions
    and sources come from one build, whatever times its files were given on unpacking."""
    if not (package.parents[1] / "setup.py").exists():
        return []
    found = []
    for source in sorted([*package.glob("*.py"), *package.glob("*.c")]):
        extension = _extension(source)
        if extension is not None and extension.stat().st_mtime < source.stat().st_mtime:
            found.append(source.name)
    return found


def describe() -> str:
    modules = compiled()
    if not modules:
        return "pure Python"
    return f"compiled with mypyc ({len(modules)} modules)" + (" and the C tokeniser" if scanner() else "")


def _extension(source: Path) -> Path | None:
    for suffix in EXTENSION_SUFFIXES:
        candidate = source.parent / (source.stem + suffix)
        if candidate.exists():
            return candidate
    return None
