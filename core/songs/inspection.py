"""Inspection of an uploaded file: everything that reads it (SHA-256, format from the bytes, strict probe,
the contest's rules, Chromaprint fingerprint), blocking and without a database transaction."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.songs.submission import incoming_path
from uploads import (
    AudioInfo,
    FingerprintError,
    PackedFingerprint,
    ProbeError,
    Storage,
    compute_fingerprint,
    key_for_sha256,
    probe_audio,
    sha256_file,
)

log = logging.getLogger(__name__)

_FORMAT_LABELS = {
    "mp3": "MP3",
    "flac": "FLAC",
    "ogg": "Ogg Vorbis",
    "opus": "Opus",
    "wav": "WAV",
    "m4a": "M4A (AAC/ALAC)",
    "aiff": "AIFF",
    "webm": "WebM",
    "mka": "Matroska",
}


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    if whole >= 60:
        return f"{whole // 60} min {whole % 60} s" if whole % 60 else f"{whole // 60} min"
    return f"{whole} s" if abs(seconds - whole) < 0.05 else f"{seconds:.1f} s"


@dataclass(frozen=True, slots=True)
class Rules:
    allowed_formats: tuple[str, ...]
    max_file_bytes: int
    min_duration_seconds: int
    max_duration_seconds: int


@dataclass(frozen=True, slots=True)
class _Claim:
    song_id: int
    contest_id: int
    contestant_id: int
    attempt: int
    upload_sha256: str | None
    rules: Rules


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str  # for the contestant
    evidence: dict[str, Any]


@dataclass(slots=True)
class Inspection:
    source: Path | None = None
    from_incoming: bool = False
    sha256: str | None = None
    size: int = 0
    info: AudioInfo | None = None
    contest_format: str | None = None
    refusal: Refusal | None = None
    fingerprint: PackedFingerprint | None = None
    fingerprint_note: str | None = None


def contest_format(info: AudioInfo) -> str:
    """The contest rule name (Contest.allowed_formats) of a probed file."""
    container = str(info.container)
    if container == "ogg":
        return "opus" if info.codec == "opus" else "ogg"
    if container in ("mp4", "aac"):
        return "m4a"
    if container == "matroska":
        return "mka"
    return container


def encode_fingerprint(fingerprint: PackedFingerprint) -> str:
    """Base64 of the little-endian uint32 items: ~5.2 KB for the 120 s Chromaprint takes by default."""
    return base64.b64encode(fingerprint.value.to_bytes(4 * fingerprint.length, "little")).decode("ascii")


def decode_fingerprint(text: str) -> PackedFingerprint:
    data = base64.b64decode(text)
    return PackedFingerprint(length=len(data) // 4, value=int.from_bytes(data, "little"))


def probe_evidence(info: AudioInfo) -> dict[str, Any]:
    return {
        "container": str(info.container),
        "codec": info.codec,
        "mime_type": info.mime_type,
        "duration_s": round(info.duration_s, 3),
        "header_duration_s": info.header_duration_s,
        "bitrate_bps": info.bitrate_bps,
        "sample_rate_hz": info.sample_rate_hz,
        "channels": info.channels,
        "size_bytes": info.size_bytes,
        "decoded": info.decoded,
        "warnings": list(info.warnings),
    }


def check_rules(info: AudioInfo, fmt: str, size: int, rules: Rules) -> Refusal | None:
    if fmt not in rules.allowed_formats:
        accepted = ", ".join(_FORMAT_LABELS.get(f, f) for f in rules.allowed_formats)
        return Refusal(
            f"This contest accepts {accepted} files; yours is {_FORMAT_LABELS.get(fmt, fmt)}.",
            {"rule": "allowed_formats", "allowed": list(rules.allowed_formats), "actual": fmt},
        )
    if size > rules.max_file_bytes:
        return Refusal(
            f"The file is larger than this contest's limit of {rules.max_file_bytes / 1024 / 1024:.1f} MiB.",
            {"rule": "max_file_bytes", "limit": rules.max_file_bytes, "actual": size},
        )
    if info.duration_s > rules.max_duration_seconds:
        return Refusal(
            f"Your song is {duration_text(info.duration_s)} long; this contest accepts songs of at most "
            f"{duration_text(rules.max_duration_seconds)}.",
            {"rule": "max_duration_seconds", "limit": rules.max_duration_seconds, "actual": info.duration_s},
        )
    if info.duration_s < rules.min_duration_seconds:
        return Refusal(
            f"Your song is {duration_text(info.duration_s)} long; this contest needs songs of at least "
            f"{duration_text(rules.min_duration_seconds)}.",
            {"rule": "min_duration_seconds", "limit": rules.min_duration_seconds, "actual": info.duration_s},
        )
    return None


def inspect_upload(storage: Storage, song_id: int, expected_sha256: str | None, rules: Rules) -> Inspection:
    """Everything that reads the file; blocking, no database. OSError propagates (transient: retried)."""
    result = Inspection()
    source = incoming_path(storage, song_id)
    if source.exists():
        result.from_incoming = True
    else:
        # A previous run may have moved the file into the store and died before recording it.
        stored = key_for_sha256(expected_sha256) if expected_sha256 else None
        local = storage.local_path(stored) if stored and storage.exists(stored) else None
        if local is None:
            result.refusal = Refusal(
                "We could not find your uploaded file any more. Please upload it again.",
                {"error": "file_lost"},
            )
            return result
        source = local
    result.source = source
    result.size = source.stat().st_size
    result.sha256 = sha256_file(source)
    if expected_sha256 and result.sha256 != expected_sha256:
        result.refusal = Refusal(
            "Your file was damaged after it reached us. Please upload it again.",
            {"error": "sha256_mismatch", "received": expected_sha256, "stored": result.sha256},
        )
        return result
    try:
        info = probe_audio(source)
    except ProbeError as exc:
        result.refusal = Refusal(
            exc.user_message, {"probe_error": {"kind": type(exc).__name__, "detail": exc.detail[:1000]}}
        )
        return result
    result.info = info
    result.contest_format = contest_format(info)
    result.refusal = check_rules(info, result.contest_format, result.size, rules)
    if result.refusal is not None:
        return result
    try:
        result.fingerprint = PackedFingerprint.pack(compute_fingerprint(source))
    except FingerprintError as exc:
        # Not the contestant's fault (e.g. audio too short for Chromaprint, or fpcalc missing): the song is
        # judged without the near-duplicate check, and the evidence says so.
        result.fingerprint_note = str(exc)[:500]
        log.warning("song %s: no fingerprint: %s", song_id, exc)
    return result
