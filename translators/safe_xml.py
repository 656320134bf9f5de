"""Hardened parsing of untrusted XML.

Entities are never resolved, DTDs never loaded, the network never touched, and a
document with a DOCTYPE or entity declaration is refused outright.  Inputs over
``MAX_INPUT_BYTES`` are refused before parsing.  Every failure is a
``TranslationError`` whose diagnostic carries the line and column.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from translators.diagnostics import Diagnostics
from translators.errors import TranslationError

MAX_INPUT_BYTES = 1024 * 1024  # 1 MiB

_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# A prefixed tag (`<amazon:effect`) or attribute (`amazon:max-duration="2s"`): group 1 is the prefix.
_PREFIXED_TAG = re.compile(rb"(?:</?|\s(?=[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*\s*=))([A-Za-z_][\w.-]*):[A-Za-z_]")
_ROOT_START = re.compile(rb"<([A-Za-z_][\w.-]*)(?=[\s/>])")
# Namespace given to prefixes a document uses without declaring (Twilio accepts `<amazon:effect>`).
UNDECLARED_NS = "urn:bxml-migrate:undeclared:"


def _declare_prefixes(data: bytes) -> bytes:
    """Declare, on the root element, prefixes that tags and attributes use without a declaration.

    The declaration is inserted on the root's own line, so line numbers stay true.
    """
    prefixes = {m.group(1) for m in _PREFIXED_TAG.finditer(data)} - {b"xml", b"xmlns"}
    prefixes = {p for p in prefixes if b"xmlns:" + p + b"=" not in data}
    if not prefixes:
        return data
    root = None
    for match in _ROOT_START.finditer(data):
        before = data[: match.start()]
        if before.count(b"<!--") == before.count(b"-->"):  # not inside a comment
            root = match
            break
    if root is None:
        return data
    decls = b"".join(b" xmlns:" + p + b'="' + UNDECLARED_NS.encode() + p + b'"' for p in sorted(prefixes))
    return data[: root.end()] + decls + data[root.end():]


class _Parsers(threading.local):
    """This thread's parsers, one per encoding: lxml parsers are reusable but not thread-safe."""

    def __init__(self) -> None:
        self.by_encoding: dict[str | None, etree.XMLParser] = {}


_PARSERS = _Parsers()


def _parser(encoding: str | None) -> etree.XMLParser:
    parser = _PARSERS.by_encoding.get(encoding)
    if parser is None:
        parser = _PARSERS.by_encoding[encoding] = _new_parser(encoding)
    return parser


def _new_parser(encoding: str | None) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=True,
        strip_cdata=True,
        encoding=encoding,
    )


def _fail(code: str, message: str, line: int | None = None, column: int | None = None) -> TranslationError:
    diagnostics = Diagnostics()
    diagnostics.add(code, message, line, column=column)
    return TranslationError(diagnostics.items)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def parse_untrusted(source: str | bytes, *, max_bytes: int = MAX_INPUT_BYTES) -> etree._Element:
    """Parse ``source`` into an element tree, refusing anything unsafe or malformed."""
    if isinstance(source, str):
        data, encoding = source.encode("utf-8"), "utf-8"
    elif isinstance(source, bytes | bytearray | memoryview):
        data, encoding = bytes(source), None
    else:
        raise TypeError(f"source must be str or bytes, not {type(source).__name__}")
    if len(data) > max_bytes:
        raise _fail("BXM004", f"input is {len(data)} bytes, over the {max_bytes}-byte limit (the position is "
                    "where the limit is passed)", *_position(data, max_bytes))
    found = _DOCTYPE.search(data)
    if found:
        line, column = _position(data, found.start())
        raise _fail("BXM003", "DOCTYPE and entity declarations are not allowed", line, column)
    if not data.strip():
        raise _fail("BXM001", "the document is empty", 1, 1)
    data = _declare_prefixes(data)
    try:
        root = etree.fromstring(data, _parser(encoding))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = exc.msg or str(exc)
        message = re.sub(r", line \d+, column \d+$", "", message)
        raise _fail("BXM001", message, line, column) from None
    except ValueError as exc:  # e.g. unsupported encoding
        raise _fail("BXM001", str(exc), 1, 1) from None
    if root.getroottree().docinfo.doctype:
        raise _fail("BXM003", "DOCTYPE declarations are not allowed", 1, 1)
    return root
