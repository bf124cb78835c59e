"""Encoding detection of CRM exports from a sample, and incremental decoding."""

from __future__ import annotations

import io

import pytest

from linktracker.crm.parsing.encodings import (
    CP1252,
    NotText,
    decode_sample,
    detect_encoding,
    open_text,
    recheck_ascii_sample,
)

TEXT = "id,owner,amount\r\n1,José,€5\r\n"


@pytest.mark.parametrize(
    ("data", "name", "bom"),
    [
        (TEXT.encode("utf-8"), "utf-8", 0),
        (TEXT.encode("utf-8-sig"), "utf-8-sig", 3),
        (TEXT.encode("utf-16"), "utf-16-le", 2),  # Python writes little-endian with a BOM
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16-be", 2),
        (TEXT.encode("utf-16-le"), "utf-16-le", 0),
        (TEXT.encode("utf-16-be"), "utf-16-be", 0),
        (b"\xff\xfe\x00\x00" + TEXT.encode("utf-32-le"), "utf-32-le", 4),
        (TEXT.encode("cp1252"), "cp1252", 0),
    ],
)
def test_encodings_are_detected_from_bom_nul_pattern_or_utf8_validity(
    data: bytes, name: str, bom: int
) -> None:
    encoding = detect_encoding(data, complete=True)
    assert (encoding.name, encoding.bom) == (name, bom)
    assert decode_sample(data, encoding, complete=True) == TEXT


def test_a_multibyte_character_cut_by_the_sample_end_is_still_utf8() -> None:
    sample = ("a,b\n" * 10 + "é").encode()[:-1]
    encoding = detect_encoding(sample, complete=False)
    assert encoding.name == "utf-8"
    assert decode_sample(sample, encoding, complete=False) == "a,b\n" * 10


def test_an_ascii_sample_is_marked_as_a_guess() -> None:
    assert detect_encoding(b"id,created\n", complete=False).ascii_sample
    assert not detect_encoding("id,é\n".encode(), complete=False).ascii_sample


def test_mostly_valid_utf8_with_a_damaged_byte_stays_utf8() -> None:
    data = "id,owner\n1,Zoë Ørsted Åsa\n".encode() + b"2,\xff\n"
    assert detect_encoding(data, complete=True).name == "utf-8"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01PK\x03\x04 this is a zip", "byte 0x00 at offset 0"),
        (b"PK\x03\x04\x14\x00\x00\x00", "Excel .xlsx"),
        (bytes(range(1, 32)) * 4, "binary data"),
        (b"\xef\xbb\xbfok\xff\xfe", "utf-8-sig byte-order mark but is not valid"),
    ],
)
def test_binary_data_is_not_text(data: bytes, message: str) -> None:
    with pytest.raises(NotText, match=message):
        detect_encoding(data, complete=True)


def test_ascii_sample_followed_by_cp1252_or_utf8_is_rechecked() -> None:
    assert recheck_ascii_sample(io.BytesIO(b"a,b\n" * 100 + b"\xe9\n"), 0) == CP1252
    utf8 = recheck_ascii_sample(io.BytesIO(b"a,b\n" * 100 + "é,ü\n".encode() + b"\xff"), 0)
    assert utf8.name == "utf-8"


def test_open_text_decodes_from_an_offset_and_leaves_the_stream_open() -> None:
    stream = io.BytesIO(b"junk" + TEXT.encode("utf-16"))
    encoding = detect_encoding(TEXT.encode("utf-16"), complete=True)
    text, source = open_text(stream, 4, encoding)
    assert text.read() == TEXT
    text.close()
    assert not stream.closed
    assert not source.nul_seen


def test_open_text_notices_nul_bytes_in_eight_bit_files() -> None:
    stream = io.BytesIO(b"a,b\n1,\x002\n")
    text, source = open_text(stream, 0, detect_encoding(b"a,b\n", complete=False))
    text.read()
    assert source.nul_seen
