from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from uploads.probe import AudioInfo, CorruptAudio, NotAudio, ProbeError, probe_audio

from .conftest import SONG_SECONDS, TONE_SECONDS, AudioSet, ffmpeg, require
from .test_sniff import png_bytes

# Encoders add a little priming/padding (MP3 ~50 ms, AAC ~45 ms); containers round.
TOLERANCE_S = 0.12
BOTH_MODES = pytest.mark.parametrize("decode_check", [False, True], ids=["mutagen-only", "with-ffmpeg"])


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def cut(src: Path, dest: Path, fraction: float) -> Path:
    data = src.read_bytes()
    return write(dest, data[: int(len(data) * fraction)])


@BOTH_MODES
@pytest.mark.parametrize(
    ("label", "container", "codec", "rate", "mime"),
    [
        ("wav", "wav", "pcm_s16le", 44100, "audio/wav"),
        ("mp3", "mp3", "mp3", 44100, "audio/mpeg"),
        ("flac", "flac", "flac", 44100, "audio/flac"),
        ("ogg_vorbis", "ogg", "vorbis", 44100, "audio/ogg"),
        ("opus", "ogg", "opus", 48000, "audio/opus"),
        ("m4a_aac", "mp4", "aac", 44100, "audio/mp4"),
        ("aiff", "aiff", "pcm_s16be", 44100, "audio/aiff"),
    ],
)
def test_each_format(
    audio: AudioSet, decode_check: bool, label: str, container: str, codec: str, rate: int, mime: str
) -> None:
    info = probe_audio(audio.formats[label], decode_check=decode_check)
    assert isinstance(info, AudioInfo)
    assert info.container == container
    assert info.codec == codec
    assert info.mime_type == mime
    assert info.duration_s == pytest.approx(TONE_SECONDS, abs=TOLERANCE_S)
    assert info.sample_rate_hz == rate
    assert info.channels == 2
    assert info.bitrate_bps > 0
    assert info.size_bytes == audio.formats[label].stat().st_size
    assert info.header_duration_s is None
    assert info.decoded is decode_check


def test_mp3_bitrate(audio: AudioSet) -> None:
    assert probe_audio(audio.formats["mp3"], decode_check=False).bitrate_bps == 192_000
    assert probe_audio(audio.song_a_mp3_64k, decode_check=False).bitrate_bps == 64_000


def test_webm_needs_ffprobe(audio: AudioSet) -> None:
    require("ffprobe")
    info = probe_audio(audio.formats["webm_opus"], decode_check=False)
    assert (info.container, info.codec, info.channels) == ("webm", "opus", 2)
    assert info.duration_s == pytest.approx(TONE_SECONDS, abs=TOLERANCE_S)


def test_wav_written_with_stdlib_wave(audio: AudioSet) -> None:
    info = probe_audio(audio.song_a_wav, decode_check=False)
    assert (info.codec, info.sample_rate_hz, info.channels) == ("pcm_s16le", 22050, 1)
    assert info.duration_s == pytest.approx(SONG_SECONDS, abs=0.01)


# --- not audio ---------------------------------------------------------------------------------------------


@BOTH_MODES
def test_zero_byte_file(tmp_path: Path, decode_check: bool) -> None:
    with pytest.raises(NotAudio, match="empty"):
        probe_audio(write(tmp_path / "song.mp3", b""), decode_check=decode_check)


@BOTH_MODES
def test_png_renamed_mp3(tmp_path: Path, decode_check: bool) -> None:
    with pytest.raises(NotAudio) as excinfo:
        probe_audio(write(tmp_path / "song.mp3", png_bytes()), decode_check=decode_check)
    assert "PNG image" in excinfo.value.user_message
    assert "MP3" in excinfo.value.user_message  # tells the contestant what to upload instead


def test_text_with_mp3_frames_inside_is_not_audio(audio: AudioSet, tmp_path: Path) -> None:
    # mutagen scans for the first frame sync and would report this as a 20 s MP3.
    frames = audio.song_a_mp3.read_bytes()
    junk_first = write(tmp_path / "notes.mp3", b"These are my lyrics, not a song.\n" * 40 + frames)
    with pytest.raises(NotAudio, match="text file"):
        probe_audio(junk_first, decode_check=False)


def test_random_bytes(tmp_path: Path) -> None:
    data = os.urandom(50_000)
    data = b"\x00" + data[1:]  # make sure it does not start with an accidental frame sync
    with pytest.raises(NotAudio):
        probe_audio(write(tmp_path / "random.flac", data), decode_check=False)


