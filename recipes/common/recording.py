"""What a phone or a laptop records, made fit for a recognizer trained on synthesized speech.

A recording made by a person differs from the training data (recipes.common.speech) in
ways that have nothing to do with what was said: seconds of room noise before and after
the words, a DC offset or low-frequency rumble from a cheap microphone, clipping when the
gain is too high, any sample rate from 8 kHz (a phone call) to 48 kHz, two channels. And
sometimes there are no words at all: the microphone was muted, or it recorded a fan.

  clean(waveform, rate) -> (waveform, notes): DC and rumble removed (mean, then a 2nd-order
      Butterworth high-pass at HIGH_PASS_HZ run forwards and backwards, so no phase shift),
      leading and trailing silence trimmed down to TRIM_MARGIN seconds, peak scaled to
      PEAK_LEVEL, a noise floor topped up to NOISE_FLOOR_DBFS; notes say what the user should
      change (clipping).
  speech_present(waveform, rate) -> (bool, reason): whether there is speech at all.
  check_rate(rate, path): RATE_MIN..RATE_MAX Hz, else a one-line AudioError.

How speech_present decides, on 25 ms frames every 10 ms of the 300-3400 Hz band (the
telephone band, present at every accepted rate, above mains hum), against the file's own
noise floor (a low percentile of its 50 ms stretches, ignoring digital silence), so the
recording level does not matter:
  1. loud enough: a peak under SILENT_DBFS is "silent";
  2. energy contrast: speech alternates syllables and pauses, so its loudest 50 ms stand
     MIN_CONTRAST_DB or more above the floor, while steady noise, hum and a held tone stay
     within about 3 dB;
  3. duration: a syllable lasts longer than a click, so some run of active frames must
     last MIN_RUN_SECONDS;
  4. harmonicity, over the loud frames: a voice spreads its power over many harmonics
     (tonality, the share near the strongest frequency, at most MAX_TONALITY; a tone or
     beep has nearly all of it there) and is periodic at a pitch lag (voicing, the
     normalized autocorrelation at the best lag for 70-400 Hz, at least MIN_VOICING;
     bursts of noise have little).
The thresholds were set on generated cases (espeak-ng digit strings of unseen voices with
10 dB SNR white noise at 8-48 kHz, clipped, with DC, quiet, stereo, with 2 s of silence or
noise around them, against silence, hiss, white/pink/brown noise, hum, tones, tone, beep
and noise bursts, and clicks); tests/test_recording.py checks each kind.

numpy/scipy only, no model: cheap enough to run on every file before a model loads.
"""

import math

import numpy as np

from recipes.common.speech import AudioError

RATE_MIN, RATE_MAX = 8000, 48000  # Hz accepted: telephone to studio
HIGH_PASS_HZ = 60.0  # -3 dB here: DC drift and rumble go, voices (fundamentals from ~70 Hz) stay
PEAK_LEVEL = 0.7  # peak after cleaning; training utterances peak at 0.3-0.9 before noise
# Noise floor a cleaned file gets at least (white noise, about 22 dB below the speech): every
# training utterance has noise at 10-30 dB SNR, and digital silence, which the recognizers never
# heard, derails them (five espeak-ng digit strings after 2 s of digital silence, trimmed: 13 and
# 27 character errors for today's deepspeech2_ctc and wav2letter without it, 0 and 5 with it).
NOISE_FLOOR_DBFS = -40.0
TRIM_MARGIN = 0.2  # seconds kept before the first and after the last active frame
CLIP_LEVEL = 0.999  # |x| at or above this is clipped whatever the file's own maximum
CLIP_RUN = 3  # or this many consecutive samples at the file's extreme value
CLIP_NOTE_FRACTION = 0.001  # a note once this share of samples is clipped

