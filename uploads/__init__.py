"""Uploads: a pure library (standard library + mutagen; ffmpeg/fpcalc used when installed).

Streaming intake and hashing (:mod:`uploads.intake`), display-name cleaning (:mod:`uploads.filenames`),
container sniffing (:mod:`uploads.sniff`), strict audio probing (:mod:`uploads.probe`), Chromaprint
fingerprints and near-duplicate detection (:mod:`uploads.fingerprint`) and content-addressed storage
(:mod:`uploads.storage`). Nothing here imports the database, the web framework or Celery.
"""

from uploads.filenames import clean_display_name
from uploads.fingerprint import (
    NEAR_DUPLICATE_THRESHOLD,
    Fingerprint,
    FingerprintError,
    FpcalcMissing,
    PackedFingerprint,
    compute_fingerprint,
    find_near_duplicates,
    similarity,
)
from uploads.intake import IntakeError, IntakeResult, UploadTooLarge, receive_upload, sha256_file
from uploads.probe import AudioInfo, CorruptAudio, NotAudio, ProbeError, UnsupportedAudio, probe_audio
from uploads.sniff import Container, Sniffed, sniff_bytes, sniff_file
from uploads.storage import (
    InvalidKey,
    KeyNotFound,
    LocalStorage,
    Storage,
    StorageError,
    TempSpace,
    key_for_sha256,
    validate_key,
)

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "AudioInfo",
    "Container",
    "CorruptAudio",
    "Fingerprint",
    "FingerprintError",
    "FpcalcMissing",
    "IntakeError",
    "IntakeResult",
    "InvalidKey",
    "KeyNotFound",
    "LocalStorage",
    "NotAudio",
    "PackedFingerprint",
    "ProbeError",
    "Sniffed",
    "Storage",
    "StorageError",
    "TempSpace",
    "UnsupportedAudio",
    "UploadTooLarge",
    "clean_display_name",
    "compute_fingerprint",
    "find_near_duplicates",
    "key_for_sha256",
    "probe_audio",
    "receive_upload",
    "sha256_file",
    "similarity",
    "sniff_bytes",
    "sniff_file",
    "validate_key",
]
