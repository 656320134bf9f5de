"""Hardened parsing of untrusted XML.

Entities are never resolved, DTDs never loaded, the network never touched, and a
document with a DOCTYPE or entity declaration is refused outright.  Inputs over
``MAX_INPUT_BYTES`` are refused before parsing.  Every failure is a
``TranslationError`` whose diagnostic carries the line and column.
"""

from __future__ import annotations

import codecs
import re
import threading
from functools import lru_cache

from lxml import etree

from translators.diagnostics import Diagnostics
from translators.errors import TranslationError

MAX_INPUT_BYTES = 1024 * 1024  # 1 MiB

_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DOCTYPE_TEXT = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# Byte-order marks and, without one, the first bytes of "<" / "<?" in each wide encoding (XML 1.0 appendix F).
# UTF-32 first: its little-endian mark begins with UTF-16's.
_WIDE_SIGNATURES: tuple[tuple[bytes, str, int], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be", 4), (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\xfe\xff", "utf-16-be", 2), (b"\xff\xfe", "utf-16-le", 2),
    (b"\x00\x00\x00<", "utf-32-be", 0), (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<", "utf-16-be", 0), (b"<\x00", "utf-16-le", 0),
)
_DECLARED_ENCODING = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"'<>]*)[\"']")
_DECLARATION_STARTS = (b"<?xml", b"\xef\xbb\xbf<?xml")  # where _DECLARED_ENCODING can match
# The usual declarations: _DECLARED_ENCODING would find UTF-8 in them, which needs no text scan.
_UTF8_DECLARATIONS = (b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="utf-8"?>')
# Declared encodings in which the bytes "<!DOCTYPE" are the only way to write it: the byte scan is enough.
_ASCII_TRANSPARENT = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "cp1252"})
# A prefixed tag (`<amazon:effect`) or attribute (`amazon:max-duration="2s"`): group 1 is the prefix.
_PREFIXED_TAG = re.compile(rb"(?:</?|\s(?=[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*\s*=))([A-Za-z_][\w.-]*):[A-Za-z_]")
_PREFIX_HINT = re.compile(rb":[A-Za-z_]")  # every prefixed name has one: most documents have none
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")  # [A-Za-z_]
_NAME_BYTES = _NAME_START | frozenset(b"0123456789.-")  # [\w.-]
_SPACE_BYTES = frozenset(b" \t\n\r\f\v")  # \s
_ROOT_START = re.compile(rb"<([A-Za-z_][\w.-]*)(?=[\s/>])")
# Namespace given to prefixes a document uses without declaring (Twilio accepts `<amazon:effect>`).
UNDECLARED_NS = "urn:bxml-migrate:undeclared:"


def _used_prefixes(data: bytes) -> set[bytes]:
    """The prefixes ``_PREFIXED_TAG`` finds (group 1 of each match), found from the colons.

    A match starts at ``<``, ``</`` or white space and holds none of them after its first byte,
    so matches never overlap and each is the name run just before a colon.  Looking only at the
    few colons costs far less than running the regex, which tries every byte.
    """
    found: set[bytes] = set()
    hint = _PREFIX_HINT.search(data)
    while hint is not None:
        colon = hint.start()
        start = colon
        while start and data[start - 1] in _NAME_BYTES:
            start -= 1
        if 0 < start < colon and data[start] in _NAME_START:
            before = data[start - 1]
            tag = before == 0x3C or (before == 0x2F and start > 1 and data[start - 2] == 0x3C)  # "<", "</"
            if tag or (before in _SPACE_BYTES and _names_an_attribute(data, colon + 1)):
                found.add(data[start:colon])
        hint = _PREFIX_HINT.search(data, colon + 1)
    return found


def _names_an_attribute(data: bytes, at: int) -> bool:
    """Whether a name starting at ``at`` is followed by ``=`` (white space allowed between)."""
    end = at + 1
    while end < len(data) and data[end] in _NAME_BYTES:
        end += 1
    while end < len(data) and data[end] in _SPACE_BYTES:
        end += 1
    return end < len(data) and data[end] == 0x3D  # "="


def _declare_prefixes(data: bytes) -> bytes:
    """Declare, on the root element, prefixes that tags and attributes use without a declaration.

    The declaration is inserted on the root's own line, so line numbers stay true.
    """
    prefixes = _used_prefixes(data) - {b"xml", b"xmlns"}
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


