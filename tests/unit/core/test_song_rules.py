"""The pure parts of core/songs: cleaning what people type, the contest's file rules and their messages, the
contest format of a probed file, and the stored form of a fingerprint."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.songs.inspection import (
    Rules,
    check_rules,
    contest_format,
    decode_fingerprint,
    duration_text,
    encode_fingerprint,
)
from core.songs.submission import SongDetails
from core.songs.text import REASON_MAX_CHARS, clean_line, clean_text, clip
from uploads import AudioInfo, PackedFingerprint

# --- text ---------------------------------------------------------------------------------------------------


def test_clean_line_drops_control_characters_and_collapses_whitespace() -> None:
    assert clean_line("  Night\tDrive \n (Remix)\x00\x1b[31m ") == "Night Drive (Remix)[31m"
    assert clean_line("\u200b") == ""  # zero-width space is not printable
    assert clean_line("Åsa: Sång") == "Åsa: Sång"


def test_clean_text_keeps_newlines_and_tabs_only() -> None:
    assert clean_text("  line one\n\tline two\x07\r\n ") == "line one\n\tline two"


def test_clip_ends_long_text_with_an_ellipsis_at_the_limit() -> None:
    assert clip("short") == "short"
    exact = "x" * REASON_MAX_CHARS
    assert clip(exact) == exact
    clipped = clip(exact + "y")
    assert len(clipped) == REASON_MAX_CHARS
    assert clipped.endswith("…")
    assert clip("abcdef", limit=4) == "abc…"


def test_song_details_are_cleaned_and_checked() -> None:
    details = SongDetails(
        title=" Night\nDrive ",
        artist_name="The\tBand",
        genre=" synth  pop ",
        description=" Made at home.\x00\n",
        credits={"tools": ["  Ableton ", "\x01"], "collaborators": [{"name": " Kim ", "role": "vocals"}, {}]},
    ).cleaned()
    assert (details.title, details.artist_name, details.genre) == ("Night Drive", "The Band", "synth pop")
    assert details.description == "Made at home."
    assert details.credits == {"tools": ["Ableton"], "collaborators": [{"name": "Kim", "role": "vocals"}]}


@pytest.mark.parametrize(
    "details",
    [
        SongDetails(title="\x00 ", artist_name="A"),
        SongDetails(title="T", artist_name="\n"),
        SongDetails(title="T", artist_name="A", license="GPL-3.0"),
    ],
)
def test_song_details_without_a_title_artist_or_known_license_are_refused(details: SongDetails) -> None:
    with pytest.raises(InvalidInput) as refused:
        details.cleaned()
    assert refused.value.code == "invalid_metadata"


# --- the contest's file rules -------------------------------------------------------------------------------

RULES = Rules(
    allowed_formats=("mp3", "flac"),
    max_file_bytes=10_000_000,
    min_duration_seconds=30,
    max_duration_seconds=600,
)


def info(*, container: str = "mp3", codec: str = "mp3", duration: float = 200.0) -> AudioInfo:
    return AudioInfo(container, codec, "audio/mpeg", duration, 192_000, 44_100, 2, 5_000_000)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (5.25, "5.2 s"), (59.96, "1 min"), (60, "1 min"), (61, "1 min 1 s"), (600, "10 min")],
)
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_a_file_within_the_rules_passes() -> None:
    assert check_rules(info(), "mp3", 5_000_000, RULES) is None


def test_each_rule_refuses_with_a_reason_and_evidence() -> None:
    fmt = check_rules(info(container="wav"), "wav", 1000, RULES)
    assert fmt is not None
    assert fmt.reason == "This contest accepts MP3, FLAC files; yours is WAV."
    assert fmt.evidence == {"rule": "allowed_formats", "allowed": ["mp3", "flac"], "actual": "wav"}
    big = check_rules(info(), "mp3", 10_000_001, RULES)
    assert big is not None
    assert big.evidence["rule"] == "max_file_bytes"
    long = check_rules(info(duration=601), "mp3", 1000, RULES)
    assert long is not None
    assert long.reason == "Your song is 10 min 1 s long; this contest accepts songs of at most 10 min."
    short = check_rules(info(duration=12), "mp3", 1000, RULES)
    assert short is not None
    assert short.reason == "Your song is 12 s long; this contest needs songs of at least 30 s."


@pytest.mark.parametrize(
    ("container", "codec", "name"),
    [
        ("ogg", "vorbis", "ogg"),
        ("ogg", "opus", "opus"),
        ("mp4", "aac", "m4a"),
        ("aac", "aac", "m4a"),
        ("matroska", "opus", "mka"),
        ("flac", "flac", "flac"),
        ("wav", "pcm_s16le", "wav"),
    ],
)
def test_the_contest_format_of_a_probed_file(container: str, codec: str, name: str) -> None:
    assert contest_format(info(container=container, codec=codec)) == name


def test_a_fingerprint_survives_its_stored_form() -> None:
    packed = PackedFingerprint.pack([0, 1, 0xFFFFFFFF, 123456789, 42])
    text = encode_fingerprint(packed)
    assert decode_fingerprint(text) == packed
    assert len(text) == 28  # base64 of 5 x 4 bytes
