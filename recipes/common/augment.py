"""Making speech recognizers trained on synthesized speech transfer: signal and feature augmentation.

espeak-ng speaks every digit the same way for a given voice, rate and pitch, in a perfect
channel. Real recordings differ in speaking rate, vocal tract, room, microphone and noise. The
training split of the CTC recognizers (recipes/common/ctc.py) gets, per utterance and each with
its own config switch:

- speed perturbation, "Audio Augmentation for Speech Recognition", Tom Ko, Vijayaditya Peddinti,
  Daniel Povey and Sanjeev Khudanpur, 2015: the waveform resampled by 0.9, 1.0 or 1.1 (tempo
  and pitch change together);
- reverberation: a synthetic room impulse response (a direct path, then exponentially decaying
  noise with a random RT60 of 0.1-0.5 s) on 30 % of the utterances, as in "A study on data augmentation of reverberant
  speech for robust speech recognition", Tom Ko et al., 2017;
- channel: a telephone band (300-3,400 Hz, 10 %) or a random equalizer of three peaking filters
  (+-6 dB, 30 %): cheap microphones and phone lines;
- noise: white, pink, brown or blue noise, or (10 %) babble made of three to six other training
  utterances 5 dB quieter, at the configured range of SNRs;
- vocal tract length perturbation (VTLP), "Vocal Tract Length Perturbation (VTLP) improves
  speech recognition", Navdeep Jaitly and Geoffrey Hinton, 2013: the mel filterbank's
  frequencies warped by a factor of 0.9-1.1 (speech.warp_mel, applied in speech.log_mel);
- SpecAugment, "SpecAugment: A Simple Data Augmentation Method for Automatic Speech
  Recognition", Daniel S. Park et al., 2019: time and frequency masks on the features, drawn
  afresh for every batch while training (the SpecAugment layer; inference passes features through).

Everything but SpecAugment is drawn once per utterance from the run's seed (static
augmentation: the same augmented training set for every epoch, cheap to make), with NumPy and
SciPy; the library audiomentations covers similar ground but draws from the global random state
and pulls in librosa and numba, for transforms of a few lines each here.
"""

import math

import keras
import numpy as np

from recipes.common.cells import SERIALIZATION_PACKAGE
from recipes.common.config import boolean, choice

# Config switches (spread into the recognizers' DEFAULT_CONFIG through recipes/common/ctc.py).
AUGMENT_DEFAULTS = {
    "voices": "classic",  # training voices: "classic" (19 variants) or "all" (72 wavegen variants: slower to learn)
    "prosody": "plain",  # or "varied": wider rate/pitch ranges, per-word rate/pitch/volume/pauses (slows learning: off)
    "speed_perturb": True,
    "reverb": True,
    "channel": True,
    "noise": "mixed",  # "white" or "mixed" (white/pink/brown/blue or babble)
    "vtlp": True,
    "spec_augment": True,
    "feature_norm": "utterance",  # "utterance" (mean/variance per utterance and band) or "none"
}

AUGMENT_RULES = {
    "voices": choice("classic", "all"),
    "prosody": choice("plain", "varied"),
    "speed_perturb": boolean(),
    "reverb": boolean(),
    "channel": boolean(),
    "noise": choice("white", "mixed"),
    "vtlp": boolean(),
    "spec_augment": boolean(),
    "feature_norm": choice("utterance", "none"),
}

SPEEDS = (0.9, 1.0, 1.1)
REVERB_PROBABILITY = 0.3
RT60_RANGE = (0.1, 0.5)  # seconds
TELEPHONE_PROBABILITY, EQUALIZER_PROBABILITY = 0.1, 0.3
EQUALIZER_DB = 6.0
BABBLE_PROBABILITY = 0.1
BABBLE_SNR_OFFSET_DB = 5.0  # babble is quieter than the other noises: a crowd behind the speaker
NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}  # power falls as 1 / f^beta
VTLP_RANGE = (0.9, 1.1)


def speed(waveform, factor):
    """`waveform` played `factor` times faster (fewer samples), by polyphase resampling."""
    from scipy.signal import resample_poly

    if factor == 1.0:
        return waveform
    up, down = 10, int(round(10 * factor))
    return resample_poly(waveform.astype(np.float64), up, down).astype(np.float32)


