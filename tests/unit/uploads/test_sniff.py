from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from uploads.sniff import Container, describe_non_audio, sniff_bytes, sniff_file

from .conftest import AudioSet


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0\0"))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("label", "container", "codec"),
    [
        ("wav", Container.WAV, None),
        ("mp3", Container.MP3, "mp3"),
        ("flac", Container.FLAC, "flac"),
        ("ogg_vorbis", Container.OGG, "vorbis"),
        ("opus", Container.OGG, "opus"),
        ("m4a_aac", Container.MP4, None),
        ("aiff", Container.AIFF, None),
        ("webm_opus", Container.WEBM, None),
    ],
)
def test_each_format(audio: AudioSet, label: str, container: Container, codec: str | None) -> None:
    sniffed = sniff_file(audio.formats[label])
    assert sniffed is not None
    assert sniffed.container is container
    assert sniffed.codec == codec


def test_mime_types(audio: AudioSet) -> None:
    assert sniff_file(audio.formats["opus"]).mime_type == "audio/opus"  # type: ignore[union-attr]
    assert sniff_file(audio.formats["ogg_vorbis"]).mime_type == "audio/ogg"  # type: ignore[union-attr]
    assert sniff_file(audio.formats["mp3"]).mime_type == "audio/mpeg"  # type: ignore[union-attr]
    assert sniff_file(audio.formats["m4a_aac"]).brand == "M4A "  # type: ignore[union-attr]


def test_extension_is_ignored(audio: AudioSet, tmp_path: Path) -> None:
    disguised = tmp_path / "really_flac.mp3"
    disguised.write_bytes(audio.formats["flac"].read_bytes())
    assert sniff_file(disguised).container is Container.FLAC  # type: ignore[union-attr]


def test_mp3_with_large_id3_tag(audio: AudioSet, tmp_path: Path) -> None:
    # An ID3v2 tag with 200 KB of "cover art" pushes the first frame far past the sniffed head.
    body = b"\0" * 200_000
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tagged = tmp_path / "tagged.mp3"
    raw = audio.formats["mp3"].read_bytes()
    tagged.write_bytes(b"ID3\x04\x00\x00" + syncsafe + body + raw[raw.find(b"\xff\xfb") :])
    assert sniff_file(tagged).container is Container.MP3  # type: ignore[union-attr]
    # An ID3 tag followed by something that is not audio is not MP3.
    fake = tmp_path / "fake.mp3"
    fake.write_bytes(b"ID3\x04\x00\x00" + syncsafe + body + png_bytes())
    assert sniff_file(fake) is None


@pytest.mark.parametrize(
    "data",
    [
        png_bytes(),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(200),
        b"PK\x03\x04" + bytes(200),
        b"GIF89a" + bytes(200),
        b"Hello, this is plain text pretending to be a song.\n" * 10,
        b"<html><body>not audio</body></html>",
        b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(200),
        b"RIFF\x24\x00\x00\x00AVI LIST" + bytes(200),
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200),
        b"MThd\x00\x00\x00\x06" + bytes(20),
        b"",
        b"ID",
    ],
)
def test_non_audio_is_none(data: bytes) -> None:
    assert sniff_bytes(data) is None


def test_random_bytes_with_a_frame_sync_are_not_mp3() -> None:
    # A valid-looking MPEG-1 Layer III header, then noise: no second frame where the first one ends.
    data = b"\xff\xfb\x90\x64" + os.urandom(4000)
    data = data[:417] + b"\x00\x00\x00\x00" + data[421:]
    assert sniff_bytes(data) is None


def test_mpeg_frame_sync_at_start_without_id3(audio: AudioSet) -> None:
    raw = audio.formats["mp3"].read_bytes()
    frames = raw[raw.find(b"\xff\xfb") :]
    assert sniff_bytes(frames[:4096]) is not None
    assert sniff_bytes(frames[:4096]).container is Container.MP3  # type: ignore[union-attr]


def test_matroska_doctype() -> None:
    doctype = b"\x42\x82\x88matroska"
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype
    assert sniff_bytes(header).container is Container.MATROSKA  # type: ignore[union-attr]
    assert sniff_bytes(b"\x1a\x45\xdf\xa3\x85\x42\x82\x82xx") is None  # unknown doctype


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (png_bytes(), "PNG"),
        (b"\xff\xd8\xff\xe0" + bytes(10), "JPEG"),
        (b"%PDF-1.4", "PDF"),
        (b"PK\x03\x04", "ZIP"),
        ("Ünïcödé text ".encode() * 50, "text"),
    ],
)
def test_describe_non_audio(data: bytes, what: str) -> None:
    description = describe_non_audio(data)
    assert description is not None
    assert what in description


def test_describe_unknown_binary() -> None:
    assert describe_non_audio(b"\x00\x01\x02\x03" + os.urandom(100)) is None
