"""Probe an uploaded file: is it audio, which format, how long, and does it decode?

Strict by design, because mutagen on its own is lenient: ``mutagen.File`` guesses the format from the name
and the content, and its MP3 reader scans for the first frame sync it can find, so a PNG renamed ``.mp3``
or random bytes can come back as "MP3, 0.3 s". Here:

1. The container is sniffed from the bytes (:mod:`uploads.sniff`); non-audio is refused with a message
   that says what the file seems to be ("it looks like a PNG image").
2. The mutagen class for *that* container reads the header, so the sniffed and probed formats always
   agree. Duration, sample rate and channel count must be positive.
3. The duration reported is the one the data supports, not only what the header claims. MP3 frames are
   walked one by one (which also requires the file to be MPEG audio from start to end, apart from tags);
   a WAV's data chunk is compared with the bytes actually present. When the header announces much more
   audio than the file holds (a download or copy that was cut off), the file is rejected as
   :class:`CorruptAudio`: accepting it would publish a song that stops mid-way, and the contestant most
   likely still has the complete file. Ogg durations come from the last page, so they are real by
   construction.
4. If ffmpeg is installed, the whole first audio stream is decoded (``ffmpeg -f null``): a file that does not
   decode is rejected, and the decoded duration is checked the same way (this catches cut-off FLAC and MP4
   files, which mutagen cannot). Without ffmpeg the library still works with mutagen alone.

Every :class:`ProbeError` has a ``user_message`` a contestant can read, and a ``detail`` for the logs.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from uploads.sniff import (
    SNIFF_BYTES,
    Container,
    Sniffed,
    describe_non_audio,
    id3v2_size,
    mpeg_frame_length,
    sniff_file,
)

__all__ = [
    "ACCEPTED_FORMATS_TEXT",
    "AudioInfo",
    "CorruptAudio",
    "NotAudio",
    "ProbeError",
    "UnsupportedAudio",
    "probe_audio",
]

ACCEPTED_FORMATS_TEXT = "MP3, FLAC, WAV, AIFF, Ogg Vorbis, Opus, M4A (AAC or ALAC) or WebM"

# A file may hold a little less audio than its header claims (encoder padding, rounding); more than this
# is a file that was cut off.
_MISSING_TOLERANCE_S = 1.0
_MISSING_TOLERANCE_RATIO = 0.03


class ProbeError(Exception):
    """The file cannot be accepted. ``user_message`` is safe and useful to show to the contestant."""

    def __init__(self, user_message: str, detail: str = "") -> None:
        super().__init__(user_message if not detail else f"{user_message} [{detail}]")
        self.user_message = user_message
        self.detail = detail


class NotAudio(ProbeError):
    """Empty, or not an audio format at all (an image, a document, text...)."""


class CorruptAudio(ProbeError):
    """Looks like audio but is damaged: unreadable header, cut off, does not decode."""


class UnsupportedAudio(ProbeError):
    """An audio format recognised but not accepted or not checkable here (e.g. WebM without ffprobe)."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    container: str  # sniffed container: "mp3", "flac", "ogg", "wav", "aiff", "mp4", "aac", "webm", "matroska"
    codec: str  # "mp3", "flac", "vorbis", "opus", "aac", "alac", "pcm_s16le", ...
    mime_type: str
    duration_s: float
    bitrate_bps: int
    sample_rate_hz: int
    channels: int
    size_bytes: int
    # What the header announced when it differs from what the data holds (within tolerance), else None.
    header_duration_s: float | None = None
    decoded: bool = False  # True when ffmpeg decoded the whole stream without errors
    warnings: tuple[str, ...] = ()


_LABEL = {
    Container.MP3: "MP3",
    Container.AAC: "AAC",
    Container.FLAC: "FLAC",
    Container.OGG: "Ogg",
    Container.WAV: "WAV",
    Container.AIFF: "AIFF",
    Container.MP4: "M4A/MP4",
    Container.WEBM: "WebM",
    Container.MATROSKA: "Matroska",
}


def _mutagen_info(cls: Any, path: Path) -> Any:
    # mutagen's classes are only partly typed; the stream info is used through a few numeric attributes.
    return cls(path).info


