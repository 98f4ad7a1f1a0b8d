from __future__ import annotations

from pathlib import Path

import pytest

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

from .conftest import SONG_SECONDS, AudioSet, require


@pytest.fixture(scope="module")
def fps(audio: AudioSet) -> dict[str, Fingerprint]:
    require("fpcalc")
    files = {
        "a_wav": audio.song_a_wav,
        "a_mp3_128k": audio.song_a_mp3,
        "a_mp3_64k": audio.song_a_mp3_64k,
        "a_flac": audio.song_a_flac,
        "a_opus": audio.song_a_opus,
        "a_trimmed": audio.song_a_trimmed_mp3,
        "b_mp3": audio.song_b_mp3,
        "c_wav": audio.song_c_wav,
        "noise": audio.noise_wav,
        "chirp": audio.chirp_wav,
    }
    return {name: compute_fingerprint(path) for name, path in files.items()}


def test_fingerprint_shape(fps: dict[str, Fingerprint]) -> None:
    fp = fps["a_wav"]
    assert fp.duration_s == pytest.approx(SONG_SECONDS, abs=0.1)
    assert 100 < len(fp.raw) < 200  # about 8 items per second
    assert all(0 <= x < 2**32 for x in fp.raw)


@pytest.mark.parametrize("copy", ["a_mp3_128k", "a_mp3_64k", "a_flac", "a_opus", "a_trimmed"])
def test_same_recording_is_a_near_duplicate(fps: dict[str, Fingerprint], copy: str) -> None:
    assert similarity(fps["a_wav"], fps[copy]) >= NEAR_DUPLICATE_THRESHOLD
    assert similarity(fps[copy], fps["a_wav"]) >= NEAR_DUPLICATE_THRESHOLD


def test_trimmed_copy_between_encodings(fps: dict[str, Fingerprint]) -> None:
    # Cut 3 s from the start *and* re-encoded: still found by trying offsets.
    assert similarity(fps["a_flac"], fps["a_trimmed"]) >= NEAR_DUPLICATE_THRESHOLD
    # Without offsets the trimmed copy is misaligned and looks unrelated.
    assert similarity(fps["a_flac"], fps["a_trimmed"], max_offset=0) < NEAR_DUPLICATE_THRESHOLD


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("a_wav", "b_mp3"),
        ("a_wav", "c_wav"),
        ("b_mp3", "c_wav"),
        ("a_mp3_128k", "noise"),
        ("a_mp3_128k", "chirp"),
        ("noise", "chirp"),
        ("a_trimmed", "b_mp3"),
    ],
)
def test_different_songs_do_not_match(fps: dict[str, Fingerprint], x: str, y: str) -> None:
    assert similarity(fps[x], fps[y]) < NEAR_DUPLICATE_THRESHOLD


def test_identical_and_empty(fps: dict[str, Fingerprint]) -> None:
    assert similarity(fps["a_wav"], fps["a_wav"]) == pytest.approx(1.0)
    assert similarity(fps["a_wav"], []) == 0.0
    assert similarity([], []) == 0.0


def test_stationary_audio_does_not_match_everything() -> None:
    # Silence or a held tone gives the same integer over and over: it agrees with itself at every offset,
    # which is no evidence of a copy. Scores are measured above the background of all offsets.
    flat = [0x12345678] * 150
    assert similarity(flat, flat) == 0.0


def test_accepts_raw_lists_and_packed(fps: dict[str, Fingerprint]) -> None:
    raw_a, raw_b = list(fps["a_wav"].raw), list(fps["a_flac"].raw)
    packed = PackedFingerprint.pack(raw_b)
    assert similarity(raw_a, packed) == pytest.approx(similarity(fps["a_wav"], fps["a_flac"]))
    # Signed 32-bit values (as some libraries return them) are the same fingerprint.
    signed = [x - 2**32 if x >= 2**31 else x for x in raw_b]
    assert similarity(raw_a, signed) == pytest.approx(similarity(raw_a, raw_b))


def test_find_near_duplicates(fps: dict[str, Fingerprint]) -> None:
    contest = {
        101: PackedFingerprint.pack(fps["b_mp3"]),
        102: PackedFingerprint.pack(fps["a_flac"]),
        103: PackedFingerprint.pack(fps["c_wav"]),
        104: PackedFingerprint.pack(fps["noise"]),
        105: PackedFingerprint.pack(fps["a_trimmed"]),
    }
    hits = find_near_duplicates(fps["a_mp3_64k"], contest)
    assert [song_id for song_id, _ in hits] == [102, 105]
    assert hits[0][1] >= hits[1][1] >= NEAR_DUPLICATE_THRESHOLD
    assert find_near_duplicates(fps["chirp"], contest) == []


def test_fpcalc_missing(audio: AudioSet) -> None:
    with pytest.raises(FpcalcMissing, match="libchromaprint-tools"):
        compute_fingerprint(audio.song_a_wav, fpcalc="fpcalc-does-not-exist")


def test_fpcalc_on_non_audio(tmp_path: Path) -> None:
    require("fpcalc")
    text = tmp_path / "notes.mp3"
    text.write_text("not audio at all\n" * 100)
    with pytest.raises(FingerprintError):
        compute_fingerprint(text)


def test_fpcalc_timeout(audio: AudioSet) -> None:
    require("fpcalc")
    with pytest.raises(FingerprintError, match="longer than"):
        compute_fingerprint(audio.song_a_wav, timeout_s=0.000001)
