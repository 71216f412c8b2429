"""recipes/common/librispeech.py: a tiny corpus in LibriSpeech's layout, read for the CTC recognizers.

The corpus is synthesized here with espeak-ng (four speakers, one chapter each, five
utterances of different lengths) and written as 16 kHz FLAC files with uppercase transcripts,
exactly as LibriSpeech is distributed.
"""

import io
import json
import shutil

import numpy as np
import pytest
import soundfile
from test_cli import one_line_error, recipe

from recipes.common import ctc, librispeech, speech
from recipes.common.config import ConfigError
from recipes.wav2letter.model import DEFAULT_CONFIG

VOICES = ("en-us+m3", "en-gb-x-rp+f2", "en-gb-scotland+m1", "en-us+f4")
TEXTS = ("one", "it's two three", "four five six seven eight nine", "zero", "don't stop one two three four five six")
RATE = 16000


def write_chapter(folder, speaker, chapter, texts, voice, spoken=None):
    """SPEAKER/CHAPTER/*.flac and SPEAKER-CHAPTER.trans.txt under `folder`; `spoken` overrides what is said."""
    chapter_dir = folder / str(speaker) / str(chapter)
    chapter_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        utterance = f"{speaker}-{chapter}-{i:04d}"
        waveform, _ = speech.synthesize(spoken[i] if spoken else text, voice, sample_rate=RATE)
        soundfile.write(chapter_dir / f"{utterance}.flac", waveform, RATE)
        lines.append(f"{utterance} {text.upper()}")
    (chapter_dir / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return chapter_dir


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A LibriSpeech-layout folder (no subsets): speakers 100..103, chapter 7, TEXTS each."""
    root = tmp_path_factory.mktemp("LibriSpeech")
    for i, voice in enumerate(VOICES):
        write_chapter(root, 100 + i, 7, TEXTS, voice)
    return root


def config_for(root, **overrides):
    return {**DEFAULT_CONFIG, "corpus": "librispeech", "corpus_dir": str(root), "batch_size": 2, **overrides}


def load_quietly(config):
    stream = io.StringIO()
    return librispeech.load(config, stream=stream), stream.getvalue()


def speaker_of(voice):
    return voice.split("-")[0]


def refused(config):
    with pytest.raises(ConfigError) as error:
        librispeech.check_corpus(config)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_check_corpus_refuses_what_it_cannot_read(corpus, tmp_path):
    assert "needs corpus_dir" in refused(config_for(""))
    assert "does not exist" in refused(config_for(tmp_path / "nope"))
    (tmp_path / "file.txt").write_text("x")
    assert "is a file" in refused(config_for(tmp_path / "file.txt"))
    (tmp_path / "empty" / "100" / "7").mkdir(parents=True)
    assert "no *.trans.txt" in refused(config_for(tmp_path / "empty"))
    # A transcript line whose FLAC file is missing.
    broken = tmp_path / "broken"
    shutil.copytree(corpus, broken)
    (broken / "101" / "7" / "101-7-0002.flac").unlink()
    message = refused(config_for(broken))
    assert "101-7-0002" in message and "line 3" in message
    # Fewer than 3 speakers and no subset folders: no speaker split possible.
    two = tmp_path / "two"
    for speaker in ("100", "101"):
        shutil.copytree(corpus / speaker, two / speaker)
    assert "at least 3" in refused(config_for(two))
    # corpus_dir without corpus=librispeech would be silently ignored: refused.
    assert "only read with corpus=librispeech" in refused({**config_for(corpus), "corpus": "synthetic"})
    librispeech.check_corpus(config_for(corpus))
    librispeech.check_corpus({**DEFAULT_CONFIG})  # synthetic, no corpus_dir


def test_the_cli_refuses_a_missing_corpus_in_one_line_before_any_work(tmp_path):
    line = one_line_error(
        recipe("run", "wav2letter", "--set", "corpus=librispeech", "--set", f"corpus_dir={tmp_path / 'nope'}", "--out", tmp_path / "run")
    )
    assert "does not exist" in line and str(tmp_path / "nope") in line
    assert not (tmp_path / "run").exists()


def test_a_flat_corpus_is_split_by_speaker_with_no_speaker_in_two_splits(corpus):
    data, log = load_quietly(config_for(corpus))
    speakers = {split: {speaker_of(v) for v in data["voices"][split]} for split in librispeech.SPLITS}
    assert all(speakers.values())
    assert not (speakers["train"] & speakers["validation"] or speakers["train"] & speakers["test"] or speakers["validation"] & speakers["test"])
    assert set().union(*speakers.values()) == {"100", "101", "102", "103"}
    assert sum(len(data["texts"][split]) for split in librispeech.SPLITS) == len(VOICES) * len(TEXTS)
    # Lowercase, in ctc.ALPHABET, the corpus' own texts.
    for split in librispeech.SPLITS:
        assert set(data["texts"][split]) <= set(TEXTS)
    assert "split by speaker" in log
    # The seed chooses the speakers.
    records, _ = librispeech.read_transcripts(config_for(corpus))
    test_speakers = {librispeech.split_records(records, config_for(corpus, seed=seed))[0]["test"][0].speaker for seed in range(8)}
    assert len(test_speakers) > 1


def test_subset_folders_are_the_splits(corpus, tmp_path):
    root = tmp_path / "LibriSpeech"
    for subset, speakers in (("train-clean-100", ("100", "101")), ("dev-clean", ("102",)), ("test-clean", ("103",))):
        for speaker in speakers:
            shutil.copytree(corpus / speaker, root / subset / speaker)
    data, log = load_quietly(config_for(root))
    assert {speaker_of(v) for v in data["voices"]["train"]} == {"100", "101"}
    assert {speaker_of(v) for v in data["voices"]["validation"]} == {"102"}
    assert {speaker_of(v) for v in data["voices"]["test"]} == {"103"}
    assert "by subset folder" in log and "dev-clean" in log
    # Without all of train*, dev* and test*, or pointed at one subset folder: a speaker split.
    shutil.copytree(corpus, tmp_path / "only-train" / "train-clean-100")
    for folder in (tmp_path / "only-train", tmp_path / "only-train" / "train-clean-100"):
        records, _ = librispeech.read_transcripts(config_for(folder))
        splits, how = librispeech.split_records(records, config_for(folder))
        assert how.startswith("by speaker") and all(splits.values())


def test_transcripts_with_other_characters_are_skipped_and_counted(corpus, tmp_path):
    root = tmp_path / "symbols"
    shutil.copytree(corpus, root)
    write_chapter(root, 100, 8, ["room 101", "café one", "two"], VOICES[0])
    data, log = load_quietly(config_for(root))
    texts = [t for split in librispeech.SPLITS for t in data["texts"][split]]
    assert len(texts) == len(VOICES) * len(TEXTS) + 1
    assert not any("101" in t or "café" in t for t in texts)
    assert "skipped 2 utterance(s)" in log


def test_max_hours_caps_the_audio_that_is_read(corpus, monkeypatch):
    reads = []
    original = librispeech.read_waveform
    monkeypatch.setattr(librispeech, "read_waveform", lambda path, rate: reads.append(path) or original(path, rate))
    cap_seconds = 6.0
    data, _ = load_quietly(config_for(corpus, max_hours=cap_seconds / 3600))
    hop = speech.hop_length(DEFAULT_CONFIG) / RATE
    train_seconds = sum((n - 1) * hop for n in data["lengths"]["train"])  # frame_count = samples // hop + 1
    assert 1 <= len(data["texts"]["train"]) < 2 * len(TEXTS) and train_seconds <= cap_seconds
    # Validation and test: a tenth of the cap, 0.6 s, shorter than any utterance: one each.
    assert len(data["texts"]["validation"]) == len(data["texts"]["test"]) == 1
    # Only the chosen utterances were decoded.
    assert len(reads) == sum(len(data["texts"][split]) for split in librispeech.SPLITS)


def test_batches_hold_each_utterance_padded_to_its_batch_and_decode_back(corpus):
    data, _ = load_quietly(config_for(corpus, batch_size=2))
    for split in librispeech.SPLITS:
        batches = data[split]
        assert isinstance(batches, librispeech.Utterances)
        texts, position, label_lengths = [], 0, []
        for b in range(len(batches)):
            x, y = batches.batch(b)
            assert x.dtype == np.float32 and y.dtype == np.int32 and x.shape[2] == DEFAULT_CONFIG["num_mels"]
            members = batches.members(b)
            assert members.start == position and len(members) == len(x) == len(y)
            position = members.stop
            longest = max(data["lengths"][split][i] for i in members)
            assert longest <= x.shape[1] < longest + librispeech.FRAME_MULTIPLE and x.shape[1] % librispeech.FRAME_MULTIPLE == 0
            assert y.shape[1] % librispeech.LABEL_MULTIPLE == 0
            label_lengths.append(y.shape[1])
            for row, i in enumerate(members):
                n = data["lengths"][split][i]
                assert np.array_equal(x[row, :n], ctc.utterance_features(data, split, i)) and not x[row, n:].any()
            texts += [ctc.ids_to_text(row) for row in y]
        assert texts == data["texts"][split] and position == len(texts)
        # Batch 0 holds the longest utterances, batches 1.. the others from shortest to longest.
        spans = [data["lengths"][split][batches.members(b)] for b in range(len(batches))]
        assert all(spans[b].max() <= spans[b + 1].min() for b in range(1, len(spans) - 1))
        assert all(s.max() <= spans[0].min() for s in spans[1:])
        assert label_lengths[0] == max(label_lengths) and label_lengths[1:] == sorted(label_lengths[1:])
    # Evaluation splits yield batch 0, 1, 2, ...; training yields 0 and 1 first, then a new order per epoch.
    assert data["test"].order.tolist() == list(range(len(data["test"])))
    assert all(np.array_equal(data["test"][b][0], data["test"].batch(b)[0]) for b in range(len(data["test"])))
    train = data["train"]
    orders = []
    for _ in range(6):
        orders.append(tuple(train.order))
        train.on_epoch_end()
    assert len(set(orders)) > 1 and all(o[:2] == (0, 1) and sorted(o) == list(range(len(train))) for o in orders)


def test_keras_trains_on_batches_whose_shapes_vary_after_the_first_two():
    # Keras fixes a PyDataset's input shapes from the first two batches it reads: here the two
    # shortest batches round to the same 64 frames and batch size, the longest does not.
    import keras

    frames = [10, 12, 20, 30, 100, 110, 120]
    texts = ["a", "ab", "abc", "abcd", "abcdefghijklmnopq", "ab", "abc"]
    batches = librispeech.Utterances([np.ones((n, 3), np.float32) for n in frames], texts, batch_size=2, frame_multiple=64, label_multiple=16)
    assert {batches.batch(b)[0].shape for b in range(len(batches))} == {(1, 128, 3), (2, 64, 3), (2, 128, 3)}
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Conv1D(ctc.NUM_CLASSES, 1)(inputs))
    model.compile(optimizer="adam", loss=keras.losses.CTC())
    history = model.fit(batches, validation_data=batches, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2 and np.isfinite(model.evaluate(batches, verbose=0))


def test_features_are_those_of_the_waveform_alone(corpus):
    # The longest test utterance is the longest of its log-mel chunk (no padding there): its
    # frames are what `recipe transcribe` computes from the same waveform, up to float16.
    data, _ = load_quietly(config_for(corpus))
    last = int(np.argmax(data["lengths"]["test"]))
    waveform = data["waveforms"]["test"][last]
    assert waveform.dtype == np.float32
    alone, lengths = speech.log_mel([waveform], DEFAULT_CONFIG)
    assert lengths[0] == data["lengths"]["test"][last]
    np.testing.assert_allclose(ctc.utterance_features(data, "test", last), alone[0], atol=0.01)


def test_other_rates_and_channels_are_mixed_to_mono_and_resampled(tmp_path):
    t = np.arange(22050) / 22050
    left, right = np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 220 * t)
    soundfile.write(tmp_path / "stereo.flac", np.stack([left, right], axis=1), 22050)
    waveform = librispeech.read_waveform(tmp_path / "stereo.flac", RATE)
    expected = speech.resample((left + right) / 2, 22050, RATE)
    assert waveform.dtype == np.float32 and len(waveform) == RATE
    np.testing.assert_allclose(waveform, expected, atol=1e-3)  # FLAC stores 16-bit samples


def test_length_bucketing_pads_less_than_random_batches():
    rng = np.random.default_rng(0)
    frames = rng.integers(20, 400, size=64)
    features = [np.ones((n, 3), np.float16) for n in frames]
    batches = librispeech.Utterances(features, ["a"] * 64, batch_size=8, frame_multiple=16)
    random_orders = [librispeech.padding_fraction(rng.permutation(frames), 8, 16) for _ in range(20)]
    assert batches.padding_fraction() < min(random_orders)
    padded = sum(batches.batch(b)[0].shape[1] * len(batches.batch(b)[0]) for b in range(len(batches)))
    assert batches.padding_fraction() == pytest.approx(1 - frames.sum() / padded)


def test_a_wav2letter_run_on_the_corpus_reports_cer_and_wer(corpus, tmp_path):
    sizes = ("epochs=1", "batch_size=4", "channels=16", "wide_channels=16", "num_middle_layers=1", "beam_width=2")
    result = recipe(
        "run", "wav2letter", "--set", "corpus=librispeech", "--set", f"corpus_dir={corpus}", *(f"--set={s}" for s in sizes), "--out", tmp_path / "run"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["cer"] >= 0 and metrics["wer"] >= 0
    assert "padding" in result.stdout + result.stderr
    transcripts = (tmp_path / "run" / "transcripts.txt").read_text()
    assert "reference: it's two three" in transcripts
    waveform, rate = speech.read_wav(tmp_path / "run" / "test_utterance.wav")
    assert rate == RATE and len(waveform) > 0


def test_decoding_a_bucketed_split_in_part_matches_the_whole(corpus):
    import keras

    from recipes.wav2letter.model import build_model

    config = config_for(corpus, channels=8, wide_channels=8, num_middle_layers=1, beam_width=2, batch_size=2)
    data, _ = load_quietly(config)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    logits, lengths, greedy, beam = ctc.decode_split(model, data, config, "test")
    assert isinstance(logits, list) and [len(row) for row in logits] == lengths.tolist() and len(greedy) == len(data["texts"]["test"])
    part = ctc.decode_split(model, data, config, "test", count=3)
    assert part[2] == greedy[:3] and part[3] == beam[:3] and part[1].tolist() == lengths[:3].tolist()
    np.testing.assert_allclose(part[0][2], logits[2])