def _cut_off(label: str, actual_s: float, claimed_s: float) -> CorruptAudio:
    return CorruptAudio(
        f"This {label} file seems to be incomplete: it contains {actual_s:.1f} s of audio but announces "
        f"{claimed_s:.1f} s. The copy or download was probably interrupted; please upload the complete file.",
        f"actual={actual_s:.3f}s header={claimed_s:.3f}s",
    )


def _is_cut_off(actual_s: float, claimed_s: float) -> bool:
    return claimed_s - actual_s > max(_MISSING_TOLERANCE_S, _MISSING_TOLERANCE_RATIO * claimed_s)


# --- MP3: walk the frames ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MpegWalk:
    frames: int
    samples: int  # per channel, summed over audio frames
    sample_rate: int
    audio_bytes: int
    junk_bytes: int  # bytes that were neither frames nor known tags
    bitrates_kbps: frozenset[int]


def _trailing_tags_start(mm: mmap.mmap, end: int) -> int:
    """Offset where trailing tags (ID3v1, APEv2, Lyrics3) begin; ``end`` when there are none."""
    changed = True
    while changed:
        changed = False
        if end >= 128 and mm[end - 128 : end - 125] == b"TAG":
            end -= 128
            changed = True
        if end >= 32 and mm[end - 32 : end - 24] == b"APETAGEX":
            (size,) = struct.unpack("<I", mm[end - 20 : end - 16])
            has_header = mm[end - 32 + 23] & 0x80  # flags byte 3, bit 31: a header precedes the items
            end = max(0, end - size - (32 if has_header else 0))
            changed = True
        if end >= 15 and mm[end - 9 : end] == b"LYRICS200":
            try:
                size = int(mm[end - 15 : end - 9])
            except ValueError:
                break
            end = max(0, end - 15 - size)
            changed = True
    return end


def _walk_mpeg(path: Path) -> _MpegWalk:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = 0
        while (tag := id3v2_size(mm[pos : pos + 10])) is not None:  # some writers stack several tags
            pos += tag
        end = _trailing_tags_start(mm, len(mm))
        frames = samples = audio_bytes = junk = 0
        sample_rate = 0
        bitrates: set[int] = set()
        first = True
        while pos + 4 <= end:
            frame = mpeg_frame_length(mm[pos : pos + 4])
            if frame is None or (sample_rate and frame.sample_rate != sample_rate):
                # Lost sync: skip to the next plausible header (two valid headers in a row).
                nxt = mm.find(b"\xff", pos + 1, end)
                while nxt != -1:
                    cand = mpeg_frame_length(mm[nxt : nxt + 4])
                    if cand is not None and (not sample_rate or cand.sample_rate == sample_rate):
                        follow = mpeg_frame_length(mm[nxt + cand.length : nxt + cand.length + 4])
                        if follow is not None or nxt + cand.length >= end:
                            break
                    nxt = mm.find(b"\xff", nxt + 1, end)
                stop = end if nxt == -1 else nxt
                junk += stop - pos
                pos = stop
                continue
            if pos + frame.length > end:
                junk += end - pos  # a final frame cut in the middle
                break
            is_info_frame = first and any(m in mm[pos + 4 : pos + 40] for m in (b"Xing", b"Info", b"VBRI"))
            first = False
            if not is_info_frame:  # the Xing/Info frame is metadata, decoders output nothing for it
                frames += 1
                samples += frame.samples
                audio_bytes += frame.length
                bitrates.add(frame.bitrate_kbps)
            sample_rate = frame.sample_rate
            pos += frame.length
    return _MpegWalk(frames, samples, sample_rate, audio_bytes, junk, frozenset(bitrates))


def _probe_mp3(path: Path, size: int) -> tuple[AudioInfo, float | None]:
    from mutagen.mp3 import MP3

    info = _mutagen_info(MP3, path)
    walk = _walk_mpeg(path)
    if walk.frames == 0 or walk.sample_rate == 0:
        raise CorruptAudio("This MP3 file contains no audio frames.", "frame walk found 0 frames")
    if walk.junk_bytes > 0.1 * (walk.audio_bytes + walk.junk_bytes):
        raise CorruptAudio(
            "This MP3 file is damaged: a large part of it is not MP3 audio.",
            f"junk={walk.junk_bytes} audio={walk.audio_bytes}",
        )
    actual = walk.samples / walk.sample_rate
    claimed = float(info.length)
    if info.sketchy is False and _is_cut_off(actual, claimed):
        raise _cut_off("MP3", actual, claimed)
    # LAME's encoder delay and padding make the header ~50 ms shorter than the frames: report the header
    # value when it agrees with the data, the data otherwise.
    honest = claimed if abs(claimed - actual) < 0.1 else actual
    if len(walk.bitrates_kbps) == 1:  # constant bitrate: every frame says it
        bitrate = next(iter(walk.bitrates_kbps)) * 1000
    else:
        bitrate = int(walk.audio_bytes * 8 / actual)
    result = AudioInfo(
        container=Container.MP3,
        codec="mp3",
        mime_type="audio/mpeg",
        duration_s=honest,
        bitrate_bps=int(bitrate),
        sample_rate_hz=int(info.sample_rate),
        channels=int(info.channels),
        size_bytes=size,
    )
    return result, (claimed if abs(claimed - actual) >= 0.1 else None)


