"""Subscription matching: the query language, text normalisation and the subscription index.

* :func:`parse_query` turns what a user typed into an immutable, hashable :class:`Query` whose
  ``canonical`` text is echoed back and used as the storage key (rules in :mod:`bot.matching.query`,
  syntax and case overrides in :mod:`bot.matching.parser`: ``=us`` exact case, ``~US`` case-blind).
* :class:`Document` tokenises an article once (:mod:`bot.matching.text` has the normalisation rules).
* :func:`evaluate` is the brute-force reference: one query, one document, the spans that made it fire.
* :class:`SubscriptionIndex` finds every matching query among many without looking at each
  (:mod:`bot.matching.index`); it returns exactly what :func:`evaluate` would.
* :class:`AliasTable` holds spelling variants (Kyiv / Kiev); :func:`default_aliases` loads the shipped
  ``aliases.yaml``, ``.extended(groups)`` adds configured ones.

>>> from bot.matching import Document, SubscriptionIndex, parse_query
>>> query = parse_query('Kiev -"football club"')
>>> query.canonical
'kiev AND NOT "football club"'
>>> index = SubscriptionIndex()
>>> index.add(query.canonical, query)
>>> index.match(Document("Blinken lands in Kyiv", ""))
{'kiev AND NOT "football club"': (Span(start=17, end=21, text='Kyiv'),)}
"""

from bot.matching.aliases import AliasTable, default_aliases
from bot.matching.document import Document
from bot.matching.evaluate import evaluate
from bot.matching.index import SubscriptionIndex
from bot.matching.parser import parse_query
from bot.matching.query import Query

__all__ = [
    "AliasTable",
    "Document",
    "Query",
    "SubscriptionIndex",
    "default_aliases",
    "evaluate",
    "parse_query",
]
