from __future__ import annotations

import unicodedata

import pytest

from uploads.filenames import FALLBACK_NAME, MAX_NAME_CHARS, clean_display_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("song.mp3", "song.mp3"),
        ("../../etc/passwd", "passwd"),
        ("../../../song.mp3", "song.mp3"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\me\\Music\\track 01.flac", "track 01.flac"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("music/../../x.wav", "x.wav"),
        ("evil\x00.mp3", "evil.mp3"),
        ("line\r\nbreak.mp3", "line break.mp3"),
        ("tab\tname.ogg", "tab name.ogg"),
        ("bell\x07\x1b[31m.mp3", "bell[31m.mp3"),
        ("  spaced   out  .mp3  ", "spaced out .mp3"),
        ("\u202egnp.mp3", "gnp.mp3"),  # right-to-left override used to disguise extensions
        ("Чайковский — Лебединое озеро.flac", "Чайковский — Лебединое озеро.flac"),
        ("東京の夜.m4a", "東京の夜.m4a"),
        ("أغنية.mp3", "أغنية.mp3"),
        ("...And Justice for All.mp3", "...And Justice for All.mp3"),
        ("Song: Remix (feat. X).mp3", "Song: Remix (feat. X).mp3"),
    ],
)
def test_cleaning(raw: str, expected: str) -> None:
    assert clean_display_name(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", ".", "..", "../", "/", "\\", "\x00\x00", "a/b/", "..\\.."])
def test_never_empty(raw: str | None) -> None:
    assert clean_display_name(raw) == FALLBACK_NAME


def test_nfc_normalisation() -> None:
    decomposed = "Cafe\u0301.mp3"  # 'e' + combining acute accent
    cleaned = clean_display_name(decomposed)
    assert cleaned == "Caf\u00e9.mp3"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_zero_width_joiner_kept() -> None:
    # Emoji sequences and some scripts need ZWJ/ZWNJ; they are not control characters.
    name = "family \U0001f468\u200d\U0001f469\u200d\U0001f467.mp3"
    assert clean_display_name(name) == name


def test_long_name_capped_and_extension_kept() -> None:
    cleaned = clean_display_name("a" * 300 + ".flac")
    assert len(cleaned) == MAX_NAME_CHARS
    assert cleaned.endswith(".flac")
    assert cleaned.startswith("aaaa")


def test_long_non_latin_name_capped() -> None:
    cleaned = clean_display_name("歌" * 400 + ".mp3")
    assert len(cleaned) == MAX_NAME_CHARS
    assert cleaned.endswith("歌.mp3")


def test_long_name_without_extension() -> None:
    cleaned = clean_display_name("x" * 300)
    assert cleaned == "x" * MAX_NAME_CHARS


def test_truncation_does_not_split_a_combining_cluster() -> None:
    # "q" + acute + circumflex has no precomposed form, so it stays three code points after NFC. The stem
    # limit (255 - len(".mp3") = 251) falls between the two marks: the whole cluster must go.
    name = "b" * 249 + "q\u0301\u0302" + "z" * 50 + ".mp3"
    assert clean_display_name(name) == "b" * 249 + ".mp3"


def test_custom_limit() -> None:
    assert clean_display_name("abcdefghij.mp3", max_chars=8) == "abcd.mp3"


def test_result_has_no_separators_or_controls() -> None:
    nasty = "a/b\\c\x00d\x1fe\x7ff\u0085g\u2028h.mp3"
    cleaned = clean_display_name(nasty)
    assert "/" not in cleaned
    assert "\\" not in cleaned
    assert all(unicodedata.category(ch) != "Cc" for ch in cleaned)
    assert cleaned.endswith(".mp3")