# --- WAV: compare the data chunk with the file ---------------------------------------------------------

_WAV_CODECS = {1: "pcm", 3: "pcm_float", 6: "alaw", 7: "mulaw", 0x55: "mp3", 0xFFFE: "pcm"}


def _wav_layout(path: Path) -> tuple[int, int, int] | None:
    """(format tag, data offset, declared data size) from the RIFF chunks, or None when not found."""
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        f.seek(12)
        fmt_tag = -1
        while True:
            head = f.read(8)
            if len(head) < 8:
                return None
            chunk_id, chunk_size = head[:4], struct.unpack("<I", head[4:])[0]
            if chunk_id == b"fmt ":
                fmt_tag = struct.unpack("<H", f.read(2))[0]
                f.seek(chunk_size - 2 + (chunk_size & 1), os.SEEK_CUR)
            elif chunk_id == b"data":
                return fmt_tag, f.tell(), chunk_size
            else:
                if f.tell() + chunk_size > file_size:
                    return None
                f.seek(chunk_size + (chunk_size & 1), os.SEEK_CUR)


def _probe_wav(path: Path, size: int) -> tuple[AudioInfo, float | None]:
    from mutagen.wave import WAVE

    info = _mutagen_info(WAVE, path)
    layout = _wav_layout(path)
    if layout is None:
        raise CorruptAudio("This WAV file is damaged: it has no audio data section.", "no data chunk")
    fmt_tag, data_offset, declared = layout
    block_align = info.channels * info.bits_per_sample // 8
    if info.sample_rate <= 0 or info.channels <= 0 or block_align <= 0:
        raise CorruptAudio(
            "This WAV file has a damaged header (no valid sample rate or channel count).",
            f"rate={info.sample_rate} channels={info.channels} bits={info.bits_per_sample}",
        )
    present = size - data_offset
    # 0 and 0xFFFFFFFF are what streaming writers put when the length was unknown: not a claim.
    unknown_length = declared in (0, 0xFFFFFFFF)
    actual = (present if unknown_length else min(declared, present)) / block_align / info.sample_rate
    claimed: float | None = None
    if not unknown_length and declared > present:
        claimed = declared / block_align / info.sample_rate
        if _is_cut_off(actual, claimed):
            raise _cut_off("WAV", actual, claimed)
    codec = _WAV_CODECS.get(fmt_tag, f"wav_0x{fmt_tag:04x}")
    if codec == "pcm":
        codec = f"pcm_{'u8' if info.bits_per_sample == 8 else f's{info.bits_per_sample}le'}"
    result = AudioInfo(
        container=Container.WAV,
        codec=codec,
        mime_type="audio/wav",
        duration_s=actual,
        bitrate_bps=int(info.bitrate),
        sample_rate_hz=int(info.sample_rate),
        channels=int(info.channels),
        size_bytes=size,
    )
    return result, claimed


# --- FLAC, MP4, AIFF: does the file hold what the header announces? -----------------------------------


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


_FLAC_BLOCK_SIZES = {
    1: 192,
    **{n: 576 << (n - 2) for n in range(2, 6)},
    **{n: 256 << (n - 8) for n in range(8, 16)},
}


