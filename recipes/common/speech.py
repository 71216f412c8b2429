"""Spoken digit strings and words synthesized in-process with espeak-ng, cached on disk.

Speech comes from libespeak-ng 1.52 and its voice data, both shipped by the
`espeakng-loader` wheel (GPL-3.0; the audio it produces is ours to use), driven through
ctypes: no system package, nothing downloaded. espeak-ng is a formant synthesizer, so a
"speaker" here is an accent (en-us, en-gb-scotland, ...) combined with a voice variant
(m1..m7, f1..f5, klatt, croak, ...), which changes pitch, formants and voicing far more than
the accent does. Each utterance also gets a random speaking rate, pitch, leading silence,
gain and white noise at a random signal-to-noise ratio.

Splits: train and validation use TRAIN_VARIANTS; test uses only TEST_VARIANTS, voices never
heard in training ("unseen speakers"), spoken with every accent.

espeak-ng keeps state from one utterance to the next inside a process (pitch flutter, wave
phase), which would make the same settings give a slightly different waveform depending on what
was synthesized before. So the library is reloaded for every utterance (about 0.6 ms), and each
split is spoken by a fresh worker process, which also covers the few voices whose output still
depends on the process' history. Voices with breath noise (BREATHY_VARIANTS) differ slightly from
one process to the next whatever is done; the speech recognizers' test splits leave them out.

A generated set is cached under .cache/speech/ (or $RNN_RECIPES_CACHE) in one .npz file named
by a hash of everything that shapes it (texts, config, library versions), so the second
run with the same config loads in about a second. Generation prints a progress bar to stderr.

The speech recognizers (recipes/common/ctc.py) choose their training voices and prosody by config
(speakers, varied_prosody) and test on two held-out sets: wavegen voices never trained on
(in-family) and every voice of espeak-ng's Klatt synthesizer (out-of-family).

Also here: WAV reading and writing with the standard library (PCM and float WAV, any rate,
any channel count), resampling, and log-mel features computed with Keras' MelSpectrogram
layer (with optional vocal tract length perturbation), shared by training and `recipe transcribe`.
"""

import _ctypes
import ctypes
import functools
import hashlib
import json
import math
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np

from recipes.common.config import at_most, integer, number, ordered
from recipes.common.splits import SPLIT_STREAMS

