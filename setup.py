"""Compiles the matching package with mypyc; everything else is configured in pyproject.toml.

The modules of ``bot/matching`` (tokenising, the query language and the subscription index) are plain typed
Python; mypyc turns them into C extensions that Python imports instead of the sources (what that buys
is measured by ``bench/matching.py``: the README's performance table). ``NEWSBOT_COMPILE=0`` skips it:
the same sources then run as they are, for a machine without a C compiler.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import Extension, setup

NOT_COMPILED = {"__init__.py", "build.py"}
"""``build.py`` reports on the compiled modules, so it must run whether or not they were built."""


def extensions() -> list[object]:
    if os.environ.get("NEWSBOT_COMPILE", "1") == "0":
        return []
    from mypyc.build import mypycify

    sources = sorted(str(p) for p in Path("bot/matching").glob("*.py") if p.name not in NOT_COMPILED)
    scanner = Extension("bot.matching._scan", ["bot/matching/_scan.c"], extra_compile_args=["-O3"])
    return [*mypycify(sources, group_name="bot.matching._compiled"), scanner]


setup(ext_modules=extensions())