def _flac_frame_at(data: bytes, i: int, fixed_blocksize: int) -> tuple[int, int] | None:
    """Parse a FLAC frame header at ``data[i]``: (first sample, block size) if its CRC-8 holds, else None."""
    if len(data) < i + 6 or data[i] != 0xFF or data[i + 1] not in (0xF8, 0xF9):
        return None
    variable = data[i + 1] & 1
    bs_code, sr_code = data[i + 2] >> 4, data[i + 2] & 0x0F
    if bs_code == 0 or sr_code == 15 or data[i + 3] >> 4 > 10 or data[i + 3] & 1:
        return None
    # UTF-8-style coded frame or sample number
    first = data[i + 4]
    extra = 0 if first < 0x80 else (8 - (first ^ 0xFF).bit_length() - 1)
    if first >= 0x80 and not 1 <= extra <= 6:
        return None
    pos = i + 5
    number = first & (0x7F >> extra) if extra else first
    for _ in range(extra):
        if pos >= len(data) or data[pos] & 0xC0 != 0x80:
            return None
        number = (number << 6) | (data[pos] & 0x3F)
        pos += 1
    block = _FLAC_BLOCK_SIZES.get(bs_code, 0)
    if bs_code in (6, 7):
        n = 1 if bs_code == 6 else 2
        block = int.from_bytes(data[pos : pos + n], "big") + 1
        pos += n
    pos += {12: 1, 13: 2, 14: 2}.get(sr_code, 0)
    if pos >= len(data) or _crc8(data[i:pos]) != data[pos]:
        return None
    return (number if variable else number * fixed_blocksize), block


def _flac_real_samples(path: Path, size: int, info: Any) -> int | None:
    """Samples up to the end of the last frame whose header is present, or None when it cannot be told."""
    tail_len = min(size, max(65536, 4 * int(info.max_framesize or 0)))
    with open(path, "rb") as f:
        f.seek(size - tail_len)
        tail = f.read(tail_len)
    i = tail.rfind(b"\xff", 0, len(tail) - 5)
    while i != -1:
        frame = _flac_frame_at(tail, i, int(info.max_blocksize))
        if frame is not None:
            return frame[0] + frame[1]
        i = tail.rfind(b"\xff", 0, i)
    return None


def _check_flac(path: Path, size: int, info: Any) -> None:
    total = int(info.total_samples)
    if total <= 0 or info.sample_rate <= 0:
        return
    real = _flac_real_samples(path, size, info)
    if real is None:
        # Frames are at most a few KB, so the end of a sound FLAC file always holds frame headers whose
        # CRC-8 checks out. None found: the audio is overwritten or not FLAC at all.
        raise CorruptAudio("This FLAC file is damaged: its audio data cannot be read.", "no frame at the end")
    claimed, actual = total / info.sample_rate, min(real, total) / info.sample_rate
    if _is_cut_off(actual, claimed):
        raise _cut_off("FLAC", actual, claimed)


def _check_mp4_boxes(path: Path, size: int, duration_s: float) -> None:
    """Every top-level box must fit in the file; an ``mdat`` cut short means audio is missing."""
    with open(path, "rb") as f:
        pos = 0
        while pos + 8 <= size:
            f.seek(pos)
            head = f.read(16)
            box_size, box_type = struct.unpack(">I", head[:4])[0], head[4:8]
            header = 8
            if box_size == 1 and len(head) == 16:
                box_size, header = struct.unpack(">Q", head[8:16])[0], 16
            elif box_size == 0:
                return  # extends to the end of the file
            if box_size < header:
                raise CorruptAudio("This M4A/MP4 file is damaged.", f"box {box_type!r} with size {box_size}")
            if pos + box_size > size:
                present = (size - pos - header) / max(1, box_size - header)
                raise _cut_off("M4A/MP4", duration_s * present if box_type == b"mdat" else 0.0, duration_s)
            pos += box_size


def _check_aiff(path: Path, size: int, duration_s: float) -> None:
    with open(path, "rb") as f:
        head = f.read(8)
    declared = struct.unpack(">I", head[4:8])[0] + 8
    if declared > size and _is_cut_off(duration_s * size / declared, duration_s):
        raise _cut_off("AIFF", duration_s * size / declared, duration_s)


# --- other containers: mutagen's header values ---------------------------------------------------------