FRAME_SECONDS, HOP_SECONDS = 0.025, 0.010
BAND_HZ = (300.0, 3400.0)  # where speech_present looks for speech
PITCH_HZ = (70.0, 400.0)  # voice fundamentals the voicing measure looks for
SILENT_DBFS = -60.0  # a peak below this is "silent"
MIN_CONTRAST_DB = 4.0  # steady white/pink/brown noise and hum measure under 3.3 dB
FLOOR_PERCENTILE = 10
FLOOR_RANGE_DB = 150.0  # frames further below the loud level are digital silence (exact zeros), left out of the floor
ACTIVE_DB = 6.0  # a frame is active this far above the noise floor
CORE_DB = 12.0  # loud frames are within this of the loud level (and above the floor-to-loud midpoint)
MIN_RUN_SECONDS = 0.07  # clicks measured 0.03 s or less; the shortest runs in speech, 0.07 s (8 kHz, 10 dB SNR)
MAX_TONALITY = 0.92  # tones and beeps measure 0.99 or more, voices 0.2-0.85 (espeak-ng's quincy is highest)
MIN_VOICING = 0.4  # noise bursts measure about 0.3, voices 0.6 or more


def check_rate(rate, path="the recording"):
    """Raise AudioError unless `rate` is within RATE_MIN..RATE_MAX Hz; the message names the fix."""
    if not RATE_MIN <= rate <= RATE_MAX:
        raise AudioError(
            f"{path} is sampled at {rate:,} Hz; a recognizer takes {RATE_MIN:,} to {RATE_MAX:,} Hz: "
            f"resample to 16 kHz, e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 out.wav`"
        )


