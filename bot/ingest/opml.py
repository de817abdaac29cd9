"""OPML subscription lists in and out (``python -m bot feeds import`` / ``export``). Pure: bytes to
feeds and feeds to bytes; the command line does the file and store I/O.

Parsing goes through defusedxml: a DTD that declares entities, or refers to external ones, is
rejected rather than expanded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as SafeET

from bot.core.errors import InputError

# XML 1.0 can't carry these at all, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline. ``category`` is the path of the outlines it sits in, joined with ``/``."""

    url: str
    title: str = ""
    category: str = ""


def parse_opml(body: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, in document order, nested outlines flattened, each URL once
    (the first outline wins). Raises :class:`InputError` when ``body`` is not OPML."""
    try:
        root = SafeET.fromstring(body)
    except defusedxml.DefusedXmlException as exc:
        raise InputError(f"not an OPML file: {_defused_reason(exc)}") from exc
    except ET.ParseError as exc:
        raise InputError(f"not an OPML file: malformed XML ({exc})") from exc
    if _local(root.tag) != "opml":
        raise InputError(f"not an OPML file: the root element is <{_local(root.tag)}>, not <opml>")
    body_element = next((child for child in root if _local(child.tag) == "body"), None)
    if body_element is None:
        raise InputError("not an OPML file: <opml> has no <body>")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for feed in _outlines(body_element, ()):
        if feed.url not in seen:
            seen.add(feed.url)
            feeds.append(feed)
    return feeds


def _outlines(parent: ET.Element, path: tuple[str, ...]) -> Iterator[OpmlFeed]:
    for element in parent:
        if _local(element.tag) != "outline":
            continue
        attrs = {key.lower(): value for key, value in element.attrib.items()}
        label = (attrs.get("title") or attrs.get("text") or "").strip()
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            yield OpmlFeed(url=url, title=label, category="/".join(path))
        yield from _outlines(element, (*path, label) if label and not url else path)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _defused_reason(exc: defusedxml.DefusedXmlException) -> str:
    if isinstance(exc, defusedxml.EntitiesForbidden):
        return "it declares XML entities, which are not expanded"
    if isinstance(exc, defusedxml.ExternalReferenceForbidden):
        return "it refers to external XML resources, which are not loaded"
    return f"forbidden XML construct ({type(exc).__name__})"


def render_opml(feeds: Iterable[OpmlFeed], title: str) -> bytes:
    """OPML 2.0, UTF-8, one ``<outline type="rss">`` per feed; feeds with a category are grouped
    under one outline per category, in first-seen order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml_text(title)
    body = ET.SubElement(root, "body")
    groups: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.category:
            if feed.category not in groups:
                label = _xml_text(feed.category)
                groups[feed.category] = ET.SubElement(body, "outline", text=label, title=label)
            parent = groups[feed.category]
        name = _xml_text(feed.title or feed.url)
        ET.SubElement(parent, "outline", type="rss", text=name, title=name, xmlUrl=_xml_text(feed.url))
    ET.indent(root, space="  ")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def new_feeds(feeds: Sequence[OpmlFeed], known_urls: Iterable[str]) -> list[OpmlFeed]:
    """The feeds whose URL the store does not have yet: importing a list twice adds nothing."""
    known = set(known_urls)
    return [feed for feed in feeds if feed.url not in known]
