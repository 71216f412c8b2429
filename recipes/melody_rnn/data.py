"""Essen folk songs as one-hot melody events at 16th-note steps, split by tune, cached on disk.

Source: the Essen Folksong Collection in music21's bundled corpus (ABC files by Seymour
Shlien, corpus/essenFolksong/). The European songs (German, Lorraine, Luxembourg, Irish ...)
are the training collection; the Chinese (Han) songs of han1.abc and han2.abc are a second,
never-trained-on collection, a test of what "unseen" means beyond held-out tunes.

Events (Magenta's MelodyOneHotEncoding plus a tune boundary), one per 16th-note step:
    0 tune boundary (before every tune; the demo primes with it)
    1 no event (the note or rest of the previous step goes on)
    2 note off (a rest starts)
    3 + p - 48 note on of MIDI pitch p, 48 <= p < 84 (C3 .. B5, Magenta's basic_rnn range)
A new note-on ends the previous note, so a melody is monophonic by construction.

Reading: music21's ABC tokenizer only (abcFormat.ABCHandler, ~2.5 ms a tune), not its full
score translation (~55 ms a tune), with the same pitches (key signature applied, no
carrying of an accidental to later notes of a bar, as music21 reads ABC), durations
(broken rhythms, ties) and tuplets. Every tune is transposed by its key signature's major
tonic to C (so minor tunes, written with their relative major's signature, land in A minor),
by -6 .. +5 semitones, then by octaves into the pitch range; tunes that do not fit are left
out. Each ABC file's event sequences are cached under .cache/melody/ (or
$RNN_RECIPES_CACHE/melody), keyed by file, file contents, music21 version, settings and
EVENTS_VERSION; the cold cache costs ~2.5 ms a tune.
"""

import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from recipes.common.config import at_most, config_error

EVENTS_VERSION = 1  # bump when the event encoding changes, so old caches are not reused
STEPS_PER_QUARTER = 4  # 16th-note steps
MIN_PITCH, MAX_PITCH = 48, 84  # note-on range [MIN_PITCH, MAX_PITCH), Magenta's basic_rnn
TUNE_BOUNDARY, NO_EVENT, NOTE_OFF, FIRST_PITCH_EVENT = 0, 1, 2, 3
NUM_EVENTS = FIRST_PITCH_EVENT + MAX_PITCH - MIN_PITCH  # 39 classes

# The training collection, in a fixed order (max_tunes takes a prefix of it); test*.abc
# (music21's own test files) left out.
TRAIN_FILES = (
    "erk10.abc", "erk20.abc", "erk30.abc", "erk5.abc", "boehme10.abc", "boehme20.abc", "fink0.abc",
    "kinder0.abc", "zuccal0.abc", "altdeu10.abc", "altdeu20.abc", "ballad10.abc", "ballad20.abc",
    "ballad30.abc", "ballad40.abc", "ballad50.abc", "ballad60.abc", "ballad70.abc", "ballad80.abc",
    "dva0.abc", "variant0.abc", "folkHaydn.abc", "lot.abc", "lux.abc", "irl.abc",
)  # fmt: skip
CROSS_FILES = ("han1.abc", "han2.abc")  # Chinese folk songs: the unseen collection
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def event_names():
    """The name of every event id: "boundary", "hold", "off", then "C3" .. "B5"."""
    pitches = [f"{NOTE_NAMES[p % 12]}{p // 12 - 1}" for p in range(MIN_PITCH, MAX_PITCH)]
    return ("boundary", "hold", "off", *pitches)


def pitch_event(pitch):
    """The note-on event id of MIDI pitch `pitch` (MIN_PITCH <= pitch < MAX_PITCH)."""
    return FIRST_PITCH_EVENT + int(pitch) - MIN_PITCH


# ---------------------------------------------------------------------------------------------
# Notes <-> events