def _mutagen_class(sniffed: Sniffed) -> Any:
    if sniffed.container is Container.FLAC:
        from mutagen.flac import FLAC

        return FLAC
    if sniffed.container is Container.AIFF:
        from mutagen.aiff import AIFF

        return AIFF
    if sniffed.container is Container.MP4:
        from mutagen.mp4 import MP4

        return MP4
    if sniffed.container is Container.AAC:
        from mutagen.aac import AAC

        return AAC
    if sniffed.container is Container.OGG:
        if sniffed.codec == "vorbis":
            from mutagen.oggvorbis import OggVorbis

            return OggVorbis
        if sniffed.codec == "opus":
            from mutagen.oggopus import OggOpus

            return OggOpus
        if sniffed.codec == "flac":
            from mutagen.oggflac import OggFLAC

            return OggFLAC
        if sniffed.codec == "speex":
            from mutagen.oggspeex import OggSpeex

            return OggSpeex
    return None


def _mp4_codec(codec: str) -> str:
    if codec.startswith("mp4a.40") or codec == "mp4a":
        return "aac"
    if codec.startswith("mp4a.6b") or codec.startswith("mp4a.69"):
        return "mp3"
    return codec or "unknown"


def _probe_generic(path: Path, size: int, sniffed: Sniffed) -> tuple[AudioInfo, float | None]:
    cls = _mutagen_class(sniffed)
    label = _LABEL[sniffed.container]
    if cls is None:
        raise UnsupportedAudio(
            f"This {label} file uses an audio format we cannot check. Please upload {ACCEPTED_FORMATS_TEXT}.",
            f"container={sniffed.container} codec={sniffed.codec}",
        )
    info = _mutagen_info(cls, path)
    codec = sniffed.codec or "unknown"
    sample_rate = int(getattr(info, "sample_rate", 0) or 0)
    if sniffed.container is Container.FLAC:
        _check_flac(path, size, info)
    elif sniffed.container is Container.MP4:
        codec = _mp4_codec(str(getattr(info, "codec", "")))
        _check_mp4_boxes(path, size, float(info.length))
    elif sniffed.container is Container.AIFF:
        codec = f"pcm_s{info.bits_per_sample}be"
        _check_aiff(path, size, float(info.length))
    elif codec == "opus":
        sample_rate = 48000  # Opus always decodes at 48 kHz; the header's "input rate" is informational
    result = AudioInfo(
        container=sniffed.container,
        codec=codec,
        mime_type=sniffed.mime_type,
        duration_s=float(info.length),
        bitrate_bps=int(getattr(info, "bitrate", 0) or 0),
        sample_rate_hz=sample_rate,
        channels=int(getattr(info, "channels", 0) or 0),
        size_bytes=size,
    )
    if result.bitrate_bps == 0 and result.duration_s > 0:
        result = replace(result, bitrate_bps=int(size * 8 / result.duration_s))
    return result, None


# --- ffmpeg / ffprobe ------------------------------------------------------------------------------------

_OUT_TIME = re.compile(rb"^out_time_us=(\d+)$", re.MULTILINE)


