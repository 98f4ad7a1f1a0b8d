"""Acoustic fingerprints (Chromaprint, via ``fpcalc``) and near-duplicate detection.

A raw Chromaprint fingerprint is a list of 32-bit integers, about 8 per second of audio; each bit encodes a
comparison of chroma (pitch-class) energy, so re-encoding (MP3 at any bitrate, FLAC, Opus) flips few bits,
while a different song flips about half of them. :func:`similarity` compares two raw fingerprints in the
AcoustID manner: align them at every offset within ``max_offset`` items (so a copy with a few seconds cut from
the start still lines up), XOR the aligned integers, count the differing bits (bit error rate, BER), keep the
best alignment, and score it as ``1 - 2 * BER``: 1.0 is identical, about 0 is unrelated audio.

Chance agreement is subtracted: stationary audio (silence, a held tone, noise) yields fingerprints that agree
with each other at *every* offset (two different pink-noise recordings score 0.55 raw). A real copy is a peak
at one offset, so the score is the best offset's agreement above the median over all offsets, rescaled so
that 1.0 is still identical. As a consequence two copies of pure silence or a constant tone are not reported
(they carry no information; exact copies are caught by their SHA-256 anyway).

Near-duplicate threshold: :data:`NEAR_DUPLICATE_THRESHOLD` = 0.5. Scores seen on the unit tests' synthetic
songs (20-s random melodies): MP3 128k 1.00, MP3 64k 0.999, FLAC 1.00, Opus 48k 0.995, MP3 with the first
3 s cut 0.91; different melodies 0.11-0.15, a chirp or noise against a melody <= 0.15, noise against noise
0.11-0.14. That leaves a wide margin on both sides of 0.5; real recordings of different songs sharing key
and tempo may score higher than random melodies, which is why a hit is a reason for a moderator to listen,
not an automatic rejection.

Speed, pure Python (numpy is not a dependency): each fingerprint is packed once into one big ``int`` so that
XOR and ``int.bit_count()`` run over the whole overlap in C. One 120-s fingerprint (~970 items) against
another at all 241 offsets takes ~1.0 ms; one upload against 300 songs of a contest ~0.3 s, plus ~0.07 ms
per song to pack fingerprints loaded from the database (``bench/upload_hashing.py``).
"""

from __future__ import annotations

import array
import json
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = [
    "DEFAULT_MAX_OFFSET",
    "ITEMS_PER_SECOND",
    "NEAR_DUPLICATE_THRESHOLD",
    "Fingerprint",
    "FingerprintError",
    "FpcalcMissing",
    "PackedFingerprint",
    "compute_fingerprint",
    "find_near_duplicates",
    "similarity",
]

NEAR_DUPLICATE_THRESHOLD = 0.5
# Chromaprint's default configuration: 11025 Hz, hop 1365 samples after a 4096-sample frame and a 16-frame
# filter window, which works out at about 8.07 fingerprint items per second.
ITEMS_PER_SECOND = 11025 / 1365
# 120 items is ~15 s either way, AcoustID's ACOUSTID_MAX_ALIGN_OFFSET: enough for a trimmed intro or silence.
DEFAULT_MAX_OFFSET = 120
# Alignments overlapping less than this (items, ~5 s) are ignored: short overlaps match by chance.
MIN_OVERLAP_ITEMS = 40

# With fewer offsets than this there is no reliable background to subtract (very short fingerprints).
_MIN_OFFSETS_FOR_BACKGROUND = 16

K = TypeVar("K")


class FingerprintError(Exception):
    """fpcalc failed or returned no fingerprint (the audio could not be decoded, or is too short)."""