@lru_cache(maxsize=64)
def _codec_name(label: str) -> str:
    """Python's name for a declared encoding ("" when Python has no such codec)."""
    try:
        return codecs.lookup(label).name
    except LookupError:
        return ""


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _declaration_at(data: bytes) -> int:
    """Where ``_DOCTYPE`` first matches in ``data``, or -1 (found from the rare ``!``, not the many ``<``)."""
    at = data.find(b"!")
    while at != -1:
        if at and data[at - 1] == 0x3C:  # "<!"
            word = data[at + 1:at + 8].upper()
            if word == b"DOCTYPE" or word[:6] == b"ENTITY":
                return at - 1
        at = data.find(b"!", at + 1)
    return -1


def _refuse_declarations(data: bytes, sniff: bool) -> None:
    """Raise BXM003 for a DOCTYPE or entity declaration, in whatever encoding the parser will read.

    ``sniff``: the bytes are decoded by their byte-order mark or declaration (not ``str`` input,
    which the parser reads as UTF-8).  UTF-16/32 documents (mark or first bytes) and documents
    declaring an encoding other than UTF-8/ASCII/Latin-1 are decoded and scanned as text (UTF-7 can
    write ``<`` as ``+ADw-``); the position is then in characters.  A declared encoding Python cannot
    decode cannot be scanned, so it is refused (BXM001) rather than trusted.
    """
    found = _declaration_at(data)
    if found != -1:
        line, column = _position(data, found)
        raise _fail("BXM003", "DOCTYPE and entity declarations are not allowed", line, column)
    if not sniff or data.startswith(_UTF8_DECLARATIONS):
        return
    encoding, skip, label, label_at = "", 0, "", 0
    # Every wide signature starts with NUL, 0xFE or 0xFF, or has NUL second: look only then.
    if data[:1] in (b"\x00", b"\xfe", b"\xff") or data[1:2] == b"\x00":
        for signature, name, length in _WIDE_SIGNATURES:
            if data.startswith(signature):
                encoding, skip = name, length
                break
    if not encoding:
        declared = _DECLARED_ENCODING.match(data) if data.startswith(_DECLARATION_STARTS) else None
        if declared is None:
            return
        label, label_at = declared.group(1).decode("ascii", "replace").strip(), declared.start(1)
        encoding = _codec_name(label)
        if encoding in _ASCII_TRANSPARENT:
            return
    try:
        text = data[skip:].decode(encoding, errors="replace")
    except LookupError:  # unknown, or a codec that is not a text encoding ("base64", "rot13")
        line, column = _position(data, label_at)
        raise _fail("BXM001", f"unsupported encoding {label!r}", line, column) from None
    match = _DOCTYPE_TEXT.search(text)
    if match:
        line, column = _text_position(text, match.start())
        raise _fail("BXM003", f"DOCTYPE and entity declarations are not allowed ({encoding} document)", line, column)


_BYTES_LIKE = (bytes, bytearray, memoryview)


def parse_untrusted(source: str | bytes, *, max_bytes: int = MAX_INPUT_BYTES) -> etree._Element:
    """Parse ``source`` into an element tree, refusing anything unsafe or malformed."""
    return parse_with_encoding(source, max_bytes=max_bytes)[0]


def parse_with_encoding(source: str | bytes, *,
                        max_bytes: int = MAX_INPUT_BYTES) -> tuple[etree._Element, str | None]:
    """``parse_untrusted``, and the encoding the parser decoded the document with."""
    if isinstance(source, str):
        data, encoding = source.encode("utf-8"), "utf-8"
    elif isinstance(source, _BYTES_LIKE):
        data, encoding = bytes(source), None
    else:
        raise TypeError(f"source must be str or bytes, not {type(source).__name__}")
    if len(data) > max_bytes:
        raise _fail("BXM004", f"input is {len(data)} bytes, over the {max_bytes}-byte limit (the position is "
                    "where the limit is passed)", *_position(data, max_bytes))
    _refuse_declarations(data, sniff=encoding is None)
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
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        raise _fail("BXM003", "DOCTYPE declarations are not allowed", 1, 1)
    return root, docinfo.encoding
