"""Detect the real audio container of a file from its first bytes.

The extension and the Content-Type header are chosen by the client and prove nothing, so the upload
pipeline decides what a file is from its content. Sniffing is cheap and strict: an MPEG frame sync must sit
at the very start of the file (or right after an ID3v2 tag) and, when enough bytes are given, be followed by
a second valid frame header exactly where the first frame ends. That rejects most garbage that a frame-sync
*scanner* (which is what mutagen does) would happily accept as MP3.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SNIFF_BYTES",
    "Container",
    "Sniffed",
    "describe_non_audio",
    "id3v2_size",
    "mpeg_frame_length",
    "sniff_bytes",
    "sniff_file",
]

# Enough for every signature below, including the codec id in the first Ogg page and the EBML DocType.
SNIFF_BYTES = 4096


class Container(enum.StrEnum):
    MP3 = "mp3"
    AAC = "aac"  # raw ADTS stream
    FLAC = "flac"
    OGG = "ogg"
    WAV = "wav"
    AIFF = "aiff"
    MP4 = "mp4"
    WEBM = "webm"
    MATROSKA = "matroska"


_MIME: dict[Container, str] = {
    Container.MP3: "audio/mpeg",
    Container.AAC: "audio/aac",
    Container.FLAC: "audio/flac",
    Container.OGG: "audio/ogg",
    Container.WAV: "audio/wav",
    Container.AIFF: "audio/aiff",
    Container.MP4: "audio/mp4",
    Container.WEBM: "audio/webm",
    Container.MATROSKA: "audio/x-matroska",
}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the first bytes say. ``codec`` is known for Ogg (first stream) and implied for mp3/flac/aac."""

    container: Container
    codec: str | None = None
    brand: str | None = None  # MP4 major brand, e.g. "M4A "

    @property
    def mime_type(self) -> str:
        if self.container is Container.OGG and self.codec == "opus":
            return "audio/opus"
        return _MIME[self.container]


# --- MPEG audio ------------------------------------------------------------------------------------------

