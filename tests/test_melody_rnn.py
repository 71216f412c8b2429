"""melody_rnn: event encoding, transposition, n-gram baselines, MIDI and WAV output, the split."""

import math
import wave
from fractions import Fraction

import numpy as np
import pytest
from music21 import converter, note, stream, tie

from recipes.common.config import ConfigError
from recipes.melody_rnn import data as melody
from recipes.melody_rnn.demo import RELEASE, SAMPLE_RATE, midi_bytes, ngram_nll, synthesize
from recipes.melody_rnn.model import DEFAULT_CONFIG

C4, D4, E4, G4 = 60, 62, 64, 67
HOLD, OFF = melody.NO_EVENT, melody.NOTE_OFF


def on(pitch):
    return melody.pitch_event(pitch)


def test_events_from_a_hand_made_stream_and_back():
    # C4 quarter, D4 eighth tied to an eighth (one note), eighth rest, E4 dotted eighth, G4 16th.
    score = stream.Stream()
    score.append(note.Note("C4", quarterLength=1))
    first, second = note.Note("D4", quarterLength=0.5), note.Note("D4", quarterLength=0.5)
    first.tie, second.tie = tie.Tie("start"), tie.Tie("stop")
    score.append([first, second, note.Rest(quarterLength=0.5), note.Note("E4", quarterLength=0.75), note.Note("G4", quarterLength=0.25)])

    notes = melody.stream_notes(score)
    assert notes == [(0, 1, C4), (1, 1, D4), (Fraction(5, 2), Fraction(3, 4), E4), (Fraction(13, 4), Fraction(1, 4), G4)]
    events = melody.notes_to_events(melody.quantize(notes, 0))
    expected = [on(C4), HOLD, HOLD, HOLD, on(D4), HOLD, HOLD, HOLD, OFF, HOLD, on(E4), HOLD, HOLD, on(G4)]
    assert events.tolist() == expected
    assert melody.events_to_notes(events) == [(0, 4, C4), (4, 4, D4), (10, 3, E4), (13, 1, G4)]
    # A rest at the end shows as a note-off once the sequence is longer than the last note.
    assert melody.notes_to_events([(0, 2, C4)], total_steps=4).tolist() == [on(C4), HOLD, OFF, HOLD]


def test_notes_outside_the_range_or_overlapping_are_refused():
    with pytest.raises(ValueError, match="outside MIDI pitches 48..83"):
        melody.notes_to_events([(0, 1, 90)])
    with pytest.raises(ValueError, match="overlaps"):
        melody.notes_to_events([(0, 4, C4), (2, 2, D4)])


def abc_tune(key, body):
    return f"X:1\nT:test\nM:4/4\nL:1/8\nK:{key}\n{body}\n"


def test_tunes_are_transposed_to_c_major_or_a_minor():
    # G major (one sharp, so the written f is F#) moves up a fourth to C major.
    [g_major], _ = melody.abc_file_events(abc_tune("G", "G2 A2 B2 c2 | d2 f2 g4 |]"))
    [c_major], _ = melody.abc_file_events(abc_tune("C", "c2 d2 e2 f2 | g2 b2 c'4 |]"))
    assert g_major.tolist() == c_major.tolist()
    # c' (C6, MIDI 84) is above the range [48, 84): the whole tune moves down an octave.
    assert [p for _, _, p in melody.events_to_notes(c_major)] == [60, 62, 64, 65, 67, 71, 72]
    # E minor, written with G's signature, lands in A minor.
    [e_minor], _ = melody.abc_file_events(abc_tune("G", "E2 F2 G2 A2 | B8 |]"))
    assert [p % 12 for _, _, p in melody.events_to_notes(e_minor)] == [9, 11, 0, 2, 4]  # A B C D E
    # Flats: F major (one flat) and B-flat major move to C too.
    # F# and Gb major (tonic 6 semitones above C) go down: shifts stay in -6 .. +5.
    assert [melody.transposition(sharps) for sharps in (0, 1, -1, -2, 2, 6, -6)] == [0, 5, -5, 2, -2, -6, -6]


def test_the_tokenizer_reads_the_same_notes_as_music21s_full_abc_parse():
    path = melody.corpus_dir() / "erk5.abc"
    text = path.read_text(encoding="latin-1")
    first_tunes = "X:" + "X:".join(text.split("X:")[1:4])  # three tunes: ~0.2 s of full parsing
    from music21 import abcFormat

    handler = abcFormat.ABCHandler()
    handler.process(first_tunes)
    opus = converter.parse(first_tunes, format="abc")
    scores = opus.scores if hasattr(opus, "scores") else [opus]
    tunes = list(handler.splitByReferenceNumber().values())
    assert len(tunes) == len(scores) == 3
    for tune, score in zip(tunes, scores):
        assert melody.tune_notes(tune)[0] == melody.stream_notes(score)