ESPEAK_RATE = 22050  # what espeak_Initialize reports for this build
# Accent voices of espeak-ng's English (lang/gmw/en*).
ACCENTS = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
# Variants (voices/!v): training speakers and the held-out test speakers. No variant is in both.
TRAIN_VARIANTS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "f1",
    "f2",
    "f3",
    "klatt",
    "klatt2",
    "croak",
    "adam",
    "anika",
    "ed",
    "john",
    "linda",
    "max",
    "paul",
    "rob",
    "steph",
    "travis",
)
TEST_VARIANTS = ("m7", "f4", "f5", "klatt3", "belinda", "david", "edward", "iven", "quincy")
# The speech recognizers' voices (config "voices"), split by espeak-ng's two synthesis modes. Most
# variants drive its own harmonic synthesizer ("wavegen"); these 19 drive its Klatt formant
# synthesizer instead (a `klatt N` line in the variant file: a different voicing source and
# formant filters). No recognizer config ever trains on them: they are the out-of-family test.
KLATT_VARIANTS = (
    "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "adam", "announcer", "benjamin", "caleb",
    "david", "edward", "edward2", "mike2", "Reed", "UniRobot", "robosoft", "robosoft2", "robosoft3",
)  # fmt: skip
# In-family unseen speakers: wavegen variants no recognizer config trains on.
IN_FAMILY_TEST_VARIANTS = ("m7", "f4", "belinda", "iven", "quincy", "grandma", "michel", "zac", "robert")
# Variants with breath noise, whose samples differ slightly from one process to the next (the library
# reads memory it never set): fine for training, kept out of the recognizers' test splits.
BREATHY_VARIANTS = ("Alicia", "Demonic", "f2", "f3", "f5", "sandro", "victor", "whisper", "whisperf")
# voices "classic": the wavegen variants of TRAIN_VARIANTS (19); voices "all": every other wavegen
# variant the wheel ships (iven2..4 are left out, being close to the test voice iven; boris because
# its output depends on what was synthesized before it, even in a reloaded library).
RECOGNIZER_TRAIN_VARIANTS = {
    "classic": tuple(v for v in TRAIN_VARIANTS if v not in KLATT_VARIANTS),
    "all": tuple(v for v in TRAIN_VARIANTS if v not in KLATT_VARIANTS) + (
        "m8", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Demonic", "Denis", "Diogo", "Gene",
        "Gene2", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Mr serious", "Nguyen",
        "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "anikaRobot", "antonio", "aunty", "boris",
        "fast", "grandpa", "gustave", "ian", "kaukovalta", "marcelo", "miguel", "norbert", "pablo", "pedro",
        "robosoft4", "robosoft5", "robosoft6", "robosoft7", "robosoft8", "sandro", "shelby", "steph2", "steph3",
        "victor", "whisper", "whisperf",
    ),
}  # fmt: skip
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Keyword-spotting vocabulary (the ten digits and ten commands of Google's Speech Commands).
COMMAND_WORDS = DIGIT_WORDS + ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

# Config keys that shape a synthesized set (besides the texts); a recipe's DEFAULT_CONFIG has them all.
SYNTHESIS_DEFAULTS = {
    "sample_rate": 16000,
    "rate_min": 130,  # espeak speaking rate, words per minute
    "rate_max": 210,
    "pitch_min": 25,  # espeak pitch, 0..100
    "pitch_max": 75,
    "snr_min_db": 10.0,  # white noise, signal-to-noise ratio over the speech
    "snr_max_db": 30.0,
    "max_leading_silence": 0.25,  # seconds
}
# What each of them accepts (a recipe spreads these into its CONFIG_RULES); check_synthesis orders the ranges.
SYNTHESIS_RULES = {
    "sample_rate": integer(4000, 48000),
    "rate_min": integer(80, 450),
    "rate_max": integer(80, 450),
    "pitch_min": integer(0, 100),
    "pitch_max": integer(0, 100),
    "snr_min_db": number(-20, 100),
    "snr_max_db": number(-20, 100),
    "max_leading_silence": number(0, 10),
}
# Config keys of the speech recognizers that shape synthesis too (see speakers and _synthesize_split).
VOICE_KEYS = ("voices", "prosody")
SYNTHESIS_VERSION = 2  # bump when the generator changes, so old caches are not reused

# Config keys of log_mel's features: window and hop in ms, mel bands.
FEATURE_DEFAULTS = {"frame_ms": 25, "hop_ms": 10, "num_mels": 40}
FEATURE_RULES = {"frame_ms": integer(1, 200), "hop_ms": integer(1, 200), "num_mels": integer(1, 256)}

# Most words a run may synthesize over all its splits (about 8 hours of speech).
MAX_SPOKEN_WORDS = 60_000


def check_synthesis(config):
    """Raise ConfigError unless every synthesis range of `config` has its minimum at most its maximum."""
    for low, high in (("rate_min", "rate_max"), ("pitch_min", "pitch_max"), ("snr_min_db", "snr_max_db")):
        ordered(config, low, high)


def check_amount(config, words_per_utterance):
    """Raise ConfigError unless num_train + num_validation + num_test utterances of up to
    `words_per_utterance` words stay within MAX_SPOKEN_WORDS (memory and synthesis time)."""
    counts = {key: config[key] for key in ("num_train", "num_validation", "num_test")}
    largest = max(counts, key=counts.get)  # the split to shrink
    others = sum(counts.values()) - counts[largest]
    why = f"utterances of up to {words_per_utterance} words when the other splits take {others:,} ({MAX_SPOKEN_WORDS:,} words over all splits)"
    at_most(config, largest, max(MAX_SPOKEN_WORDS // words_per_utterance - others, 0), why)


class AudioError(ValueError):
    """A WAV file that cannot be used; the message names the problem and the fix."""


# ---------------------------------------------------------------------------------------------
# espeak-ng through ctypes


class _Event(ctypes.Structure):
    # espeak_EVENT of speak_lib.h; `id` is a union of an int, a pointer and char[8].
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_EVENT_WORD, _EVENT_END = 1, 5
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_SYNCHRONOUS, _POS_CHARACTER, _CHARS_UTF8, _SSML = 2, 1, 1, 0x10


class _Espeak:
    """One initialized libespeak-ng: synthesize(text, voice, rate, pitch) -> (int16 samples, word starts)."""

    def __init__(self):
        self.lib = None
        self._load()

    def _load(self):
        """Load libespeak-ng afresh: unloading it first resets its state (pitch flutter, wave phase), which
        otherwise runs on from one utterance to the next, so every utterance depends only on its own settings."""
        import espeakng_loader

        if self.lib is not None:
            unload = getattr(_ctypes, "dlclose", None) or _ctypes.FreeLibrary  # POSIX, else Windows
            unload(self.lib._handle)
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate != ESPEAK_RATE:
            raise RuntimeError(f"espeak-ng initialized at {rate} Hz, expected {ESPEAK_RATE}")
        self._chunks, self._word_starts = [], []
        self._callback = _CALLBACK(self._collect)  # kept referenced: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, num_samples, events):
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != 0:
            if events[i].type == _EVENT_WORD:
                self._word_starts.append(events[i].sample)
            i += 1
        return 0

    def synthesize(self, text, voice, rate, pitch, ssml=False):
        self._load()  # about 0.6 ms
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        self._chunks, self._word_starts = [], []
        encoded = text.encode("utf-8")
        buffer = ctypes.create_string_buffer(encoded)
        flags = _CHARS_UTF8 | (_SSML if ssml else 0)
        status = self.lib.espeak_Synth(buffer, len(encoded) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status} on {text!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return samples, np.asarray(self._word_starts, dtype=np.int64)


@functools.lru_cache(maxsize=1)
def _engine():
    return _Espeak()


def espeak_version():
    """The espeakng-loader package version (it pins the library and its voice data)."""
    from importlib.metadata import version

    return version("espeakng-loader")


def synthesize(text, voice="en-us+m3", rate=170, pitch=50, sample_rate=ESPEAK_RATE, ssml=False):
    """Speak `text` with espeak-ng (the same arguments give the same samples in a fresh process).

    Args:
        text: what to say (SSML markup when `ssml`: <speak>, <prosody>, <break>).
        voice: "accent+variant", e.g. "en-gb-scotland+f4".
        rate: words per minute (80..450).
        pitch: 0..100.
        sample_rate: output rate in Hz (espeak-ng makes 22050 Hz; other rates are resampled).

    Returns:
        (waveform, word_starts): float32 samples in [-1, 1] and the sample index where each
        word of `text` starts, as espeak-ng reports it.
    """
    samples, starts = _engine().synthesize(text, voice, rate, pitch, ssml)
    waveform = samples.astype(np.float32) / 32768.0
    if sample_rate != ESPEAK_RATE:
        waveform = resample(waveform, ESPEAK_RATE, sample_rate)
        starts = np.round(starts * (sample_rate / ESPEAK_RATE)).astype(np.int64)
    return waveform, starts


def resample(waveform, from_rate, to_rate):
    """`waveform` resampled from `from_rate` to `to_rate` Hz (polyphase filter, anti-aliased)."""
    from scipy.signal import resample_poly

    from_rate, to_rate = int(from_rate), int(to_rate)
    if from_rate == to_rate:
        return np.asarray(waveform, dtype=np.float32)
    g = math.gcd(from_rate, to_rate)
    return resample_poly(np.asarray(waveform, dtype=np.float64), to_rate // g, from_rate // g).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Data sets


def speakers(split, voices=None):
    """The "accent+variant" voices of a split: train/validation share them, test has its own.

    `voices` None gives TRAIN_VARIANTS / TEST_VARIANTS (the word and frame recipes). A speech
    recognizer's config names its training voices, "classic" or "all" (RECOGNIZER_TRAIN_VARIANTS),
    and its "test" split is IN_FAMILY_TEST_VARIANTS and its "out_of_family" split KLATT_VARIANTS.
    """
    if voices is None:
        variants = TEST_VARIANTS if split == "test" else TRAIN_VARIANTS
    else:
        held_out = {"test": IN_FAMILY_TEST_VARIANTS, "out_of_family": KLATT_VARIANTS}
        variants = held_out.get(split) or RECOGNIZER_TRAIN_VARIANTS[voices]
    return tuple(f"{accent}+{variant}" for accent in ACCENTS for variant in variants)


def digit_strings(rng, count, min_digits, max_digits):
    """`count` transcripts of min..max random digit words each, e.g. "three one four"."""
    lengths = rng.integers(min_digits, max_digits + 1, size=count)
    return [" ".join(DIGIT_WORDS[d] for d in rng.integers(0, 10, size=n)) for n in lengths]


def _progress(label, done, total, started, stream=sys.stderr):
    """A one-line progress bar; on a non-terminal only the first and last lines are printed."""
    tty = stream.isatty()
    if not tty and 0 < done < total:
        return
    width = 30
    filled = int(width * done / max(total, 1))
    elapsed = time.perf_counter() - started
    line = f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {elapsed:.1f}s"
    stream.write(("\r" if tty else "") + line + ("\n" if done >= total or not tty else ""))
    stream.flush()


# Each split's random stream (recipes/common/splits.py, plus the recognizers' out-of-family test).
STREAMS = {**SPLIT_STREAMS, "out_of_family": 3}


def varied_prosody(words, rng):
    """SSML that speaks `words` each at its own rate (85-120 %), pitch (-10..+10 %) and volume
    (75-125 %), with a pause of up to 150 ms after about a third of them: the variation within
    an utterance that espeak-ng's one rate and pitch per utterance lack."""
    parts = []
    for i, word in enumerate(words):
        rate, pitch, volume = rng.integers(85, 121), rng.integers(-10, 11), rng.integers(75, 126)
        parts.append(f'<prosody rate="{rate}%" pitch="{pitch:+d}%" volume="{volume}%">{word}</prosody>')
        if i + 1 < len(words) and rng.random() < 0.3:
            parts.append(f'<break time="{rng.integers(20, 151)}ms"/>')
    return "<speak>" + " ".join(parts) + "</speak>"


def _synthesize_split(texts, split, config, label):
    """Every text of one split spoken once, clean (noise is added by _add_noise on load).

    With config "prosody" "varied", training and validation utterances get wider rate and pitch
    ranges (rate x0.9..x1.1, pitch -10..+10 around the configured ranges) and per-word variation
    (varied_prosody); the test splits are always spoken plainly.
    """
    rng = np.random.default_rng([config["seed"], STREAMS[split], 7])
    voices = speakers(split, config.get("voices"))
    varied = config.get("prosody") == "varied" and split in ("train", "validation")
    rate_range = (config["rate_min"], config["rate_max"])
    pitch_range = (config["pitch_min"], config["pitch_max"])
    if varied:
        rate_range = (max(80, int(rate_range[0] * 0.9)), min(450, int(rate_range[1] * 1.1)))
        pitch_range = (max(0, pitch_range[0] - 10), min(100, pitch_range[1] + 10))
    rate = config["sample_rate"]
    clean_waveforms, word_starts, voice_names = [], [], []
    snr_db = rng.uniform(config["snr_min_db"], config["snr_max_db"], size=len(texts))
    started = time.perf_counter()
    _progress(label, 0, len(texts), started)
    for i, text in enumerate(texts):
        voice = voices[int(rng.integers(len(voices)))]
        speech, starts = synthesize(
            varied_prosody(text.split(), rng) if varied else text,
            voice,
            rate=rng.integers(rate_range[0], rate_range[1] + 1),
            pitch=rng.integers(pitch_range[0], pitch_range[1] + 1),
            sample_rate=rate,
            ssml=varied,
        )
        speech = speech * np.float32(rng.uniform(0.3, 0.9) / max(np.abs(speech).max(), 1e-6))
        lead = int(rng.uniform(0, config["max_leading_silence"]) * rate)
        clean_waveforms.append(np.concatenate([np.zeros(lead, np.float32), speech]))
        word_starts.append(starts + lead)
        voice_names.append(voice)
        if (i + 1) % 100 == 0 or i + 1 == len(texts):
            _progress(label, i + 1, len(texts), started)
    return {"clean": clean_waveforms, "snr_db": snr_db, "texts": list(texts), "voices": voice_names, "word_starts": word_starts}


def _add_noise(split_set, seed, split):
    """The split's utterances with white noise at each one's SNR over the power of its speech samples."""
    rng = np.random.default_rng([seed, STREAMS[split], 11])
    noisy = []
    for clean, snr_db in zip(split_set["clean"], split_set["snr_db"]):
        loud = clean[np.abs(clean) > 0.1 * np.abs(clean).max()] if clean.size else clean
        power = float(np.mean(loud**2)) if loud.size else 1e-4
        noise = rng.standard_normal(clean.shape).astype(np.float32) * np.float32(math.sqrt(power / 10 ** (snr_db / 10)))
        noisy.append(np.clip(clean + noise, -1, 1))
    return noisy


def cache_dir():
    """Where synthesized sets are kept: $RNN_RECIPES_CACHE, else .cache/speech at the repository root."""
    root = os.environ.get("RNN_RECIPES_CACHE")
    return Path(root) if root else Path(__file__).resolve().parents[2] / ".cache" / "speech"


def _ragged_to_arrays(prefix, arrays, dtype):
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)
    return {f"{prefix}_flat": flat, f"{prefix}_lengths": lengths}


def _arrays_to_ragged(stored, prefix):
    flat, lengths = stored[f"{prefix}_flat"], stored[f"{prefix}_lengths"]
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


def _save(path, split_sets):
    payload = {}
    for split, s in split_sets.items():
        pcm = [np.round(np.clip(w, -1, 1) * 32767).astype(np.int16) for w in s["clean"]]
        payload.update({f"{split}/{k}": v for k, v in _ragged_to_arrays("clean", pcm, np.int16).items()})
        payload.update({f"{split}/{k}": v for k, v in _ragged_to_arrays("word_starts", s["word_starts"], np.int64).items()})
        payload[f"{split}/snr_db"] = np.asarray(s["snr_db"], dtype=np.float64)
        payload[f"{split}/texts"] = np.array(s["texts"], dtype=str)
        payload[f"{split}/voices"] = np.array(s["voices"], dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    np.savez(partial, **payload)
    partial.replace(path)  # atomic: a killed run never leaves a truncated cache behind


def _load(path, splits):
    with np.load(path) as stored:
        stored = {k: stored[k] for k in stored.files}
    out = {}
    for split in splits:
        view = {k[len(split) + 1 :]: v for k, v in stored.items() if k.startswith(split + "/")}
        out[split] = {
            "clean": [w.astype(np.float32) / 32767 for w in _arrays_to_ragged(view, "clean")],
            "word_starts": _arrays_to_ragged(view, "word_starts"),
            "snr_db": view["snr_db"],
            "texts": [str(t) for t in view["texts"]],
            "voices": [str(v) for v in view["voices"]],
        }
    return out


def _synthesize_in_fresh_processes(texts_by_split, config, name):
    """{split: _synthesize_split(...)}, each split spoken by a new Python process (two at a time).

    Reloading the library resets its own state, but a few voices and the first SSML utterance
    of a process still depend on what the process did before (memory the library reads without
    setting it), so a split is only reproducible when it is spoken in a fresh process; it also
    uses both cores. The worker is `python -m recipes.common.speech` (arguments and result
    pickled through its stdin and stdout; its progress bar goes to stderr).
    """
    import pickle
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    pending, results = list(texts_by_split.items()), {}
    running = []
    while pending or running:
        while pending and len(running) < 2:
            split, texts = pending.pop(0)
            worker = subprocess.Popen([sys.executable, "-m", "recipes.common.speech"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            worker.stdin.write(pickle.dumps((texts, split, config, f"synthesizing {name} {split}")))
            worker.stdin.close()
            running.append((split, worker))
        split, worker = running.pop(0)
        output = worker.stdout.read()
        if worker.wait() != 0:
            raise RuntimeError(f"speech synthesis of the {split} split failed (exit code {worker.returncode})")
        results[split] = pickle.loads(output)
    return {split: results[split] for split in texts_by_split}


def synthesize_sets(texts_by_split, config, name):
    """Speak every split's texts, or load them from the cache.

    Args:
        texts_by_split: {"train": [...], "validation": [...], "test": [...]} transcripts.
        config: a recipe config holding "seed" and every key of SYNTHESIS_DEFAULTS.
        name: a short label for the progress bar and the cache file name.

    Returns:
        {split: {"waveforms": [float32 arrays, noisy], "clean": [the same before noise],
        "snr_db": float array, "texts": [...], "voices": ["accent+variant", ...],
        "word_starts": [int arrays, sample index per word]}}
        at config["sample_rate"] Hz. Utterances have their natural lengths (not padded).
    """
    shaping = {key: config[key] for key in ("seed", *SYNTHESIS_DEFAULTS, *VOICE_KEYS) if key in config}
    key = json.dumps(
        {"texts": texts_by_split, "config": shaping, "espeak": espeak_version(), "version": SYNTHESIS_VERSION},
        sort_keys=True,
    )
    path = cache_dir() / f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"
    sets = None
    if path.is_file():
        try:
            sets = _load(path, list(texts_by_split))
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # unreadable: synthesize again
    if sets is None:
        sets = _synthesize_in_fresh_processes(texts_by_split, config, name)
        _save(path, sets)
        sets = _load(path, list(texts_by_split))  # the same int16-rounded samples as a cached run
    for split, split_set in sets.items():
        split_set["waveforms"] = _add_noise(split_set, config["seed"], split)
    return sets


# ---------------------------------------------------------------------------------------------
# Features


def frame_count(num_samples, config):
    """How many feature frames log_mel gives for `num_samples` samples (centered frames)."""
    hop = hop_length(config)
    return num_samples // hop + 1


def hop_length(config):
    return int(round(config["sample_rate"] * config["hop_ms"] / 1000))


VTLP_BOUNDARY_HZ = 4800.0  # Jaitly & Hinton's f_hi: below it frequencies scale by alpha; above, a line to Nyquist


def warp_mel(mel, alpha, sample_rate, min_freq=20.0):
    """VTLP on mel-band energies: each band reads the energy the band at its warped frequency had.

    Jaitly & Hinton warp frequency f to f * alpha below f_hi = VTLP_BOUNDARY_HZ (scaled by
    alpha's inverse so the top stays fixed) and linearly to the Nyquist frequency above; a
    band's new energy is the old energies interpolated at the band whose centre maps onto it.

    Args:
        mel: (frames, bands) mel power (before the log).
        alpha: the warp factor (1 = unchanged).
        sample_rate, min_freq: the filterbank's range (Nyquist at the top).

    Returns:
        (frames, bands) warped mel power.
    """
    if alpha == 1.0:
        return mel
    bands = mel.shape[-1]
    nyquist = sample_rate / 2

    def to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    centres = to_hz(np.linspace(to_mel(min_freq), to_mel(nyquist), bands + 2)[1:-1])
    boundary = VTLP_BOUNDARY_HZ * min(alpha, 1.0) / alpha
    # The inverse warp: the source frequency that lands on each band's centre.
    source = np.where(
        centres <= boundary * alpha,
        centres / alpha,
        boundary + (centres - boundary * alpha) * (nyquist - boundary) / max(nyquist - boundary * alpha, 1e-9),
    )
    position = np.interp(source, centres, np.arange(bands))
    low = np.clip(np.floor(position).astype(int), 0, bands - 1)
    high = np.clip(low + 1, 0, bands - 1)
    weight = (position - low).astype(mel.dtype)
    return mel[..., low] * (1 - weight) + mel[..., high] * weight


def log_mel(waveforms, config, batch_size=256, warps=None):
    """Normalized log-mel spectrograms of utterances of any lengths.

    keras.layers.MelSpectrogram (Hann window of config["frame_ms"], hop config["hop_ms"],
    config["num_mels"] bands from 20 Hz to Nyquist) on the zero-padded batch, then log(mel +
    1e-6) and, unless config["feature_norm"] is "none", per-utterance, per-band normalization
    to zero mean and unit variance over the utterance's own frames (cepstral mean and variance
    normalization, which removes the gain and any fixed channel colouring). Frames past an
    utterance's end are set to 0.

    Args:
        waveforms: a list of 1-D float arrays at config["sample_rate"] Hz.
        config: holds sample_rate, frame_ms, hop_ms, num_mels (and optionally feature_norm).
        warps: optional vocal tract length perturbation factor per utterance (warp_mel), for training data.

    Returns:
        (features, lengths): float32 (N, T_max, num_mels) and int (N,) valid frames each.
    """
    import keras

    rate = config["sample_rate"]
    window = int(round(rate * config["frame_ms"] / 1000))
    fft_length = int(2 ** math.ceil(math.log2(window)))
    layer = keras.layers.MelSpectrogram(
        fft_length=fft_length,
        sequence_length=window,
        sequence_stride=hop_length(config),
        sampling_rate=rate,
        num_mel_bins=config["num_mels"],
        min_freq=20.0,
        max_freq=rate / 2,
        power_to_db=False,
    )
    normalize = config.get("feature_norm", "utterance") == "utterance"
    lengths = np.array([frame_count(len(w), config) for w in waveforms], dtype=np.int64)
    t_max = int(lengths.max()) if len(lengths) else 0
    features = np.zeros((len(waveforms), t_max, config["num_mels"]), dtype=np.float32)
    for start in range(0, len(waveforms), batch_size):
        chunk = waveforms[start : start + batch_size]
        # Each utterance reflected past its own end, as the layer does for the batch's longest, so
        # its last frames do not see the zeros of the padding: the same features alone or in a batch.
        tail = fft_length // 2
        padded = np.zeros((len(chunk), max(len(w) for w in chunk) + tail), dtype=np.float32)
        for i, w in enumerate(chunk):
            padded[i, : len(w) + tail] = np.pad(w, (0, tail), mode="reflect") if len(w) > tail else np.pad(w, (0, tail))
        mel = np.transpose(keras.ops.convert_to_numpy(layer(padded)), (0, 2, 1))  # (batch, frames, mels)
        for i in range(len(chunk)):
            n = lengths[start + i]
            valid = mel[i, :n]
            if warps is not None:
                valid = warp_mel(valid, warps[start + i], rate)
            valid = np.log(valid + 1e-6)
            if normalize:
                valid = (valid - valid.mean(0)) / (valid.std(0) + 1e-5)
            features[start + i, :n] = valid
    return features, lengths


# ---------------------------------------------------------------------------------------------
# WAV files (standard library only)

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def write_wav(path, waveform, sample_rate):
    """Write float samples in [-1, 1] as a mono 16-bit PCM WAV file."""
    import wave

    pcm = (np.clip(np.asarray(waveform, dtype=np.float64), -1, 1) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return Path(path)


def read_wav(path, max_seconds=None):
    """A WAV file's samples, mixed to mono, as float32 in [-1, 1], and its sample rate.

    Reads RIFF/WAVE with PCM 8/16/24/32-bit or IEEE float 32/64-bit samples, any channel count.

    Raises:
        AudioError: missing or unreadable file, not a WAV file, a sample format it cannot
            read, no samples, or longer than `max_seconds`; the message says what to do.
    """
    path = Path(path)
    convert = "convert it with e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 out.wav`"
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise AudioError(f"{path} is a directory, not a WAV file") from None
    except OSError as error:
        raise AudioError(f"cannot read {path}: {error.strerror or error}") from None
    if not data:
        raise AudioError(f"{path} is empty (0 bytes): record or export it again")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{path} is not a WAV file (no RIFF/WAVE header): {convert}")
    fmt, samples, position = None, None, 12
    while position + 8 <= len(data):
        chunk_id, size = data[position : position + 4], struct.unpack("<I", data[position + 4 : position + 8])[0]
        body = data[position + 8 : position + 8 + size]
        if chunk_id == b"fmt " and len(body) >= 16:
            fmt = struct.unpack("<HHIIHH", body[:16])
            if fmt[0] == _EXTENSIBLE and len(body) >= 26:
                fmt = (struct.unpack("<H", body[24:26])[0],) + fmt[1:]
        elif chunk_id == b"data":
            samples = body
        position += 8 + size + (size % 2)
    if fmt is None or samples is None:
        raise AudioError(f"{path} is a damaged WAV file (no {'fmt' if fmt is None else 'data'} chunk): {convert}")
    code, channels, rate, _, _, bits = fmt
    dtypes = {(_PCM, 8): "u1", (_PCM, 16): "<i2", (_PCM, 32): "<i4", (_FLOAT, 32): "<f4", (_FLOAT, 64): "<f8"}
    if channels < 1 or rate < 1:
        raise AudioError(f"{path} declares {channels} channels at {rate} Hz: {convert}")
    frame_bytes = channels * bits // 8
    usable = len(samples) - len(samples) % frame_bytes if frame_bytes else 0
    if usable == 0:
        raise AudioError(f"{path} has no audio samples: record or export it again")
    if (code, bits) == (_PCM, 24):
        raw = np.frombuffer(samples[:usable], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = ((raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)) ^ 0x800000) - 0x800000
        values = values / float(2**23)
    elif (code, bits) in dtypes:
        values = np.frombuffer(samples[:usable], dtype=dtypes[(code, bits)]).astype(np.float64)
        if code == _PCM:
            values = (values - 128) / 128 if bits == 8 else values / float(2 ** (bits - 1))
    else:
        kind = {_PCM: "PCM", _FLOAT: "float"}.get(code, f"format code {code}")
        raise AudioError(f"{path} uses {bits}-bit {kind} samples, which this reader does not handle: {convert}")
    mono = values.reshape(-1, channels).mean(axis=1).astype(np.float32)
    seconds = len(mono) / rate
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(f"{path} is {seconds:.1f} s long; the limit is {max_seconds:g} s: cut it into shorter pieces")
    return mono, rate


if __name__ == "__main__":  # the worker of _synthesize_in_fresh_processes
    import pickle

    sys.stdout.buffer.write(pickle.dumps(_synthesize_split(*pickle.loads(sys.stdin.buffer.read()))))