def room_impulse_response(rate, rng):
    """A synthetic room: a unit direct path, then decaying Gaussian noise with an RT60 in RT60_RANGE."""
    rt60 = rng.uniform(*RT60_RANGE)
    length = int(rt60 * rate)
    t = np.arange(length) / rate
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
    tail[: int(0.003 * rate)] = 0  # the first reflections arrive a few ms after the direct sound
    response = tail * rng.uniform(0.1, 0.4) / math.sqrt(np.sum(tail**2) + 1e-12)
    response[0] = 1.0
    return response


def reverberate(waveform, rate, rng):
    from scipy.signal import fftconvolve

    wet = fftconvolve(waveform, room_impulse_response(rate, rng))[: len(waveform)]
    return (wet * (np.abs(waveform).max() / max(np.abs(wet).max(), 1e-9))).astype(np.float32)


def _peaking(frequency, gain_db, q, rate):
    """One peaking-equalizer biquad (b, a), Robert Bristow-Johnson's Audio EQ Cookbook."""
    amplitude = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * frequency / rate
    alpha = math.sin(w0) / (2 * q)
    b = [1 + alpha * amplitude, -2 * math.cos(w0), 1 - alpha * amplitude]
    a = [1 + alpha / amplitude, -2 * math.cos(w0), 1 - alpha / amplitude]
    return np.array(b) / a[0], np.array(a) / a[0]


def channel(waveform, rate, rng):
    """A telephone band-pass (300-3,400 Hz), a random three-band equalizer, or nothing."""
    from scipy.signal import butter, lfilter, sosfilt

    draw = rng.random()
    if draw < TELEPHONE_PROBABILITY and rate > 6800:
        out = sosfilt(butter(4, (300, 3400), btype="bandpass", fs=rate, output="sos"), waveform)
    elif draw < TELEPHONE_PROBABILITY + EQUALIZER_PROBABILITY:
        out = waveform.astype(np.float64)
        for _ in range(3):
            frequency = math.exp(rng.uniform(math.log(100), math.log(min(6000, 0.45 * rate))))
            out = lfilter(*_peaking(frequency, rng.uniform(-EQUALIZER_DB, EQUALIZER_DB), rng.uniform(0.7, 2.0), rate), out)
    else:
        return waveform
    return (out * (np.abs(waveform).max() / max(np.abs(out).max(), 1e-9))).astype(np.float32)


def coloured_noise(length, beta, rng):
    """Gaussian noise whose power spectrum falls as 1 / f^beta (0 white, 1 pink, 2 brown, -1 blue), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = f[1] if len(f) > 1 else 1.0
    noise = np.fft.irfft(spectrum / f ** (beta / 2), n=length)
    return (noise / max(np.sqrt(np.mean(noise**2)), 1e-12)).astype(np.float32)


def babble(length, others, rng):
    """Three to six other utterances, each at a random offset and gain, summed: a crowd behind the speaker."""
    out = np.zeros(length, np.float32)
    for i in rng.choice(len(others), size=min(int(rng.integers(3, 7)), len(others)), replace=False):
        other = others[i]
        start = int(rng.integers(-len(other) // 2, max(length - len(other) // 2, 1)))
        piece = other[max(0, -start) : max(0, -start) + length - max(start, 0)]
        out[max(start, 0) : max(start, 0) + len(piece)] += piece * np.float32(rng.uniform(0.5, 1.0))
    return out / max(np.sqrt(np.mean(out**2)), 1e-9)


def speech_power(waveform):
    """Mean power of the samples above a tenth of the peak (the speech, not the pauses)."""
    loud = waveform[np.abs(waveform) > 0.1 * np.abs(waveform).max()] if waveform.size else waveform
    return float(np.mean(loud**2)) if loud.size else 1e-4


def add_noise(waveform, noise, snr_db):
    """`waveform` plus `noise` (unit RMS) scaled to `snr_db` over the speech's power, clipped to [-1, 1]."""
    scale = math.sqrt(speech_power(waveform) / 10 ** (snr_db / 10))
    return np.clip(waveform + noise * np.float32(scale), -1, 1)