def test_ngram_baselines_on_a_toy_stream():
    train = np.array([0, 1, 1, 1])
    # Unigram, add-one: counts (1, 3) + 1 -> p(1) = 4/6.
    assert ngram_nll(train, [5], [1], order=1, num_events=2) == pytest.approx(-math.log(4 / 6))
    # Bigram, add-one: rows 0 -> (1, 2), 1 -> (1, 3): p(1|0) = 2/3, p(1|1) = 3/4, p(0|1) = 1/4.
    nll = ngram_nll(train, [0, 1, 1], [1, 1, 0], order=2, num_events=2)
    assert nll == pytest.approx(-(math.log(2 / 3) + math.log(3 / 4) + math.log(1 / 4)) / 3)


def test_midi_file_parses_back_to_the_same_notes(tmp_path):
    notes = [(0, 4, C4), (4, 2, D4), (8, 1, E4), (9, 7, G4)]  # with a rest from step 6 to 8
    path = tmp_path / "melody.mid"
    path.write_bytes(midi_bytes(notes, tempo_bpm=100))
    parsed = converter.parse(path)
    read = [(n.offset * 4, n.quarterLength * 4, n.pitch.midi) for n in parsed.flatten().notes]
    assert read == notes
    assert parsed.flatten().getElementsByClass("MetronomeMark")[0].number == pytest.approx(100)


def test_wav_has_the_melodys_duration(tmp_path):
    from recipes.common.speech import write_wav

    notes = [(0, 4, C4), (6, 10, G4)]  # 16 steps = one 4/4 bar = 2 s at 120 bpm
    waveform = synthesize(notes, tempo_bpm=120)
    path = write_wav(tmp_path / "melody.wav", waveform, SAMPLE_RATE)
    with wave.open(str(path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds == pytest.approx(2.0 + RELEASE, abs=1 / SAMPLE_RATE)
    assert np.abs(waveform).max() == pytest.approx(0.8, abs=1e-6)
    # Silent in the rest after the first note's release, sounding during the notes.
    step = SAMPLE_RATE // 8  # samples per 16th note at 120 bpm
    assert np.abs(waveform[int(4.7 * step) : 6 * step]).max() == 0
    assert np.abs(waveform[step : 2 * step]).max() > 0.1


def test_split_is_by_tune_and_deterministic():
    config = {**DEFAULT_CONFIG, "max_tunes": 200, "num_cross_tunes": 30, "sequence_length": 32}
    first, again = melody.load_data(config), melody.load_data(config)
    tunes = first["tunes"]
    assert sum(len(tunes[s]) for s in ("train", "validation", "test")) == 200
    assert abs(len(tunes["test"]) - 20) <= 2 and abs(len(tunes["validation"]) - 10) <= 2
    # A tune's split does not depend on how many tunes are read: a smaller run's test tunes
    # are a larger run's test tunes, never its training tunes.
    small, large = melody.split_by_tune(100, config), melody.split_by_tune(1000, config)
    for split in ("train", "validation", "test"):
        np.testing.assert_array_equal(small[split], large[split][large[split] < 100])
    for split in ("train", "test", "cross"):
        x, y = first[split]
        np.testing.assert_array_equal(x, again[split][0])
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # teacher forcing: y is x one step on
    # Held-out windows are the split's own stream, every tune after a boundary event.
    test_stream = melody.stream(tunes["test"])
    np.testing.assert_array_equal(first["test"][0].reshape(-1), test_stream[: first["test"][0].size])
    assert (test_stream == melody.TUNE_BOUNDARY).sum() == len(tunes["test"])


def test_a_split_without_tunes_gives_a_config_error():
    config = {**DEFAULT_CONFIG, "max_tunes": 20, "test_fraction": 0.01}
    with pytest.raises(
        ConfigError,
        match=r"'max_tunes' takes enough tunes to give every split one \(test_fraction 0.01 and validation_fraction 0.05 of the 20 tunes read",
    ):
        melody.split_by_tune(20, config)


def test_too_long_windows_for_the_held_out_tunes_give_a_config_error():
    config = {**DEFAULT_CONFIG, "max_tunes": 40, "num_cross_tunes": 30, "sequence_length": 5000}
    with pytest.raises(ConfigError, match=r"'sequence_length' takes at most [\d,]+ for one window in the smallest held-out split"):
        melody.load_data(config)