# --- damaged audio -----------------------------------------------------------------------------------------


@BOTH_MODES
def test_truncated_mp3_is_rejected(audio: AudioSet, tmp_path: Path, decode_check: bool) -> None:
    # ffmpeg writes a Xing/Info header announcing the full length; 40 % of the bytes remain.
    truncated = cut(audio.song_a_mp3, tmp_path / "cut.mp3", 0.4)
    with pytest.raises(CorruptAudio) as excinfo:
        probe_audio(truncated, decode_check=decode_check)
    message = excinfo.value.user_message
    assert "incomplete" in message
    assert "20.1 s" in message or "20.0 s" in message  # what the header announced
    assert "8." in message  # about 8 s really present


def test_truncated_mp3_without_header_reports_real_duration(audio: AudioSet, tmp_path: Path) -> None:
    # No Xing header: nothing announces a length, so the file is accepted with the duration it really has.
    full = ffmpeg(audio.song_a_wav, tmp_path / "noxing.mp3", "-b:a", "128k", "-write_xing", "0")
    truncated = cut(full, tmp_path / "noxing_cut.mp3", 0.25)
    info = probe_audio(truncated, decode_check=False)
    assert info.duration_s == pytest.approx(SONG_SECONDS * 0.25, abs=0.2)
    assert probe_audio(truncated, decode_check=True).duration_s == pytest.approx(SONG_SECONDS * 0.25, abs=0.2)


def test_mp3_followed_by_garbage(audio: AudioSet, tmp_path: Path) -> None:
    data = audio.song_a_mp3.read_bytes()
    damaged = write(tmp_path / "damaged.mp3", data[:30_000] + os.urandom(200_000))
    with pytest.raises(CorruptAudio, match="not MP3 audio"):
        probe_audio(damaged, decode_check=False)


def wav_with(audio: AudioSet, tmp_path: Path, name: str, patch: dict[int, bytes]) -> Path:
    data = bytearray(audio.tone_wav.read_bytes())
    for offset, value in patch.items():
        data[offset : offset + len(value)] = value
    return write(tmp_path / name, bytes(data))


# Offsets in the canonical 44-byte header written by the wave module: "fmt " at 12, channels at 22,
# sample rate at 24, block align at 32, bits at 34, "data" at 36, data size at 40.
@BOTH_MODES
@pytest.mark.parametrize(
    ("name", "patch"),
    [
        ("zero_rate.wav", {24: struct.pack("<I", 0)}),
        ("zero_channels.wav", {22: struct.pack("<H", 0)}),
        ("no_fmt.wav", {12: b"junk"}),
        ("short_fmt.wav", {16: struct.pack("<I", 4)}),
        ("zero_bits.wav", {34: struct.pack("<H", 0)}),
    ],
)
def test_wav_with_corrupt_header(
    audio: AudioSet, tmp_path: Path, decode_check: bool, name: str, patch: dict[int, bytes]
) -> None:
    with pytest.raises(CorruptAudio) as excinfo:
        probe_audio(wav_with(audio, tmp_path, name, patch), decode_check=decode_check)
    assert "WAV" in excinfo.value.user_message


def test_wav_header_only(audio: AudioSet, tmp_path: Path) -> None:
    # A valid header that announces (and holds) no samples at all.
    header = bytearray(audio.tone_wav.read_bytes()[:44])
    header[40:44] = struct.pack("<I", 0)
    header_only = write(tmp_path / "empty.wav", bytes(header))
    with pytest.raises(CorruptAudio, match="no audio"):
        probe_audio(header_only, decode_check=False)


@BOTH_MODES
def test_truncated_wav(audio: AudioSet, tmp_path: Path, decode_check: bool) -> None:
    with pytest.raises(CorruptAudio, match="incomplete"):
        probe_audio(cut(audio.tone_wav, tmp_path / "cut.wav", 0.5), decode_check=decode_check)


@pytest.mark.parametrize("declared", [0, 0xFFFFFFFF])
def test_streamed_wav_with_unknown_length_is_fine(audio: AudioSet, tmp_path: Path, declared: int) -> None:
    # Streaming writers put 0 or 0xFFFFFFFF as the data size: not a claim, the real length is used.
    streamed = wav_with(audio, tmp_path, "streamed.wav", {40: struct.pack("<I", declared)})
    assert probe_audio(streamed, decode_check=False).duration_s == pytest.approx(TONE_SECONDS, abs=0.01)