def _ffmpeg_decoded_seconds(path: Path, timeout_s: float) -> tuple[float, str]:
    """Decode the first audio stream to nowhere; return (seconds decoded, error output)."""
    exe = shutil.which("ffmpeg")
    assert exe is not None
    try:
        proc = subprocess.run(
            [exe, "-nostdin", "-hide_banner", "-v", "error", "-i", str(path), "-map", "0:a:0",
             "-f", "null", "-progress", "pipe:1", "-nostats", "-"],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise CorruptAudio(
            "This file could not be checked in time; it may be damaged.", f"ffmpeg timeout {timeout_s}s"
        ) from None
    errors = proc.stderr.decode("utf-8", "replace").strip()
    times = _OUT_TIME.findall(proc.stdout)
    seconds = int(times[-1]) / 1e6 if times else 0.0
    if proc.returncode != 0:
        raise CorruptAudio(
            "This file is damaged and cannot be decoded.", f"ffmpeg exit {proc.returncode}: {errors}"
        )
    return seconds, errors


def _ffprobe(path: Path, size: int, sniffed: Sniffed, timeout_s: float) -> AudioInfo:
    """Header values from ffprobe, for containers mutagen does not read (WebM, Matroska)."""
    exe = shutil.which("ffprobe")
    label = _LABEL[sniffed.container]
    if exe is None:
        raise UnsupportedAudio(
            f"{label} files cannot be checked on this server. Please upload {ACCEPTED_FORMATS_TEXT}.",
            "ffprobe not installed",
        )
    try:
        proc = subprocess.run(
            [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
             "-select_streams", "a:0", str(path)],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )  # fmt: skip
        data = json.loads(proc.stdout or b"{}")
    except (subprocess.TimeoutExpired, ValueError):
        data = {}
    streams = data.get("streams") or []
    if not streams:
        raise NotAudio(f"This {label} file has no audio track.", proc.stderr.decode("utf-8", "replace")[:500])
    stream, fmt = streams[0], data.get("format") or {}

    def num(*values: object) -> float:
        for v in values:
            try:
                return float(str(v))
            except ValueError:
                continue
        return 0.0

    duration = num(stream.get("duration"), fmt.get("duration"))
    bitrate = num(stream.get("bit_rate"), fmt.get("bit_rate"))
    return AudioInfo(
        container=sniffed.container,
        codec=str(stream.get("codec_name") or "unknown"),
        mime_type=sniffed.mime_type,
        duration_s=duration,
        bitrate_bps=int(bitrate) or (int(size * 8 / duration) if duration > 0 else 0),
        sample_rate_hz=int(num(stream.get("sample_rate"))),
        channels=int(num(stream.get("channels"))),
        size_bytes=size,
    )


# --- entry point -----------------------------------------------------------------------------------------


def probe_audio(
    path: str | os.PathLike[str], *, decode_check: bool | None = None, timeout_s: float = 120.0
) -> AudioInfo:
    """Identify and validate an audio file; raise :class:`NotAudio`, :class:`CorruptAudio` or
    :class:`UnsupportedAudio` (all :class:`ProbeError`) when it cannot be accepted.

    ``decode_check``: None (default) decodes the whole file with ffmpeg when ffmpeg is installed; True
    requires ffmpeg (raises RuntimeError if missing); False uses mutagen and the checks above only.
    """
    from mutagen import MutagenError

    p = Path(path)
    size = p.stat().st_size
    if size == 0:
        raise NotAudio("The file is empty (0 bytes). Please choose your song file again.")
    sniffed = sniff_file(p)
    if sniffed is None:
        with open(p, "rb") as f:
            what = describe_non_audio(f.read(SNIFF_BYTES))
        seems = f": it looks like {what}" if what else ""
        raise NotAudio(f"This file is not audio we can read{seems}. Please upload {ACCEPTED_FORMATS_TEXT}.")
    label = _LABEL[sniffed.container]
    use_ffmpeg = shutil.which("ffmpeg") is not None if decode_check is None else decode_check
    if use_ffmpeg and shutil.which("ffmpeg") is None:
        raise RuntimeError("decode_check=True but ffmpeg is not installed")

    try:
        if sniffed.container is Container.MP3:
            info, claimed = _probe_mp3(p, size)
        elif sniffed.container is Container.WAV:
            info, claimed = _probe_wav(p, size)
        elif sniffed.container in (Container.WEBM, Container.MATROSKA):
            info, claimed = _ffprobe(p, size, sniffed, timeout_s), None
        else:
            info, claimed = _probe_generic(p, size, sniffed)
    except MutagenError as exc:
        raise CorruptAudio(f"This {label} file is damaged: its header cannot be read.", repr(exc)) from exc
    except (struct.error, ValueError, OverflowError, EOFError) as exc:
        raise CorruptAudio(f"This {label} file is damaged: its header cannot be read.", repr(exc)) from exc

    if info.sample_rate_hz <= 0 or info.channels <= 0:
        raise CorruptAudio(
            f"This {label} file has a damaged header (no valid sample rate or channel count).",
            f"rate={info.sample_rate_hz} channels={info.channels}",
        )
    warnings: list[str] = []
    decoded = False
    if use_ffmpeg:
        decoded_s, errors = _ffmpeg_decoded_seconds(p, timeout_s)
        if decoded_s <= 0:
            raise CorruptAudio(f"This {label} file contains no audio that can be played.", errors[:500])
        header_s = claimed if claimed is not None else info.duration_s
        if header_s > 0 and _is_cut_off(decoded_s, header_s):
            raise _cut_off(label, decoded_s, header_s)
        if errors:
            warnings.append(f"decoder reported errors: {errors[:300]}")
        if info.duration_s <= 0:  # e.g. FLAC written by a streaming encoder, with no sample count
            info = replace(info, duration_s=decoded_s)
        decoded = not errors
    if info.duration_s <= 0:
        raise CorruptAudio(f"This {label} file contains no audio (its length is 0 seconds).")
    return replace(info, header_duration_s=claimed, decoded=decoded, warnings=tuple(warnings))