def augment_waveforms(clean, word_starts, snr_db, config, rng):
    """The training split's utterances, each through the waveform augmentations the config switches on.

    Args:
        clean: list of float32 waveforms at config["sample_rate"], before any noise.
        word_starts: the sample where each word starts, per utterance (speed perturbation moves them).
        snr_db: per utterance SNR of its noise.
        config: a recognizer config (AUGMENT_DEFAULTS keys, sample_rate).
        rng: numpy Generator.

    Returns:
        (noisy waveforms, word starts): speed -> reverb -> noise (white, or with "mixed" a colour or
        babble of other clean utterances) -> channel, since room noise goes through the microphone too.
    """
    rate = config["sample_rate"]
    out, starts_out = [], []
    colours = list(NOISE_COLOURS.values())
    for i, (waveform, starts, snr) in enumerate(zip(clean, word_starts, snr_db)):
        factor = float(rng.choice(SPEEDS)) if config["speed_perturb"] else 1.0
        waveform = speed(waveform, factor)
        starts = np.round(np.asarray(starts) / factor).astype(np.int64)
        if config["reverb"] and rng.random() < REVERB_PROBABILITY:
            waveform = reverberate(waveform, rate, rng)
        if config["noise"] == "mixed" and rng.random() < BABBLE_PROBABILITY:
            others = [clean[j] for j in rng.choice(len(clean), size=min(8, len(clean)), replace=False) if j != i]
            noise = babble(len(waveform), others or [waveform], rng)
            snr = snr + BABBLE_SNR_OFFSET_DB
        else:
            beta = float(rng.choice(colours)) if config["noise"] == "mixed" else 0.0
            noise = coloured_noise(len(waveform), beta, rng)
        waveform = add_noise(waveform, noise, snr)
        if config["channel"]:
            waveform = channel(waveform, rate, rng)
        out.append(waveform)
        starts_out.append(starts)
    return out, starts_out


def vtlp_factors(count, rng):
    """One VTLP warp factor per utterance, uniform in VTLP_RANGE."""
    return rng.uniform(*VTLP_RANGE, size=count)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SpecAugment(keras.layers.Layer):
    """SpecAugment's masks (Park et al. 2019) on (batch, time, bands) features, only while training.

    Each utterance of a batch gets `freq_masks` bands of up to `freq_width` bands and `time_masks`
    spans of up to `time_width` frames set to 0 (the mean of normalized features), drawn afresh
    every batch; at inference the features pass through unchanged. No time warping.
    """

    def __init__(self, freq_masks=2, freq_width=5, time_masks=2, time_width=5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.freq_masks, self.freq_width = int(freq_masks), int(freq_width)
        self.time_masks, self.time_width = int(time_masks), int(time_width)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _masked(self, size, count, width, batch):
        """(batch, size) 1 where any of `count` random spans of up to `width` covers the position."""
        positions = keras.ops.arange(size, dtype="float32")[None, :]  # (1, size)
        keep = keras.ops.ones((batch, 1), dtype="float32") * keras.ops.ones_like(positions)
        size = keras.ops.cast(size, "float32")
        for _ in range(count):
            span = keras.ops.floor(keras.random.uniform((batch, 1), 0, width + 1, seed=self.seed_generator))
            start = keras.ops.floor(keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator) * keras.ops.maximum(size - span, 1.0))
            inside = keras.ops.logical_and(positions >= start, positions < start + span)
            keep = keep * (1.0 - keras.ops.cast(inside, "float32"))
        return keep

    def call(self, features, training=None):
        if not training:
            return features
        shape = keras.ops.shape(features)
        batch, frames, bands = shape[0], shape[1], shape[2]
        keep_bands = self._masked(bands, self.freq_masks, self.freq_width, batch)  # (batch, bands)
        keep_frames = self._masked(frames, self.time_masks, self.time_width, batch)  # (batch, frames)
        return features * keep_frames[:, :, None] * keep_bands[:, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "freq_masks": self.freq_masks,
            "freq_width": self.freq_width,
            "time_masks": self.time_masks,
            "time_width": self.time_width,
            "seed": self.seed,
        }
