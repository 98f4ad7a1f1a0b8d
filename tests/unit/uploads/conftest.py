"""Real audio files for the uploads tests, generated once per session.

Melodies are synthesised with the standard library (``wave``), noise and a chirp with sox, and every other
format is encoded from those with ffmpeg, so the tests exercise real encoders' output and need no fixtures
from elsewhere (no database, no Redis, no network).
"""

from __future__ import annotations

import array
import math
import random
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

TONE_SECONDS = 4.0
SONG_SECONDS = 20.0
TRIM_SECONDS = 3.0


def require(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs it)")
    return exe


def run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=60)


def ffmpeg(src: Path, dest: Path, *options: str) -> Path:
    run(require("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", src, *options, dest)
    return dest


def write_wav(path: Path, samples: array.array[int], *, rate: int, channels: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def stereo_tone(path: Path, seconds: float = TONE_SECONDS, rate: int = 44100) -> Path:
    """440 Hz left, 660 Hz right: a plain, valid stereo WAV."""
    out = array.array("h")
    w1, w2 = 2 * math.pi * 440 / rate, 2 * math.pi * 660 / rate
    for i in range(int(seconds * rate)):
        out.append(int(8000 * math.sin(w1 * i)))
        out.append(int(8000 * math.sin(w2 * i)))
    return write_wav(path, out, rate=rate, channels=2)


def melody(path: Path, seed: int, seconds: float = SONG_SECONDS, rate: int = 22050) -> Path:
    """A seeded random tune: quarter-second notes with harmonics, so the chroma changes like music."""
    rng = random.Random(seed)
    scale = [57, 59, 60, 62, 64, 65, 67, 69, 71, 72, 74, 76]
    note_len = int(rate * 0.25)
    out = array.array("h")
    for _ in range(int(seconds / 0.25)):
        f = 440.0 * 2 ** ((rng.choice(scale) - 69) / 12)
        w = 2 * math.pi * f / rate
        for i in range(note_len):
            env = min(1.0, i / 200) * math.sqrt(1 - i / note_len)
            x = math.sin(w * i) + 0.5 * math.sin(2 * w * i) + 0.25 * math.sin(3 * w * i)
            out.append(int(9000 * env * x))
    return write_wav(path, out, rate=rate, channels=1)


@dataclass(frozen=True)
class AudioSet:
    root: Path
    tone_wav: Path
    formats: dict[str, Path]  # label -> file encoded from the stereo tone
    song_a_wav: Path
    song_a_mp3: Path
    song_a_mp3_64k: Path
    song_a_flac: Path
    song_a_opus: Path
    song_a_trimmed_mp3: Path
    song_b_mp3: Path
    song_c_wav: Path
    noise_wav: Path
    chirp_wav: Path


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioSet:
    require("ffmpeg")
    sox = require("sox")
    root = tmp_path_factory.mktemp("audio")
    tone = stereo_tone(root / "tone.wav")
    formats = {
        "wav": tone,
        "mp3": ffmpeg(tone, root / "tone.mp3", "-c:a", "libmp3lame", "-b:a", "192k"),
        "flac": ffmpeg(tone, root / "tone.flac", "-c:a", "flac"),
        "ogg_vorbis": ffmpeg(tone, root / "tone.ogg", "-c:a", "libvorbis", "-q:a", "4"),
        "opus": ffmpeg(tone, root / "tone.opus", "-c:a", "libopus", "-b:a", "96k"),
        "m4a_aac": ffmpeg(tone, root / "tone.m4a", "-c:a", "aac", "-b:a", "128k"),
        "aiff": ffmpeg(tone, root / "tone.aiff"),
        "webm_opus": ffmpeg(tone, root / "tone.webm", "-c:a", "libopus", "-b:a", "96k"),
    }
    song_a = melody(root / "song_a.wav", seed=1)
    song_c = melody(root / "song_c.wav", seed=3)
    noise = root / "noise.wav"
    run(
        sox,
        "-n",
        "-r",
        "22050",
        "-c",
        "1",
        "-b",
        "16",
        noise,
        "synth",
        str(SONG_SECONDS),
        "pinknoise",
        "vol",
        "0.3",
    )
    chirp = root / "chirp.wav"
    run(
        sox, "-n", "-r", "22050", "-c", "1", "-b", "16", chirp, "synth", str(SONG_SECONDS), "sine", "100-4000"
    )
    return AudioSet(
        root=root,
        tone_wav=tone,
        formats=formats,
        song_a_wav=song_a,
        song_a_mp3=ffmpeg(song_a, root / "song_a.mp3", "-c:a", "libmp3lame", "-b:a", "128k"),
        song_a_mp3_64k=ffmpeg(song_a, root / "song_a_64k.mp3", "-c:a", "libmp3lame", "-b:a", "64k"),
        song_a_flac=ffmpeg(song_a, root / "song_a.flac", "-c:a", "flac"),
        song_a_opus=ffmpeg(song_a, root / "song_a.opus", "-c:a", "libopus", "-b:a", "48k"),
        song_a_trimmed_mp3=ffmpeg(
            song_a,
            root / "song_a_trimmed.mp3",
            "-ss",
            str(TRIM_SECONDS),
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
        ),
        song_b_mp3=ffmpeg(melody(root / "song_b.wav", seed=2), root / "song_b.mp3", "-b:a", "128k"),
        song_c_wav=song_c,
        noise_wav=noise,
        chirp_wav=chirp,
    )
