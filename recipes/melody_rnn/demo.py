"""Score the melody LSTM in nats per 16th-note step against n-gram baselines; compose melodies
and write them as MIDI, as audio from a tiny synthesizer, and as a piano roll."""

import struct
from pathlib import Path

import numpy as np

from recipes.common import style
from recipes.common.sampling import Sampler
from recipes.common.speech import write_wav
from recipes.melody_rnn.data import MAX_PITCH, MIN_PITCH, NOTE_NAMES, NUM_EVENTS, STEPS_PER_QUARTER, TUNE_BOUNDARY, events_to_notes, stream

METRICS = (  # what evaluate returns
    "nll_per_step",
    "uniform_nll_per_step",
    "unigram_nll_per_step",
    "bigram_nll_per_step",
    "cross_nll_per_step",
    "cross_unigram_nll_per_step",
    "cross_bigram_nll_per_step",
)
SAMPLE_RATE = 16_000  # Hz, the synthesizer's WAV
TICKS_PER_QUARTER = 480  # MIDI time resolution


# ---------------------------------------------------------------------------------------------
# Baselines


def ngram_nll(train_stream, x, y, order, num_events=NUM_EVENTS):
    """Mean negative log-likelihood (nats) of the targets y under an add-one smoothed n-gram.

    Args:
        train_stream: int (n,) events the model is fitted on.
        x, y: int arrays of equal shape: the previous event and the target at every position.
        order: 1 (unigram: p(y)) or 2 (bigram: p(y | previous event x)).
        num_events: vocabulary size.

    Returns:
        float: -mean log p over every position.
    """
    train_stream = np.asarray(train_stream)
    x, y = np.asarray(x).reshape(-1), np.asarray(y).reshape(-1)
    if order == 1:
        counts = np.bincount(train_stream, minlength=num_events) + 1.0
        return float(-np.log(counts / counts.sum())[y].mean())
    counts = np.ones((num_events, num_events))  # add-one: every transition seen once more
    np.add.at(counts, (train_stream[:-1], train_stream[1:]), 1.0)
    probabilities = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.log(probabilities[x, y]).mean())


def evaluate(model, data, config):
    """NLL per step on the test tunes and on the unseen collection, with uniform, unigram and
    bigram baselines fitted on the training tunes' event stream and scored on the same
    positions (every window of the LSTM starts from a zero state; the bigram sees the previous
    event even at a window's first step)."""
    train_stream = stream(data["tunes"]["train"])
    metrics = {"uniform_nll_per_step": float(np.log(NUM_EVENTS))}
    for prefix, split in (("", "test"), ("cross_", "cross")):
        x, y = data[split]
        # Keras weights each batch's mean by its size: a true per-step mean.
        loss = model.evaluate(x, y, batch_size=config["batch_size"], verbose=0, return_dict=True)["loss"]
        metrics[f"{prefix}nll_per_step"] = float(loss)
        metrics[f"{prefix}unigram_nll_per_step"] = ngram_nll(train_stream, x, y, order=1)
        metrics[f"{prefix}bigram_nll_per_step"] = ngram_nll(train_stream, x, y, order=2)
    return metrics


# ---------------------------------------------------------------------------------------------
# MIDI (Standard MIDI File, format 0, written by hand)


