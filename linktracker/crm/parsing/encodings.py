"""Text encodings of CRM exports: detection from a sample, then incremental decoding.

The cascade is deliberate and deterministic: a byte-order mark decides (UTF-8, UTF-16,
UTF-32); BOM-less UTF-16 is recognised by its NUL bytes; otherwise a sample that is
valid UTF-8 is UTF-8, and anything else is Windows-1252, the encoding Excel writes on
Western Windows. Statistical detectors were not used: on short samples of mostly-ASCII
CSV they answer with look-alike code pages, and cp1252 is the documented fallback.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Final

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "CP1252",
    "MAX_SAMPLE_SIZE",
    "SAMPLE_SIZE",
    "Encoding",
    "NotText",
    "SourceReader",
    "decode_sample",
    "detect_encoding",
    "open_text",
    "recheck_ascii_sample",
]

SAMPLE_SIZE: Final = 64 * 1024
# Wide exports (thousands of custom fields) have header lines longer than a sample.
MAX_SAMPLE_SIZE: Final = 4 * 1024 * 1024
_TAIL_BYTES: Final = 8  # a multiple of 2 and 4 keeps UTF-16/32 characters whole


class NotText(ValueError):
    """The bytes are not text in any encoding an export could use; the message says why."""


@dataclass(frozen=True)
class Encoding:
    """How to decode a file: reported name, Python codec, byte-order mark length."""

    name: str
    codec: str
    bom: int = 0
    ascii_sample: bool = False  # the sample was pure ASCII: UTF-8 was a guess

    @property
    def eight_bit(self) -> bool:
        """True when NUL bytes cannot be part of a character (not UTF-16/32)."""
        return not self.codec.startswith(("utf-16", "utf-32"))


CP1252: Final = Encoding(name="cp1252", codec="cp1252")

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, Encoding("utf-32-le", "utf-32-le", 4)),
    (codecs.BOM_UTF32_BE, Encoding("utf-32-be", "utf-32-be", 4)),
    (codecs.BOM_UTF8, Encoding("utf-8-sig", "utf-8", 3)),
    (codecs.BOM_UTF16_LE, Encoding("utf-16-le", "utf-16-le", 2)),
    (codecs.BOM_UTF16_BE, Encoding("utf-16-be", "utf-16-be", 2)),
)
# Files people upload by mistake, named so that the message helps them.
_SIGNATURES: Final = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_ADVICE: Final = "Export the report from the CRM as CSV (in Excel: Save As › CSV UTF-8)."
# C0 control bytes never appear in text exports, except tab, line breaks, form feed and
# the DOS end-of-file mark.
_CONTROL_BYTES: Final = bytes(b for b in range(32) if b not in b"\t\n\r\x0c\x1a") + b"\x7f"
_MAX_CONTROL_SHARE: Final = 0.01


def _not_text(sample: bytes) -> NotText:
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            return NotText(f"The file is {what}, not a CSV text file. {_ADVICE}")
    offset = next(i for i, byte in enumerate(sample) if byte in _CONTROL_BYTES)
    return NotText(
        "The file is not a CSV text file: it contains binary data "
        f"(byte 0x{sample[offset]:02x} at offset {offset}). {_ADVICE}"
    )


def _utf16_without_bom(sample: bytes) -> Encoding | None:
    # ASCII text in UTF-16 has a NUL in every other byte; which half says the order.
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 2:
        return None
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.02:
        return Encoding("utf-16-le", "utf-16-le")
    if nul_even > 0.3 and nul_odd < 0.02:
        return Encoding("utf-16-be", "utf-16-be")
    return None


def _decodes(sample: bytes, codec: str, *, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(codec)("strict").decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes, *, complete: bool) -> Encoding:
    """Choose the encoding of a file from its first bytes (``complete``: whole file)."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            if _decodes(sample[encoding.bom :], encoding.codec, complete=complete):
                return encoding
            raise NotText(
                f"The file starts with a {encoding.name} byte-order mark but is not valid "
                f"{encoding.name} text. {_ADVICE}"
            )
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None and _decodes(sample, utf16.codec, complete=complete):
        return utf16
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or controls > len(sample) * _MAX_CONTROL_SHARE:
        raise _not_text(sample)
    if _decodes(sample, "utf-8", complete=complete):
        return Encoding("utf-8", "utf-8", ascii_sample=sample.isascii())
    return _utf8_or_cp1252(_utf8_evidence(sample, codecs.getincrementaldecoder("utf-8")("replace")))


def _utf8_evidence(data: bytes, decoder: codecs.IncrementalDecoder) -> tuple[int, int]:
    """Count (valid non-ASCII characters, invalid sequences) when reading ``data`` as UTF-8."""
    text = decoder.decode(data)
    invalid = text.count("\ufffd")
    return len(text) - len(text.encode("ascii", "ignore")) - invalid, invalid


def _utf8_or_cp1252(evidence: tuple[int, int]) -> Encoding:
    # cp1252 text almost never forms valid multi-byte UTF-8 (`Ã©` is how UTF-8 looks
    # when misread, not how people write), so valid sequences outnumbering invalid
    # ones mean UTF-8 with a few damaged bytes, whose rows are then rejected.
    valid, invalid = evidence
    return Encoding("utf-8", "utf-8") if valid > invalid else CP1252


def decode_sample(sample: bytes, encoding: Encoding, *, complete: bool) -> str:
    """Decode the sample, keeping only complete lines unless it is the whole file."""
    decoder = codecs.getincrementaldecoder(encoding.codec)("replace")
    text = decoder.decode(sample[encoding.bom :], final=complete)
    if "\x00" in text:
        raise NotText(f"The file contains NUL characters, so it is not CSV text. {_ADVICE}")
    if not complete:
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    return text


class SourceReader(io.RawIOBase):
    """Reads the caller's stream without ever closing it, noting NUL bytes on the way."""

    def __init__(self, stream: BinaryIO, *, watch_nul: bool) -> None:
        super().__init__()
        self._stream = stream
        self._watch_nul = watch_nul
        self.nul_seen = False
        self.tail = b""  # the last bytes read, whole characters in every supported codec

    def readable(self) -> bool:
        """Report the stream as readable."""
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fill ``buffer`` from the caller's stream."""
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        size = len(data)
        view[:size] = data
        if self._watch_nul and b"\x00" in data:
            self.nul_seen = True
        if size:
            self.tail = (self.tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]
        return size


def open_text(
    stream: BinaryIO, start: int, encoding: Encoding, *, errors: str = "strict"
) -> tuple[io.TextIOWrapper, SourceReader]:
    """Decode ``stream`` from byte ``start`` incrementally; the caller's stream stays open."""
    stream.seek(start + encoding.bom)
    source = SourceReader(stream, watch_nul=encoding.eight_bit)
    # newline="" hands line endings to the csv module untouched, so quoted fields keep
    # their embedded line breaks and CRLF, LF and CR files all split correctly.
    text = io.TextIOWrapper(
        io.BufferedReader(source, buffer_size=SAMPLE_SIZE),
        encoding=encoding.codec,
        errors=errors,
        newline="",
    )
    return text, source


def recheck_ascii_sample(stream: BinaryIO, start: int) -> Encoding:
    """Re-decide a file whose ASCII sample was taken for UTF-8 but which has invalid bytes."""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    valid = invalid = 0
    while chunk := stream.read(SAMPLE_SIZE):
        more_valid, more_invalid = _utf8_evidence(chunk, decoder)
        valid, invalid = valid + more_valid, invalid + more_invalid
    return _utf8_or_cp1252((valid, invalid))
