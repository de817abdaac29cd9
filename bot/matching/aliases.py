"""Alias groups: spellings of one name that a bare query word should all match (Kyiv / Kiev).

Groups are single words, compared on their normalised keys (so ``Kyiv's`` finds the Kyiv group). A word
in two groups merges them. Quoted phrases are literal and never expanded.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import yaml

from bot.matching.text import words


class AliasTable:
    """Immutable map from a word's key to the other keys of its group."""

    __slots__ = ("_groups", "_lookup")

    def __init__(self, groups: tuple[tuple[str, ...], ...] = ()) -> None:
        self._groups = groups
        self._lookup: dict[str, tuple[str, ...]] = {}
        for group in groups:
            for key in group:
                self._lookup[key] = tuple(k for k in group if k != key)

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[str]]) -> AliasTable:
        """Raises ValueError for an entry that is not exactly one word."""
        merged: list[list[str]] = []
        for group in groups:
            keys: list[str] = []
            for entry in group:
                tokens = words(str(entry))
                if len(tokens) != 1:
                    raise ValueError(f"alias {entry!r} must be a single word")
                if tokens[0].key not in keys:
                    keys.append(tokens[0].key)
            overlapping = [g for g in merged if set(g) & set(keys)]
            for g in overlapping:
                merged.remove(g)
                keys = g + [k for k in keys if k not in g]
            if len(keys) > 1:
                merged.append(keys)
        return cls(tuple(tuple(g) for g in merged))

    def extended(self, groups: Iterable[Iterable[str]]) -> AliasTable:
        """This table plus more groups (overlapping groups merge)."""
        return AliasTable.from_groups([*self._groups, *(list(g) for g in groups)])

    def alternatives(self, key: str) -> tuple[str, ...]:
        """The other keys of ``key``'s group (the same tuple object each time: queries share it)."""
        return self._lookup.get(key, ())

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        return self._groups

    def __len__(self) -> int:
        return len(self._groups)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AliasTable) and self._groups == other._groups

    def __hash__(self) -> int:
        return hash(self._groups)

    def __repr__(self) -> str:
        return f"AliasTable({len(self._groups)} groups)"


_default: AliasTable | None = None


def default_aliases() -> AliasTable:
    """The shipped groups from ``bot/matching/aliases.yaml`` (loaded once)."""
    global _default
    if _default is None:
        text = resources.files("bot.matching").joinpath("aliases.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text) or []
        _default = AliasTable.from_groups(data)
    return _default