def _variable_length(value):
    """A MIDI variable-length quantity: 7 bits a byte, high bit set on all but the last."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(notes, tempo_bpm, velocity=80):
    """Notes -> the bytes of a one-track Standard MIDI File (format 0).

    Args:
        notes: (onset_step, duration_steps, midi_pitch), steps of a 16th note, monophonic.
        tempo_bpm: quarter notes per minute.
        velocity: note-on velocity 1..127.

    Returns:
        bytes: header chunk + track chunk (tempo, piano program, notes, end of track).
    """
    ticks_per_step = TICKS_PER_QUARTER // STEPS_PER_QUARTER
    timed = []  # (tick, order, event bytes); note-offs sort before note-ons at the same tick
    for onset, duration, pitch in notes:
        timed.append((onset * ticks_per_step, 1, bytes([0x90, pitch, velocity])))
        timed.append(((onset + duration) * ticks_per_step, 0, bytes([0x80, pitch, 0])))
    track = b"\x00\xff\x51\x03" + (60_000_000 // tempo_bpm).to_bytes(3, "big")  # microseconds per quarter
    track += b"\x00\xc0\x00"  # program 0: acoustic grand piano
    now = 0
    for tick, _, event in sorted(timed):
        track += _variable_length(tick - now) + event
        now = tick
    track += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def write_midi(path, notes, tempo_bpm):
    """Write `notes` (see midi_bytes) as a .mid file; returns the Path."""
    path = Path(path)
    path.write_bytes(midi_bytes(notes, tempo_bpm))
    return path


# ---------------------------------------------------------------------------------------------
# A tiny additive synthesizer

HARMONICS = (1.0, 0.5, 0.3, 0.15, 0.08)  # amplitude of partials 1..5: a soft, reedy tone
ATTACK, DECAY, SUSTAIN, RELEASE = 0.01, 0.08, 0.6, 0.08  # ADSR: seconds, level, seconds


def synthesize(notes, tempo_bpm, sample_rate=SAMPLE_RATE, total_steps=None):
    """Render notes as a mono waveform: per note, a sum of harmonics under an ADSR envelope.

    Args:
        notes: (onset_step, duration_steps, midi_pitch), steps of a 16th note.
        tempo_bpm: quarter notes per minute.
        sample_rate: Hz.
        total_steps: the melody's length in steps; default the end of its last note.

    Returns:
        float32 (round(total_steps * step_seconds * sample_rate) + release samples,) in [-1, 1],
        peak 0.8 (silence stays zero).
    """
    step_seconds = 60.0 / tempo_bpm / STEPS_PER_QUARTER
    if total_steps is None:
        total_steps = max((onset + duration for onset, duration, _ in notes), default=0)
    waveform = np.zeros(int(round(total_steps * step_seconds * sample_rate)) + int(RELEASE * sample_rate))
    for onset, duration, pitch in notes:
        start = int(round(onset * step_seconds * sample_rate))
        held = duration * step_seconds  # seconds the key is down
        t = np.arange(int(round((held + RELEASE) * sample_rate))) / sample_rate
        t = t[: len(waveform) - start]
        frequency = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(a * np.sin(2 * np.pi * k * frequency * t) for k, a in enumerate(HARMONICS, start=1))
        # Attack to 1, decay to SUSTAIN, hold, then release to 0 after the key is let go.
        envelope = np.interp(t, [0, ATTACK, ATTACK + DECAY], [0, 1, SUSTAIN])
        level_at_release = np.interp(held, [0, ATTACK, ATTACK + DECAY], [0, 1, SUSTAIN])
        released = t >= held
        envelope[released] = level_at_release * np.clip(1 - (t[released] - held) / RELEASE, 0, 1)
        waveform[start : start + len(t)] += envelope * tone
    peak = np.abs(waveform).max()
    return (0.8 * waveform / peak if peak > 0 else waveform).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Piano roll


def pitch_name(pitch):
    """MIDI number -> 'C4' (middle C = 60)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def plot_piano_roll(rolls, path, title):
    """Piano rolls stacked: rolls = [(label, notes, total_steps)], pitch names on the y axes."""
    pitches = [p for _, notes, _ in rolls for _, _, p in notes] or [60]
    low, high = max(MIN_PITCH, min(pitches) - 2), min(MAX_PITCH - 1, max(pitches) + 2)
    width = max(1, *(total for _, _, total in rolls))  # a melody can end at once (a sampled boundary)
    fig, axes = style.subplots(len(rolls), 1, figsize=(10, 3.1 * len(rolls) + 0.6), sharex=True, squeeze=False)
    for ax, (label, notes, _), color in zip(axes[:, 0], rolls, style.SERIES):
        for onset, duration, pitch in notes:
            ax.broken_barh([(onset, duration)], (pitch - 0.4, 0.8), facecolors=color, edgecolors="white", linewidth=0.8)
        ax.set_ylim(low - 0.6, high + 0.6)
        # A name on every white key (the melodies are in C major / A minor); a line per semitone.
        ticks = [p for p in range(low, high + 1) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks], fontsize=7)
        ax.set_yticks(range(low, high + 1), minor=True)
        ax.grid(axis="y", which="minor", alpha=0.12)
        ax.set_xticks(range(0, width + 1, 4 * STEPS_PER_QUARTER))
        ax.set_xticks(range(0, width + 1, STEPS_PER_QUARTER), minor=True)
        ax.grid(axis="x", which="major", alpha=0.6)
        ax.grid(axis="x", which="minor", alpha=0.15)
        ax.set_title(label, loc="left", fontsize=10)
        ax.set_ylabel("pitch")
    axes[-1, 0].set_xlim(0, width)
    axes[-1, 0].set_xlabel(f"16th-note step (a bar of 4/4 = {4 * STEPS_PER_QUARTER} steps)")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return style.save(fig, path)


# ---------------------------------------------------------------------------------------------
# Demo


def sample_melodies(model, config):
    """num_samples melodies of up to sample_steps events from a tune boundary, each cut at the
    first boundary it samples (the end of its tune); a list of event arrays."""
    temperatures = [float(config["temperature"])] * config["num_samples"]
    events = Sampler(model).sample([TUNE_BOUNDARY], temperatures, length=config["sample_steps"], seed=config["seed"])
    melodies = []
    for row in events:
        ends = np.flatnonzero(row == TUNE_BOUNDARY)
        melodies.append(row[: ends[0]] if len(ends) else row)
    return melodies


def demo(model, data, config, out_dir):
    """melody.mid and melody.wav (the first sampled melody), samples.txt (every sample's notes),
    piano_roll.png (two samples above the opening of a real test tune)."""
    out_dir = Path(out_dir)
    tempo = config["tempo_bpm"]
    melodies = sample_melodies(model, config)
    notes = [events_to_notes(m) for m in melodies]
    midi = write_midi(out_dir / "melody.mid", notes[0], tempo)
    wav = write_wav(out_dir / "melody.wav", synthesize(notes[0], tempo, total_steps=len(melodies[0])), SAMPLE_RATE)

    lines = [
        f"# {len(melodies)} melodies sampled at temperature {config['temperature']:g} from a tune boundary; notes as pitch:duration in 16th notes"
    ]
    for number, sample in enumerate(notes, start=1):
        lines.append(f"sample {number}: " + " ".join(f"{pitch_name(p)}:{d}" for _, d, p in sample))
    text = out_dir / "samples.txt"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # The real tune: the first test tune, cut to the samples' length.
    steps = config["sample_steps"]
    real = data["tunes"]["test"][0][:steps]
    real_notes = [(o, min(d, steps - o), p) for o, d, p in events_to_notes(real)]
    rolls = [(f"sampled melody {i + 1} ({len(melodies[i])} steps)", notes[i], len(melodies[i])) for i in range(min(2, len(notes)))]
    rolls.append((f"real test tune: '{data['titles']['test'][0]}' (first {len(real)} steps, transposed to C)", real_notes, len(real)))
    title = f"melody_rnn: sampled at temperature {config['temperature']:g} vs a held-out Essen tune"
    figure = plot_piano_roll(rolls, out_dir / "piano_roll.png", title)
    return [str(midi), str(wav), str(text), figure]