def notes_to_events(notes, total_steps=None):
    """Monophonic notes -> one event per 16th-note step.

    Args:
        notes: (onset_step, duration_steps, midi_pitch) ints, in time order, not overlapping.
        total_steps: length of the result; default: up to the end of the last note.

    Returns:
        int32 (total_steps,) events: the note-on pitch at a note's onset, NOTE_OFF where a
        rest starts (a note ends without another starting), NO_EVENT elsewhere.

    Raises:
        ValueError: a pitch outside [MIN_PITCH, MAX_PITCH), overlapping notes, or a note
            shorter than one step.
    """
    end = max((onset + duration for onset, duration, _ in notes), default=0)
    events = np.full(end if total_steps is None else total_steps, NO_EVENT, dtype=np.int32)
    previous_end = 0
    for onset, duration, pitch in notes:
        if not MIN_PITCH <= pitch < MAX_PITCH or duration < 1 or onset < previous_end:
            raise ValueError(
                f"Note (onset {onset}, duration {duration}, pitch {pitch}) overlaps the previous one, is shorter than a step or is outside MIDI pitches {MIN_PITCH}..{MAX_PITCH - 1}."
            )
        if 0 < previous_end < onset:
            events[previous_end] = NOTE_OFF  # a rest between two notes
        events[onset] = pitch_event(pitch)
        previous_end = onset + duration
    if 0 < previous_end < len(events):
        events[previous_end] = NOTE_OFF  # the last note ends before the sequence does
    return events


def events_to_notes(events):
    """Events -> (onset_step, duration_steps, midi_pitch) notes; the inverse of notes_to_events.

    A note lasts until the next note-on, note-off or tune boundary, or the end of `events`.
    """
    notes, onset, pitch = [], None, None
    for step, event in enumerate(np.asarray(events).tolist() + [TUNE_BOUNDARY]):
        if event == NO_EVENT:
            continue
        if pitch is not None:
            notes.append((onset, step - onset, pitch))
            pitch = None
        if event >= FIRST_PITCH_EVENT:
            onset, pitch = step, MIN_PITCH + event - FIRST_PITCH_EVENT
    return notes


def transposition(sharps):
    """Semitones (-6 .. +5) that move the major tonic of a key signature with `sharps` (< 0:
    flats) to C; minor tunes, which carry their relative major's signature, go to A minor."""
    tonic = (7 * sharps) % 12  # G (1 sharp) = 7, F (1 flat) = 5, ...
    return -tonic if tonic <= 6 else 12 - tonic


def fit_range(pitches):
    """Octave shift (a multiple of 12) that puts every pitch in [MIN_PITCH, MAX_PITCH),
    preferring the smallest move; None when the melody spans too much to fit."""
    low, high = min(pitches), max(pitches)
    for octaves in sorted(range(-4, 5), key=abs):
        if low + 12 * octaves >= MIN_PITCH and high + 12 * octaves < MAX_PITCH:
            return 12 * octaves
    return None


# ---------------------------------------------------------------------------------------------
# ABC (music21's tokenizer)


