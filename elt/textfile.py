"""Read a project file the user wrote (elt.toml, a model, a contract) as UTF-8 text.

A byte that is not UTF-8 is reported at its line and column, in the caller's error class, instead of a
UnicodeDecodeError traceback. A leading byte-order mark (Windows editors write one) is dropped: it is not
part of the text, and TOML, SQL and YAML parsers would reject or keep it.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from elt.errors import EltError, Location

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_utf8(path: Path, error: type[EltError]) -> str:
    """The file's text; raises `error` at the first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(_describe(data, err), where=_locate(path, data, err.start), hint="save it as UTF-8") from None


def _describe(data: bytes, err: UnicodeDecodeError) -> str:
    if data.startswith(UTF16_BOMS):
        return "the file is UTF-16, not UTF-8"
    return f"byte 0x{data[err.start]:02x} is not UTF-8: the file is in another encoding (Latin-1, Windows-1252?)"


def _locate(path: Path, data: bytes, offset: int) -> Location:
    """Line and column (in characters, as editors count them) of the byte at `offset`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    before = data[line_start:offset].decode("utf-8-sig" if line_start == 0 else "utf-8")
    return Location(path, data.count(b"\n", 0, offset) + 1, len(before) + 1)