def _mono(waveform):
    """float64 samples, (samples, channels) arrays mixed down to mono."""
    x = np.asarray(waveform, dtype=np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x.reshape(-1)


def _remove_dc(x, rate):
    """Mean removed, then a zero-phase 2nd-order Butterworth high-pass at HIGH_PASS_HZ."""
    from scipy.signal import butter, sosfiltfilt

    x = x - x.mean()
    sos = butter(2, HIGH_PASS_HZ, btype="highpass", fs=rate, output="sos")
    # sosfiltfilt pads by reflection; a file shorter than its padding is left as is.
    return sosfiltfilt(sos, x) if len(x) > 3 * (2 * len(sos) + 1) else x


def clipped_fraction(waveform):
    """Share of samples that are clipped: |x| >= CLIP_LEVEL, or in a run of CLIP_RUN or more
    consecutive samples at the file's largest or smallest value (clipping before the gain
    stage leaves flat tops below full scale)."""
    x = _mono(waveform)
    if not x.size or not np.any(x):
        return 0.0
    clipped = np.abs(x) >= CLIP_LEVEL
    for extreme in (x.max(), x.min()):
        if extreme == 0:
            continue
        at = np.concatenate([[False], x == extreme, [False]])
        edges = np.flatnonzero(np.diff(at.astype(np.int8)))  # run starts, run ends alternate
        for start, end in zip(edges[::2], edges[1::2]):
            if end - start >= CLIP_RUN:
                clipped[start:end] = True
    return float(clipped.mean())


def _frame_spectra(x, rate):
    """Power, tonality and voicing of 25 ms Hann frames every 10 ms, within BAND_HZ.

    Returns:
        (power in the band (frames,); power above HIGH_PASS_HZ (frames,), which sees the
        hiss of "s" and "f" that the band misses; tonality (frames,): the share of
        a frame's band power within a Hann main lobe of its strongest frequency, near 1 for
        a tone, well below for a voice, whose power is spread over many harmonics; voicing
        (frames,): the normalized autocorrelation of the band at its best pitch lag (PITCH_HZ),
        near 1 for a periodic sound such as a vowel, near 0 for noise).
    """
    frame = max(int(round(FRAME_SECONDS * rate)), 16)
    hop = max(int(round(HOP_SECONDS * rate)), 1)
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    count = 1 + (len(x) - frame) // hop
    x = np.ascontiguousarray(x)
    frames = np.lib.stride_tricks.as_strided(x, shape=(count, frame), strides=(x.strides[0] * hop, x.strides[0]))
    window = np.hanning(frame)
    fft_length = 2 ** math.ceil(math.log2(2 * frame))  # twice the frame: the autocorrelation below is not circular
    power = np.abs(np.fft.rfft(frames * window, n=fft_length)) ** 2 / fft_length  # (frames, bins)
    freqs = np.fft.rfftfreq(fft_length, 1 / rate)
    high = min(BAND_HZ[1], 0.95 * rate / 2)
    in_band = (freqs >= BAND_HZ[0]) & (freqs < high)
    # Voicing: the band-limited autocorrelation's highest peak at a pitch lag, over the window's own
    # autocorrelation (which would otherwise pull long lags down), as a share of the lag-0 value.
    autocorrelation = np.fft.irfft(power * in_band, n=fft_length)[:, :frame]
    window_autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(window, n=fft_length)) ** 2, n=fft_length)[:frame]
    lags = np.arange(int(rate / PITCH_HZ[1]), min(int(rate / PITCH_HZ[0]), frame // 2) + 1)
    normalized = autocorrelation[:, lags] / np.maximum(autocorrelation[:, :1], 1e-30) / (window_autocorrelation[lags] / window_autocorrelation[0])
    voicing = np.clip(normalized.max(axis=1), 0.0, 1.0)
    band_power, band_freqs = power[:, in_band], freqs[in_band]
    energy = power[:, in_band].sum(axis=1)
    full_energy = power[:, freqs >= HIGH_PASS_HZ].sum(axis=1)
    strongest = band_freqs[band_power.argmax(axis=1)]
    near = np.abs(band_freqs[None, :] - strongest[:, None]) <= 2 * rate / frame  # a Hann window's main lobe
    tonality = (band_power * near).sum(axis=1) / np.maximum(energy, 1e-30)
    return energy, full_energy, tonality, voicing


def _db(power, floor=1e-30):
    return 10 * np.log10(np.maximum(power, floor))


def _smooth(values, width):
    """Moving average over `width` frames ("valid": len(values) - width + 1 of them)."""
    return np.convolve(values, np.ones(width) / width, mode="valid") if len(values) >= width else values


def _levels(energy):
    """(frame energy dB, noise floor dB, loud level dB) of in-band frame powers.

    The loud level is the loudest 50 ms, the floor the FLOOR_PERCENTILE percentile of 50 ms
    stretches within FLOOR_RANGE_DB of it, so digital silence (exact zeros) around a noisy
    recording does not drag the floor down.
    """
    energy_db = _db(energy)
    loud = float(_db(_smooth(energy, 5)).max())
    # Frames of (near) digital silence are left out before smoothing, not averaged into the floor.
    audible = energy[energy_db > loud - FLOOR_RANGE_DB]
    floor = float(np.percentile(_db(_smooth(audible, 5)), FLOOR_PERCENTILE)) if audible.size else loud - FLOOR_RANGE_DB
    return energy_db, floor, loud


def _runs(mask):
    """[(start, end)] of the runs of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def measure(waveform, rate):
    """The quantities speech_present thresholds, for a mono or (samples, channels) waveform.

    Returns:
        {"peak_dbfs", "contrast_db" (loud level over noise floor, in the band), "longest_run_s"
        (of active frames: ACTIVE_DB, or half the contrast, above the floor), "tonality" and
        "voicing" (medians over the loud frames: within CORE_DB of the loud level and above
        the midpoint of floor and loud level)}. After a silent peak the others are None.
    """
    x = _mono(waveform)
    peak = float(np.abs(x).max()) if x.size else 0.0
    stats = {"peak_dbfs": _db(peak**2, 1e-20).item(), **dict.fromkeys(("contrast_db", "longest_run_s", "tonality", "voicing"))}
    if stats["peak_dbfs"] < SILENT_DBFS:
        return stats
    energy, _, tonality, voicing = _frame_spectra(_remove_dc(x, rate), rate)
    energy_db, floor, loud = _levels(energy)
    stats["contrast_db"] = loud - floor
    active = energy_db > floor + min(ACTIVE_DB, stats["contrast_db"] / 2)
    stats["longest_run_s"] = float(max((end - start for start, end in _runs(active)), default=0) * HOP_SECONDS)
    core = energy_db > max((loud + floor) / 2, loud - CORE_DB)  # the loud frames: vowels, in speech
    stats["tonality"] = float(np.median(tonality[core])) if core.any() else 1.0
    stats["voicing"] = float(np.median(voicing[core])) if core.any() else 0.0
    return stats


def speech_present(waveform, rate):
    """Whether a recording holds speech at all, whatever its level.

    Args:
        waveform: float samples, mono or (samples, channels).
        rate: sample rate in Hz.

    Returns:
        (True, "speech") or (False, a short reason such as "silent (peak -78 dBFS)" or
        "steady noise or tone, no speech-like energy changes").
    """
    stats = measure(waveform, rate)
    if stats["peak_dbfs"] < SILENT_DBFS:
        peak = "digital silence" if stats["peak_dbfs"] <= -199 else f"peak {stats['peak_dbfs']:.0f} dBFS"
        return False, f"silent ({peak})"
    if stats["contrast_db"] < MIN_CONTRAST_DB:
        return False, "steady noise or tone, no speech-like energy changes"
    if stats["longest_run_s"] < MIN_RUN_SECONDS:
        return False, "only clicks or short bursts, nothing as long as a syllable"
    if stats["tonality"] > MAX_TONALITY:
        return False, "tones or beeps, not the many harmonics of a voice"
    if stats["voicing"] < MIN_VOICING:
        return False, "noise that starts and stops, nothing voiced"
    return True, "speech"


def speech_bounds(waveform, rate):
    """(start, end) sample indices that keep every active frame plus TRIM_MARGIN on each side.

    Active frames are found with hysteresis: a frame halfway between the noise floor and
    the loud level starts a region, which extends outwards over frames 3 dB or more above
    the floor (weak onsets such as "f" and "th"), so trimming never cuts into speech.
    """
    x = _remove_dc(_mono(waveform), rate)
    _, energy, _, _ = _frame_spectra(x, rate)  # the whole spectrum, so fricatives count
    energy_db, floor, loud = _levels(energy)
    strong = np.flatnonzero(energy_db > floor + max(ACTIVE_DB, (loud - floor) / 2))
    if loud - floor < ACTIVE_DB or not strong.size:
        # Nothing stands out from the floor: keep all but digital silence at the ends.
        audible = np.flatnonzero(energy_db > loud - FLOOR_RANGE_DB)
        first, last = (audible[0], audible[-1]) if audible.size else (0, len(energy_db) - 1)
    else:
        weak = energy_db > floor + 3.0
        first, last = strong[0], strong[-1]
        while first > 0 and weak[first - 1]:
            first -= 1
        while last < len(energy_db) - 1 and weak[last + 1]:
            last += 1
    hop = HOP_SECONDS * rate
    start = int(first * hop - TRIM_MARGIN * rate)
    end = int(last * hop + FRAME_SECONDS * rate + TRIM_MARGIN * rate)
    return max(start, 0), min(end, len(x))


def clean(waveform, rate):
    """A recording made ready for a recognizer, and what the user should know about it.

    DC offset and rumble removed (mean, then a zero-phase high-pass at HIGH_PASS_HZ),
    leading and trailing silence or noise trimmed to TRIM_MARGIN s around the speech (see
    speech_bounds), peak scaled to PEAK_LEVEL, white noise added where the file's own noise
    floor is below NOISE_FLOOR_DBFS (the recognizers were trained on noisy speech only).
    Clipping cannot be undone: it is reported.

    Args:
        waveform: float samples in [-1, 1], mono or (samples, channels) (mixed to mono).
        rate: sample rate in Hz.

    Returns:
        (float32 mono waveform at `rate`, [notes]): notes are one-line strings for the
        user, e.g. "12% of samples are clipped: record further from the microphone or at lower gain".
    """
    x = _mono(waveform)
    notes = []
    clipped = clipped_fraction(x)
    if clipped >= CLIP_NOTE_FRACTION:
        share = f"{clipped:.0%}" if clipped >= 0.01 else f"{clipped:.1%}"
        notes.append(f"{share} of samples are clipped: record further from the microphone or at lower gain")
    start, end = speech_bounds(x, rate)
    x = _remove_dc(x, rate)[start:end]
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 0:
        x = x * (PEAK_LEVEL / peak)
    # Top the file's own floor (its quietest 25 ms) up to NOISE_FLOOR_DBFS; seeded: same file, same output.
    frame = int(FRAME_SECONDS * rate)
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    own = float(np.mean(frames**2, axis=1).min()) if len(frames) else 0.0
    missing = 10 ** (NOISE_FLOOR_DBFS / 10) - own
    if missing > 0:
        x = x + np.sqrt(missing) * np.random.default_rng(len(x)).standard_normal(len(x))
    return x.astype(np.float32), notes