@BOTH_MODES
@pytest.mark.parametrize("fraction", [0.3, 0.6])
def test_truncated_flac(audio: AudioSet, tmp_path: Path, decode_check: bool, fraction: float) -> None:
    with pytest.raises(CorruptAudio, match="incomplete"):
        probe_audio(cut(audio.song_a_flac, tmp_path / "cut.flac", fraction), decode_check=decode_check)


@BOTH_MODES
def test_flac_with_overwritten_audio(audio: AudioSet, tmp_path: Path, decode_check: bool) -> None:
    data = audio.song_a_flac.read_bytes()
    damaged = write(tmp_path / "garbage.flac", data[:8192] + bytes(len(data) - 8192))
    with pytest.raises(CorruptAudio):
        probe_audio(damaged, decode_check=decode_check)


@BOTH_MODES
@pytest.mark.parametrize("faststart", [False, True], ids=["moov-at-end", "moov-first"])
def test_truncated_m4a(audio: AudioSet, tmp_path: Path, decode_check: bool, faststart: bool) -> None:
    options = ["-c:a", "aac", "-b:a", "128k"] + (["-movflags", "+faststart"] if faststart else [])
    full = ffmpeg(audio.song_a_wav, tmp_path / "full.m4a", *options)
    with pytest.raises(CorruptAudio):
        probe_audio(cut(full, tmp_path / "cut.m4a", 0.5), decode_check=decode_check)


@BOTH_MODES
def test_truncated_aiff(audio: AudioSet, tmp_path: Path, decode_check: bool) -> None:
    with pytest.raises(CorruptAudio, match="incomplete"):
        probe_audio(cut(audio.formats["aiff"], tmp_path / "cut.aiff", 0.5), decode_check=decode_check)


def test_truncated_ogg_reports_real_duration(audio: AudioSet, tmp_path: Path) -> None:
    # Ogg has no length in its header: the duration comes from the last page actually present.
    full = ffmpeg(audio.song_a_wav, tmp_path / "song.ogg", "-c:a", "libvorbis")
    info = probe_audio(cut(full, tmp_path / "cut.ogg", 0.5), decode_check=False)
    assert 0.3 * SONG_SECONDS < info.duration_s < 0.7 * SONG_SECONDS


# --- behaviour without ffmpeg ------------------------------------------------------------------------------


def test_works_without_ffmpeg(audio: AudioSet, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if "ff" in name else real_which(name))
    info = probe_audio(audio.formats["flac"])  # default: decode only if ffmpeg is there
    assert info.decoded is False
    assert info.duration_s == pytest.approx(TONE_SECONDS, abs=TOLERANCE_S)
    with pytest.raises(CorruptAudio):
        probe_audio(cut(audio.song_a_mp3, tmp_path / "cut.mp3", 0.4))
    with pytest.raises(RuntimeError, match="ffmpeg"):
        probe_audio(audio.formats["flac"], decode_check=True)
    with pytest.raises(ProbeError, match="cannot be checked"):
        probe_audio(audio.formats["webm_opus"])


def test_user_message_keeps_internal_detail_apart(audio: AudioSet, tmp_path: Path) -> None:
    damaged = wav_with(audio, tmp_path, "zero.wav", {24: struct.pack("<I", 0)})
    with pytest.raises(CorruptAudio) as excinfo:
        probe_audio(damaged, decode_check=False)
    err = excinfo.value
    assert err.detail
    assert err.detail not in err.user_message


def test_mp3_with_cover_art_and_id3v1(audio: AudioSet, tmp_path: Path) -> None:
    from mutagen.id3 import APIC, ID3, TIT2

    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(audio.song_a_mp3.read_bytes())
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Chanson d'été"))
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=png_bytes() + os.urandom(300_000)))
    tags.save(tagged, v1=2)  # ID3v2 in front (300 KB), ID3v1 at the end
    info = probe_audio(tagged, decode_check=False)
    assert info.duration_s == pytest.approx(SONG_SECONDS, abs=TOLERANCE_S)
    assert info.bitrate_bps == 128_000


def test_vbr_mp3(audio: AudioSet, tmp_path: Path) -> None:
    vbr = ffmpeg(audio.song_a_wav, tmp_path / "vbr.mp3", "-c:a", "libmp3lame", "-q:a", "2")
    info = probe_audio(vbr, decode_check=True)
    assert info.duration_s == pytest.approx(SONG_SECONDS, abs=TOLERANCE_S)
    assert 32_000 <= info.bitrate_bps <= 320_000
    assert info.bitrate_bps == pytest.approx(vbr.stat().st_size * 8 / SONG_SECONDS, rel=0.05)
