"""Audio the tests make: tunes that the media checks fingerprint like music."""

from __future__ import annotations

import array
import math
import random
import wave
from pathlib import Path

SONG_SECONDS = 12.0


def melody_wav(path: Path, seed: int, seconds: float = SONG_SECONDS, rate: int = 22050) -> Path:
    """A seeded random tune (quarter-second notes with harmonics): changes chroma like music does."""
    rng = random.Random(seed)
    scale = [57, 59, 60, 62, 64, 65, 67, 69, 71, 72, 74, 76]
    note_len = int(rate * 0.25)
    out = array.array("h")
    for _ in range(int(seconds / 0.25)):
        w = 2 * math.pi * 440.0 * 2 ** ((rng.choice(scale) - 69) / 12) / rate
        for i in range(note_len):
            env = min(1.0, i / 200) * math.sqrt(1 - i / note_len)
            x = math.sin(w * i) + 0.5 * math.sin(2 * w * i) + 0.25 * math.sin(3 * w * i)
            out.append(int(9000 * env * x))
    with wave.open(str(path), "wb") as w_out:
        w_out.setnchannels(1)
        w_out.setsampwidth(2)
        w_out.setframerate(rate)
        w_out.writeframes(out.tobytes())
    return path
