"""Subscription matching: the query language, text normalisation and the subscription index.

>>> from bot.matching import Document, SubscriptionIndex, parse_query
>>> index = SubscriptionIndex()
>>> index.add("q", parse_query('Kiev -"football club"'))
>>> sorted(index.match(Document("Blinken lands in Kyiv", "")))
['q']
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