# Bitrates in kbps indexed by [version_is_mpeg1][layer][index]; layer 1..3.
_BITRATES_V1 = {
    1: (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    2: (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
}
_BITRATES_V2 = {
    1: (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    3: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True, slots=True)
class MpegFrame:
    length: int  # bytes, header included
    samples: int  # PCM samples per channel in this frame
    sample_rate: int
    bitrate_kbps: int
    channels: int


def mpeg_frame_length(header: bytes) -> MpegFrame | None:
    """Parse a 4-byte MPEG audio frame header; None when it is not a valid, non-free-format header."""
    if len(header) < 4:
        return None
    (h,) = struct.unpack(">I", header[:4])
    if (h >> 21) & 0x7FF != 0x7FF:
        return None
    version = (h >> 19) & 0b11  # 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5, 1 = reserved
    layer_bits = (h >> 17) & 0b11  # 3 = layer I, 2 = II, 1 = III, 0 = reserved
    br_index = (h >> 12) & 0xF
    sr_index = (h >> 10) & 0b11
    if version == 1 or layer_bits == 0 or br_index in (0, 15) or sr_index == 3:
        return None
    layer = 4 - layer_bits
    padding = (h >> 9) & 1
    channels = 1 if (h >> 6) & 0b11 == 3 else 2
    kbps = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[layer][br_index]
    sample_rate = _SAMPLE_RATES[version][sr_index]
    if layer == 1:
        return MpegFrame((12 * kbps * 1000 // sample_rate + padding) * 4, 384, sample_rate, kbps, channels)
    samples = 1152 if layer == 2 or version == 3 else 576
    length = samples // 8 * kbps * 1000 // sample_rate + padding
    return MpegFrame(length, samples, sample_rate, kbps, channels)


def id3v2_size(head: bytes) -> int | None:
    """Total size of a leading ID3v2 tag (header, body, footer); None if the data does not start with one."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or head[4] == 0xFF:
        return None
    size_bytes = head[6:10]
    if any(b & 0x80 for b in size_bytes):  # syncsafe integer: the high bit of each byte must be clear
        return None
    size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _sniff_mpeg(data: bytes) -> Sniffed | None:
    frame = mpeg_frame_length(data[:4])
    if frame is None:
        return _sniff_adts(data)
    nxt = data[frame.length : frame.length + 4]
    if len(nxt) == 4 and mpeg_frame_length(nxt) is None:
        # A second frame must follow the first: random bytes starting with 0xFFE pass one check, rarely two.
        return None
    return Sniffed(Container.MP3, "mp3")


def _sniff_adts(data: bytes) -> Sniffed | None:
    if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF6 != 0xF0:
        return None
    if (data[2] >> 2) & 0xF > 12:  # sampling frequency index
        return None
    frame_len = ((data[3] & 0x03) << 11) | (data[4] << 3) | (data[5] >> 5)
    if frame_len < 7:
        return None
    nxt = data[frame_len : frame_len + 2]
    if len(nxt) == 2 and (nxt[0] != 0xFF or nxt[1] & 0xF6 != 0xF0):
        return None
    return Sniffed(Container.AAC, "aac")


# --- other containers ------------------------------------------------------------------------------------

_OGG_CODECS = (
    (b"\x01vorbis", "vorbis"),
    (b"OpusHead", "opus"),
    (b"\x7fFLAC", "flac"),
    (b"Speex   ", "speex"),
)

# ISO BMFF brands that are images, not audio or video.
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis", b"jxl "}


def _sniff_ogg(head: bytes) -> Sniffed:
    codec: str | None = None
    if len(head) >= 27:
        n_segments = head[26]
        packet = head[27 + n_segments : 27 + n_segments + 8]
        for magic, name in _OGG_CODECS:
            if packet.startswith(magic):
                codec = name
                break
    return Sniffed(Container.OGG, codec)


def _sniff_mp4(head: bytes) -> Sniffed | None:
    (box_size,) = struct.unpack(">I", head[:4])
    major = head[8:12]
    brands = {major}
    end = min(box_size, len(head)) if box_size >= 16 else 16
    for i in range(16, end - 3, 4):
        brands.add(head[i : i + 4])
    if brands & _IMAGE_BRANDS and not brands & {b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom"}:
        return None
    return Sniffed(Container.MP4, None, major.decode("latin-1"))


def _read_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """Read an EBML variable-length integer; return (value, new position)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _sniff_ebml(head: bytes) -> Sniffed | None:
    parsed = _read_vint(head, 4, keep_marker=False)
    if parsed is None:
        return None
    header_size, pos = parsed
    end = min(len(head), pos + header_size)
    while pos < end:
        elem = _read_vint(head, pos, keep_marker=True)
        if elem is None:
            return None
        elem_id, pos = elem
        size = _read_vint(head, pos, keep_marker=False)
        if size is None:
            return None
        elem_size, pos = size
        if elem_id == 0x4282:  # DocType
            doctype = head[pos : pos + elem_size].rstrip(b"\0")
            if doctype == b"webm":
                return Sniffed(Container.WEBM)
            if doctype == b"matroska":
                return Sniffed(Container.MATROSKA)
            return None
        pos += elem_size
    return None


def _sniff_after_id3(after: bytes) -> Sniffed | None:
    if len(after) < 4:
        return Sniffed(Container.MP3, "mp3")  # cannot see past the tag: ID3v2 almost always means MP3
    if after.startswith(b"fLaC"):
        return Sniffed(Container.FLAC, "flac")
    return _sniff_mpeg(after)


def sniff_bytes(head: bytes) -> Sniffed | None:
    """Identify the audio container from the first bytes of a file (``SNIFF_BYTES`` are plenty).

    Returns None for anything that is not a known audio container, including images, documents, archives
    and text. If the data starts with an ID3v2 tag, the bytes after the tag are checked when present;
    :func:`sniff_file` reads past large tags (cover art can make them megabytes long).
    """
    if len(head) < 4:
        return None
    tag = id3v2_size(head)
    if tag is not None:
        return _sniff_after_id3(head[tag:])
    if head.startswith(b"fLaC"):
        return Sniffed(Container.FLAC, "flac")
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return Sniffed(Container.WAV)
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed(Container.AIFF)
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _sniff_mp4(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _sniff_ebml(head)
    if head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return _sniff_mpeg(head)
    return None


def sniff_file(path: str | Path) -> Sniffed | None:
    """Like :func:`sniff_bytes`, reading from disk and skipping a leading ID3v2 tag of any size."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        tag = id3v2_size(head)
        if tag is not None and tag + 8 > len(head):
            f.seek(tag)
            return _sniff_after_id3(f.read(SNIFF_BYTES))
    return sniff_bytes(head)


# --- friendly names for common non-audio files ------------------------------------------------------------

_NON_AUDIO = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"MThd", "a MIDI file (notes, not recorded audio)"),
)


def describe_non_audio(head: bytes) -> str | None:
    """A short human description of common non-audio files ("a PNG image"), for error messages."""
    for magic, what in _NON_AUDIO:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "an AVI video"
    if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
        return "a HEIC/AVIF image"
    sample = head[:512]
    if sample and b"\0" not in sample:
        # The sample may end inside a multi-byte character: allow up to 3 cut-off bytes.
        for cut in range(4):
            try:
                sample[: len(sample) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            return "a text file"
    return None