class FpcalcMissing(FingerprintError):
    """The fpcalc program (Debian/Ubuntu package libchromaprint-tools) is not installed."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    duration_s: float
    raw: tuple[int, ...]  # unsigned 32-bit integers, in order


@dataclass(frozen=True, slots=True)
class PackedFingerprint:
    """A raw fingerprint packed into one integer (item ``i`` in bits ``32*i .. 32*i+31``), built once.

    Build these once per stored song and reuse them when comparing many uploads.
    """

    length: int
    value: int = field(repr=False)

    @classmethod
    def pack(cls, raw: Sequence[int] | PackedFingerprint | Fingerprint) -> PackedFingerprint:
        if isinstance(raw, PackedFingerprint):
            return raw
        items = raw.raw if isinstance(raw, Fingerprint) else raw
        data = array.array("I", (x & 0xFFFFFFFF for x in items))
        if data.itemsize != 4:  # pragma: no cover - "I" is 4 bytes on every platform CPython supports
            data = array.array("L", data)
        return cls(len(data), int.from_bytes(data.tobytes(), "little"))


def compute_fingerprint(
    path: str | Path, *, max_seconds: int = 120, timeout_s: float = 60.0, fpcalc: str = "fpcalc"
) -> Fingerprint:
    """Run ``fpcalc -raw -json`` on a file and return its raw fingerprint.

    ``max_seconds`` is how much audio from the start is fingerprinted (fpcalc's ``-length``; 120 s is its
    default and plenty to recognise a song). Raises :class:`FpcalcMissing` if fpcalc is not installed and
    :class:`FingerprintError` if it fails, times out or produces nothing.
    """
    exe = shutil.which(fpcalc)
    if exe is None:
        raise FpcalcMissing(
            f"{fpcalc!r} was not found: install Chromaprint's command-line tool "
            "(apt-get install libchromaprint-tools, or scripts/system-deps.sh)"
        )
    try:
        proc = subprocess.run(
            [exe, "-raw", "-json", "-length", str(max_seconds), "--", str(path)],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FingerprintError(f"fpcalc took longer than {timeout_s:g} s on {path}") from None
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    # fpcalc 1.5 exits with 3 after printing a complete fingerprint when the decoder reports "End of file"
    # as an error (seen with WAV input), so judge by the output, not only by the exit code.
    try:
        result = json.loads(proc.stdout)
        raw = tuple(int(x) & 0xFFFFFFFF for x in result["fingerprint"])
        duration = float(result["duration"])
    except (ValueError, KeyError, TypeError):
        raise FingerprintError(f"fpcalc failed on {path} (exit {proc.returncode}): {stderr}") from None
    if not raw:
        raise FingerprintError(f"fpcalc produced an empty fingerprint for {path}: audio too short? {stderr}")
    return Fingerprint(duration_s=duration, raw=raw)


def similarity(
    a: Sequence[int] | PackedFingerprint | Fingerprint,
    b: Sequence[int] | PackedFingerprint | Fingerprint,
    *,
    max_offset: int = DEFAULT_MAX_OFFSET,
) -> float:
    """Similarity in [0, 1] of two raw fingerprints at their best alignment (1 - 2 * bit error rate).

    Offsets from ``-max_offset`` to ``+max_offset`` items are tried (one item is ~0.124 s). Only alignments
    whose overlap covers at least half of the shorter fingerprint (and at least ~5 s) count, so a short
    accidental overlap cannot score high. Returns 0.0 when no alignment qualifies (e.g. empty input).
    """
    pa, pb = PackedFingerprint.pack(a), PackedFingerprint.pack(b)
    na, nb = pa.length, pb.length
    if na == 0 or nb == 0:
        return 0.0
    min_overlap = max(min(MIN_OVERLAP_ITEMS, na, nb), min(na, nb) // 2)
    agreement: list[float] = []  # 1 - 2 * BER at each offset
    # Offset d >= 0 compares a[d + i] with b[i]; d < 0 compares a[i] with b[i - d].
    for d in range(-min(max_offset, nb - min_overlap), min(max_offset, na - min_overlap) + 1):
        if d >= 0:
            overlap = min(na - d, nb)
            diff = (pa.value >> (32 * d)) ^ pb.value
        else:
            overlap = min(nb + d, na)
            diff = (pb.value >> (-32 * d)) ^ pa.value
        bits = 32 * overlap
        agreement.append(1.0 - 2.0 * (diff & ((1 << bits) - 1)).bit_count() / bits)
    if not agreement:
        return 0.0
    best = max(agreement)
    # Chance agreement: stationary audio (silence, a held tone, noise) gives fingerprints that agree at
    # every offset, two different noise recordings score ~0.55 raw. A real match is a peak at one offset
    # above that background, so the score is the peak's height above the median offset, rescaled to [0, 1].
    background = (
        max(0.0, statistics.median(agreement)) if len(agreement) >= _MIN_OFFSETS_FOR_BACKGROUND else 0.0
    )
    if background >= 1.0:
        return 0.0
    return min(1.0, max(0.0, (best - background) / (1.0 - background)))


def find_near_duplicates(
    new: Sequence[int] | PackedFingerprint | Fingerprint,
    existing: Mapping[K, Sequence[int] | PackedFingerprint | Fingerprint]
    | Iterable[tuple[K, PackedFingerprint]],
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    max_offset: int = DEFAULT_MAX_OFFSET,
) -> list[tuple[K, float]]:
    """Compare ``new`` against existing fingerprints by id; return ``(id, score)`` at or above the threshold,
    best first. Pass :class:`PackedFingerprint` values to avoid re-packing the same songs on every call."""
    packed_new = PackedFingerprint.pack(new)
    pairs = existing.items() if isinstance(existing, Mapping) else existing
    hits = []
    for key, fp in pairs:
        score = similarity(packed_new, fp, max_offset=max_offset)
        if score >= threshold:
            hits.append((key, score))
    hits.sort(key=lambda kv: kv[1], reverse=True)
    return hits