def _tuplet_ratio(source):
    """'(p' or '(p:q' -> q/p, the factor on the next p notes (ABC standard defaults for q)."""
    parts = source.lstrip("(").split(":")
    notes = int(parts[0])
    normal = int(parts[1]) if len(parts) > 1 and parts[1] else {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(notes, 2)
    return Fraction(normal, notes), int(parts[2]) if len(parts) > 2 and parts[2] else notes


def tune_notes(handler):
    """The notes of one tokenized tune and the sharps of its first key signature.

    Args:
        handler: a music21 abcFormat.ABCHandler holding one tune's processed tokens.

    Returns:
        (notes, sharps): notes as (onset, duration, midi) in quarter lengths (Fractions),
        rests dropped, tied notes merged, grace notes skipped.

    Raises:
        ValueError: a chord (the melody is not monophonic).
    """
    from music21 import abcFormat

    notes, time, sharps, in_grace, tuplet_left, ratio = [], Fraction(0), None, False, 0, Fraction(1)
    for token in handler.tokens:
        if isinstance(token, abcFormat.ABCMetadata):
            if token.isKey() and sharps is None:
                sharps = token.getKeySignatureParameters()[0]
        elif isinstance(token, abcFormat.ABCGraceStart):
            in_grace = True
        elif isinstance(token, abcFormat.ABCGraceStop):
            in_grace = False
        elif isinstance(token, abcFormat.ABCTuplet):
            ratio, tuplet_left = _tuplet_ratio(token.src)
        elif isinstance(token, abcFormat.ABCChord):
            raise ValueError(f"chord {token.src!r}: not a monophonic melody")
        elif isinstance(token, abcFormat.ABCNote) and not in_grace:
            length = Fraction(token.quarterLength).limit_denominator(96)
            if tuplet_left > 0:
                length, tuplet_left = length * ratio, tuplet_left - 1
            if not token.isRest:
                midi = _midi(token.pitchName)
                tied = token.tie in ("stop", "continue") and notes and notes[-1][2] == midi and notes[-1][0] + notes[-1][1] == time
                if tied:
                    notes[-1] = (notes[-1][0], notes[-1][1] + length, midi)
                else:
                    notes.append((time, length, midi))
            time += length
    return notes, (0 if sharps is None else sharps)


def stream_notes(score):
    """The notes of a monophonic music21 stream as (onset, duration, midi) in quarter lengths
    (Fractions), tied notes merged, rests and grace notes dropped: the reader for melodies
    that are music21 objects already (a user's own, or a test's)."""
    notes = []
    for note in score.flatten().notes:
        if note.duration.isGrace:
            continue
        if note.isChord:
            raise ValueError(f"chord {note.pitches} at offset {note.offset}: not a monophonic melody")
        onset, length = Fraction(note.offset).limit_denominator(96), Fraction(note.quarterLength).limit_denominator(96)
        if note.tie is not None and note.tie.type in ("stop", "continue") and notes and notes[-1][2] == note.pitch.midi:
            notes[-1] = (notes[-1][0], onset + length - notes[-1][0], note.pitch.midi)
        else:
            notes.append((onset, length, note.pitch.midi))
    return notes


def _midi(pitch_name):
    """'F#5', 'B-4', 'Fn5' -> MIDI number (C4 = 60)."""
    letter, rest = pitch_name[0], pitch_name[1:]
    octave = int(rest.lstrip("#-n~`"))
    accidental = rest[: len(rest) - len(str(octave))]
    shift = accidental.count("#") - accidental.count("-")
    return 12 * (octave + 1) + {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[letter] + shift


def quantize(notes, shift):
    """Quarter-length notes -> (onset_step, duration_steps, pitch + shift), onsets rounded to
    16th-note steps; a note whose onset rounds onto the previous one's replaces it."""
    stepped = []
    for onset, duration, pitch in notes:
        start = round(onset * STEPS_PER_QUARTER)
        end = max(round((onset + duration) * STEPS_PER_QUARTER), start + 1)
        if stepped and stepped[-1][0] == start:
            stepped.pop()
        if stepped and stepped[-1][0] + stepped[-1][1] > start:
            stepped[-1] = (stepped[-1][0], start - stepped[-1][0], stepped[-1][2])
        stepped.append((start, end - start, pitch + shift))
    return stepped


def abc_file_events(text):
    """Every usable tune of an ABC file as events in C.

    Returns:
        (events, titles): int32 arrays, one per tune that is monophonic, non-empty and fits
        the pitch range after transposition; their T: titles.
    """
    from music21 import abcFormat

    handler = abcFormat.ABCHandler()
    handler.process(text)
    sequences, titles = [], []
    for tune in handler.splitByReferenceNumber().values():
        try:
            notes, sharps = tune_notes(tune)
        except ValueError:
            continue
        if not notes:
            continue
        shift = transposition(sharps)
        octave = fit_range([pitch + shift for _, _, pitch in notes])
        if octave is None:
            continue
        sequences.append(notes_to_events(quantize(notes, shift + octave)))
        title = next((t.src[2:].strip() for t in tune.tokens if isinstance(t, abcFormat.ABCMetadata) and t.src.startswith("T:")), "")
        titles.append(title)
    return sequences, titles


# ---------------------------------------------------------------------------------------------
# Corpus and cache


def corpus_dir():
    """music21's bundled Essen folk song folder."""
    import music21

    return Path(music21.__file__).resolve().parent / "corpus" / "essenFolksong"


def cache_dir():
    """$RNN_RECIPES_CACHE/melody, else .cache/melody at the repository root."""
    root = os.environ.get("RNN_RECIPES_CACHE")
    return (Path(root) if root else Path(__file__).resolve().parents[2] / ".cache") / "melody"


def file_events(name):
    """The event sequences and titles of one Essen ABC file, from the cache or parsed (and cached)."""
    import music21

    raw = (corpus_dir() / name).read_bytes()
    settings = {"file": name, "sha1": hashlib.sha1(raw).hexdigest(), "music21": music21.__version__, "version": EVENTS_VERSION}
    settings.update(steps_per_quarter=STEPS_PER_QUARTER, pitches=[MIN_PITCH, MAX_PITCH])
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / f"{Path(name).stem}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path) as stored:
                flat, lengths, titles = stored["events"], stored["lengths"], stored["titles"]
            return np.split(flat, np.cumsum(lengths)[:-1]), [str(t) for t in titles]
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # unreadable: parse again
    sequences, titles = abc_file_events(raw.decode("latin-1"))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    np.savez(partial, events=np.concatenate(sequences).astype(np.int32), lengths=lengths, titles=np.array(titles, dtype=str))
    partial.replace(path)  # atomic: a killed run never leaves a truncated cache behind
    return sequences, titles


def collection(files, max_tunes):
    """The first `max_tunes` tunes of `files` (in order), reading only the files needed."""
    sequences, titles = [], []
    for name in files:
        if len(sequences) >= max_tunes:
            break
        more, more_titles = file_events(name)
        sequences.extend(more)
        titles.extend(more_titles)
    return sequences[:max_tunes], titles[:max_tunes]


def stream(tunes):
    """Tunes -> one int32 event stream, a TUNE_BOUNDARY before each tune."""
    return np.concatenate([np.concatenate([[TUNE_BOUNDARY], t]) for t in tunes]).astype(np.int32)


def windows(ids, sequence_length):
    """(n,) ids -> x, y int32 (num_windows, sequence_length), y = x shifted one step on."""
    num_windows = (len(ids) - 1) // sequence_length
    end = num_windows * sequence_length
    return ids[:end].reshape(num_windows, -1), ids[1 : end + 1].reshape(num_windows, -1)


def split_by_tune(num_tunes, config):
    """Tune indices of each split: "test", "validation", "train".

    Tune i goes by u_i = (u_0 + i * golden ratio) mod 1, u_0 drawn from the seed: below
    test_fraction to test, then validation_fraction to validation, the rest to training. A
    low-discrepancy sequence, so every split gets its share of any prefix of the collection
    within a tune or two, and a tune's split does not depend on max_tunes: a smaller run's
    test tunes are among a larger run's test tunes, never among its training tunes.

    Raises:
        ConfigError: a split gets no tune (max_tunes or a fraction too small).
    """
    offset = np.random.default_rng(config["seed"]).random()
    u = (offset + np.arange(num_tunes) * 0.6180339887498949) % 1.0
    test, validation = config["test_fraction"], config["test_fraction"] + config["validation_fraction"]
    parts = {"test": np.flatnonzero(u < test), "validation": np.flatnonzero((u >= test) & (u < validation)), "train": np.flatnonzero(u >= validation)}
    if min(len(index) for index in parts.values()) == 0:
        allowed = f"enough tunes to give every split one (test_fraction {test:g} and validation_fraction {config['validation_fraction']:g} of the {num_tunes:,} tunes read left one empty)"
        raise config_error("max_tunes", config["max_tunes"], allowed, 1000)
    return parts


def load_data(config):
    """Load Essen tunes as event windows, split by tune, plus the unseen Chinese collection.

    Args:
        config: uses seed, max_tunes, num_cross_tunes, validation_fraction, test_fraction,
            sequence_length.

    Returns:
        dict: "train", "validation", "test", "cross": (x, y) int32 (num_windows,
        sequence_length) windows of each split's event stream (tunes concatenated, each
        after a boundary event; "cross": the Chinese songs); "tunes": {split: [event arrays]};
        "titles": {split: [str]}; "vocabulary": event names.

    Raises:
        ConfigError: a split without tunes, or too few for a window of sequence_length steps.
    """
    tunes, titles = collection(TRAIN_FILES, config["max_tunes"])
    parts = split_by_tune(len(tunes), config)
    cross_tunes, cross_titles = collection(CROSS_FILES, config["num_cross_tunes"])
    split_tunes = {name: [tunes[i] for i in index] for name, index in parts.items()}
    split_tunes["cross"] = cross_tunes
    streams = {name: stream(t) for name, t in split_tunes.items()}
    shortest = min(len(s) for name, s in streams.items() if name != "train")
    why = f"for one window in the smallest held-out split ({shortest:,} steps; raise max_tunes, num_cross_tunes or the split fractions)"
    at_most(config, "sequence_length", shortest - 1, why)

    sequence_length = config["sequence_length"]
    # The seed moves the training windows' boundaries and shuffles them; held-out windows are fixed.
    rng = np.random.default_rng(config["seed"] + 1)
    x_train, y_train = windows(streams["train"][rng.integers(sequence_length) :], sequence_length)
    shuffle = rng.permutation(len(x_train))
    data = {name: windows(streams[name], sequence_length) for name in ("validation", "test", "cross")}
    data["train"] = (x_train[shuffle], y_train[shuffle])
    data["tunes"] = split_tunes
    data["titles"] = {name: [titles[i] for i in index] for name, index in parts.items()}
    data["titles"]["cross"] = cross_titles
    data["vocabulary"] = event_names()
    return data
