"""Benchmark: espeak-ng synthesis and log-mel feature throughput (recipes/common/speech.py).

Synthesizes spoken digit strings (3-5 digits, random training voices, rates and pitches)
in this process, at espeak-ng's own 22,050 Hz and resampled to 16 kHz and 8 kHz, then
computes the recognizers' log-mel features (Keras MelSpectrogram layer) of the 16 kHz set.
Prints utterances per second and seconds of audio per second of wall time. Nothing is
cached or written.

Usage (from the repository root):

    python bench/speech_synthesis.py [--count 1000]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tools.quiet import filter_native_logs, quiet_tensorflow  # noqa: E402

quiet_tensorflow()  # both before TensorFlow is first imported
filter_native_logs()

import numpy as np  # noqa: E402

from recipes.common import speech  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="utterances per measurement")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    texts = speech.digit_strings(rng, args.count, 3, 5)
    voices = speech.speakers("train")
    settings = [(voices[int(rng.integers(len(voices)))], int(rng.integers(130, 211)), int(rng.integers(25, 76))) for _ in texts]
    speech.synthesize("warm up", voices[0])  # loads the library and voice data
    print(f"{args.count} spoken digit strings (3-5 digits), {os.cpu_count()} CPUs")
    print("| output | utterances/s | audio s per wall s |")
    print("|---|---|---|")
    waveforms_16k = None
    for rate in (speech.ESPEAK_RATE, 16000, 8000):
        started = time.perf_counter()
        waveforms = [speech.synthesize(t, v, r, p, sample_rate=rate)[0] for t, (v, r, p) in zip(texts, settings)]
        seconds = time.perf_counter() - started
        audio = sum(len(w) for w in waveforms) / rate
        print(f"| synthesis at {rate} Hz | {args.count / seconds:,.0f} | {audio / seconds:,.0f} |")
        if rate == 16000:
            waveforms_16k, audio_16k = waveforms, audio
    config = {"sample_rate": 16000, "frame_ms": 25, "hop_ms": 10, "num_mels": 40}
    speech.log_mel(waveforms_16k[:8], config)  # imports Keras, builds the layer
    started = time.perf_counter()
    speech.log_mel(waveforms_16k, config)
    seconds = time.perf_counter() - started
    print(f"| log-mel features (40 bands, 10 ms hop) | {args.count / seconds:,.0f} | {audio_16k / seconds:,.0f} |")


if __name__ == "__main__":
    main()
