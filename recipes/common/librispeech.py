"""LibriSpeech for the CTC recognizers: `--set corpus=librispeech --set corpus_dir=PATH`.

Corpus: "LibriSpeech: an ASR corpus based on public domain audio books", Vassil Panayotov,
Guoguo Chen, Daniel Povey and Sanjeev Khudanpur, 2015, https://www.openslr.org/12 (CC BY 4.0).
Nothing is downloaded here: a user who has the corpus points corpus_dir at it.

Layout, as distributed: ROOT/[SUBSET/]SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac, with one
SPEAKER-CHAPTER.trans.txt per chapter ("SPEAKER-CHAPTER-UTT TRANSCRIPT IN UPPERCASE" per
line). corpus_dir is either the LibriSpeech folder holding subsets (train-clean-100,
dev-clean, test-clean, ...) or a single subset folder.

Splits:
- When corpus_dir holds subset folders named train*, dev* and test*, they are the train,
  validation and test splits (every dev* subset goes to validation, and so on; LibriSpeech's
  own subsets never share a speaker).
- Otherwise every utterance found is split by speaker, seeded by config["seed"]: about 10%
  of the speakers (at least one) for test, as many for validation, the rest for training,
  so test is spoken by speakers never heard in training ("unseen speakers").
- config["max_hours"] caps the training audio: a seeded random subset of the training
  utterances, taken until the next one would pass the cap, with durations read from the
  FLAC headers (soundfile.info), so nothing beyond the cap is decoded. Validation and test
  are each capped at max_hours / 10 the same way (all of test-clean's 5.4 h from
  max_hours=54 on).

Text: transcripts are lowercased; an utterance with a character outside ctc.ALPHABET
(letters, apostrophe, space: LibriSpeech's own character set) is skipped and counted.

Features: each FLAC file is read with soundfile, mixed to mono, resampled to
config["sample_rate"] (speech.resample) when needed, and turned into log-mel frames by
speech.log_mel, the features `recipe transcribe` computes, in chunks of utterances of similar
length so that padding stays small. Frames are kept in memory as float16 (about 29 MB per
hour of audio at 40 mel bands, against 58 MB as float32; the waveforms are not kept), and
a batch is float32 again. Test waveforms are read back from their FLAC files on demand.

Batches: `Utterances`, a keras.utils.PyDataset that buckets by length: a split is sorted by
frame count and cut into batches of config["batch_size"], each padded only to its own
longest utterance. The training split draws a new batch order every epoch; evaluation
splits keep theirs, and load's texts/lengths/voices follow it. The share of padded frames
with and without the bucketing is printed when a split is read.
"""

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from recipes.common import speech
from recipes.common.config import ConfigError, choice, number, text

# Config keys of the corpus choice (spread into recipes/common/ctc.py DATA_DEFAULTS and DATA_RULES).
CORPUS_DEFAULTS = {
    "corpus": "synthetic",  # "synthetic" (espeak-ng digit strings) or "librispeech" (read from corpus_dir)
    "corpus_dir": "",  # a LibriSpeech folder: SPEAKER/CHAPTER/*.flac with SPEAKER-CHAPTER.trans.txt
    "max_hours": 1.0,  # most hours of training audio read from corpus_dir (validation and test: a tenth each)
}
CORPUS_RULES = {
    "corpus": choice("synthetic", "librispeech"),
    "corpus_dir": text(4096),
    "max_hours": number(0, 10_000, low_open=True),
}

SPLITS = ("train", "validation", "test")
SUBSET_PREFIXES = {"train": "train", "dev": "validation", "test": "test"}  # subset folder name prefix -> split
HELD_OUT_SPEAKERS = 0.1  # share of the speakers for validation and for test each, in a speaker split
EVALUATION_HOURS = 0.1  # validation and test are each capped at this share of max_hours
CHUNK_UTTERANCES = 32  # utterances per log-mel call (sorted by duration, so of similar length)
# A batch's frames and labels are padded up to multiples of these: on a GPU, Keras compiles the
# training step with XLA, once per distinct input shape; this bounds how many shapes there are.
FRAME_MULTIPLE, LABEL_MULTIPLE = 64, 16
_WHERE = "point it at a LibriSpeech folder (SPEAKER/CHAPTER/*.flac with SPEAKER-CHAPTER.trans.txt; https://www.openslr.org/12)"


class Record:
    """One utterance named by a transcript file: its FLAC path, text and who speaks it."""

    __slots__ = ("path", "text", "speaker", "voice", "subset")

    def __init__(self, path, text, speaker, voice, subset):
        self.path, self.text, self.speaker, self.voice, self.subset = path, text, speaker, voice, subset


def corpus_root(config):
    """config["corpus_dir"] as a Path, with ~ expanded."""
    return Path(config["corpus_dir"]).expanduser()


def _transcript_files(root):
    """Every *.trans.txt below `root`, sorted, following symlinked folders."""
    found = []
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders.sort()
        found.extend(Path(folder) / name for name in sorted(files) if name.endswith(".trans.txt"))
    return found


def read_transcripts(config):
    """The utterances named by corpus_dir's transcripts, and how many were skipped for their characters.

    Reads transcript files and folder listings only (no audio).

    Returns:
        ([Record], skipped): records in file order; `skipped` counts utterances whose text has a
        character outside ctc.ALPHABET (or none at all).

    Raises:
        ConfigError: corpus_dir empty, missing or not a folder; no transcript below it; a line
            that is not "UTTERANCE TEXT"; an utterance without its FLAC file.
    """
    from recipes.common import ctc

    if not config["corpus_dir"]:
        raise ConfigError(f"corpus=librispeech needs corpus_dir: add --set corpus_dir=PATH and {_WHERE}")
    root = corpus_root(config)
    if not root.exists():
        raise ConfigError(f"corpus_dir {root} does not exist: {_WHERE}")
    if not root.is_dir():
        raise ConfigError(f"corpus_dir {root} is a file, not a folder: {_WHERE}")
    transcripts = _transcript_files(root)
    if not transcripts:
        raise ConfigError(f"corpus_dir {root} holds no *.trans.txt transcript: {_WHERE}")
    allowed = set(ctc.ALPHABET)
    records, skipped = [], 0
    for transcript in transcripts:
        folder = transcript.parent
        parts = folder.relative_to(root).parts
        subset = parts[0] if len(parts) >= 3 else ""  # SUBSET/SPEAKER/CHAPTER, else SPEAKER/CHAPTER
        speaker = folder.parent.name if len(parts) >= 2 else transcript.name.split("-")[0]
        flacs = {name for name in os.listdir(folder) if name.endswith(".flac")}
        for line_number, line in enumerate(transcript.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            utterance, _, spoken = line.strip().partition(" ")
            if not utterance:
                continue
            if not spoken.strip():
                raise ConfigError(f"{transcript} line {line_number} has no transcript after {utterance!r}: each line is 'UTTERANCE-ID TRANSCRIPT'")
            if f"{utterance}.flac" not in flacs:
                raise ConfigError(
                    f"{transcript} line {line_number} names {utterance}, but {folder} has no {utterance}.flac: unpack the corpus again or delete that line"
                )
            spoken = " ".join(spoken.lower().split())
            if set(spoken) - allowed:
                skipped += 1
                continue
            records.append(Record(folder / f"{utterance}.flac", spoken, speaker, f"{speaker}-{folder.name}", subset))
    return records, skipped


def usable_records(config):
    """read_transcripts, raising ConfigError when no utterance is left."""
    records, skipped = read_transcripts(config)
    if not records:
        raise ConfigError(f"corpus_dir {corpus_root(config)}: no transcript uses only letters, apostrophes and spaces: {_WHERE}")
    return records, skipped


def split_records(records, config):
    """{split: [Record]} before any cap: by subset folders when train*, dev* and test* are all
    there, else by speaker (seeded, no speaker in two splits). Also returns how it split, in words.

    Raises:
        ConfigError: a speaker split with fewer than 3 speakers, or a split left without utterances.
    """
    by_subset = {split: [] for split in SPLITS}
    for record in records:
        for prefix, split in SUBSET_PREFIXES.items():
            if record.subset.startswith(prefix):
                by_subset[split].append(record)
    root = corpus_root(config)
    if all(by_subset.values()):
        subsets = {split: sorted({r.subset for r in by_subset[split]}) for split in SPLITS}
        how = "by subset folder: " + "; ".join(f"{split} {', '.join(names)}" for split, names in subsets.items())
        return by_subset, how
    speakers = sorted({r.speaker for r in records})
    if len(speakers) < 3:
        raise ConfigError(
            f"corpus_dir {root} has {len(speakers)} speaker(s) with usable transcripts; splitting by speaker needs at least 3 "
            "(or subset folders train*, dev* and test*): point it at a larger part of LibriSpeech"
        )
    held = max(1, round(HELD_OUT_SPEAKERS * len(speakers)))
    shuffled = [speakers[i] for i in np.random.default_rng([config["seed"], 13]).permutation(len(speakers))]
    chosen = {"test": set(shuffled[:held]), "validation": set(shuffled[held : 2 * held]), "train": set(shuffled[2 * held :])}
    splits = {split: [r for r in records if r.speaker in chosen[split]] for split in SPLITS}
    how = f"by speaker (seed {config['seed']}): " + ", ".join(f"{split} {len(chosen[split])}" for split in SPLITS) + " speakers"
    return splits, how


def check_corpus(config):
    """Raise ConfigError unless corpus and corpus_dir fit together and corpus_dir holds a usable corpus.

    With corpus "librispeech": see read_transcripts and split_records (transcripts and folder
    listings only, no audio is read). With corpus "synthetic", corpus_dir must stay empty.
    """
    if config["corpus"] != "librispeech":
        if config["corpus_dir"]:
            raise ConfigError("corpus_dir is only read with corpus=librispeech: add --set corpus=librispeech, or leave corpus_dir out")
        return
    split_records(usable_records(config)[0], config)


def cap_hours(records, hours, rng):
    """A random subset of `records` (their order from `rng`) until the next one would pass `hours`
    of audio; at least one. Durations come from the FLAC headers. Returns (records, seconds)."""
    import soundfile

    chosen, total, limit = [], 0.0, hours * 3600
    for i in rng.permutation(len(records)):
        seconds = soundfile.info(str(records[i].path)).duration
        if chosen and total + seconds > limit:
            break
        chosen.append((records[i], seconds))
        total += seconds
    return chosen, total


def read_waveform(path, sample_rate):
    """A FLAC (or any soundfile-readable) file as float32 mono samples at `sample_rate` Hz."""
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return speech.resample(samples.mean(axis=1), rate, sample_rate)


class Waveforms(Sequence):
    """Utterances' waveforms, read from their files when indexed (nothing held in memory)."""

    def __init__(self, paths, sample_rate):
        self.paths, self.sample_rate = list(paths), sample_rate

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return read_waveform(self.paths[i], self.sample_rate)


def _round_up(value, multiple):
    return -(-int(value) // multiple) * multiple


def padding_fraction(lengths, batch_size, multiple=1):
    """Share of padded frames when `lengths` are batched in this order, each batch padded to its
    longest rounded up to a multiple of `multiple`."""
    lengths = np.asarray(lengths)
    padded = sum(
        _round_up(lengths[i : i + batch_size].max(), multiple) * len(lengths[i : i + batch_size]) for i in range(0, len(lengths), batch_size)
    )
    return 1 - lengths.sum() / max(padded, 1)


class Utterances(keras.utils.PyDataset):
    """Utterances of one split as (log-mel frames, character ids) batches, bucketed by length.

    The utterances are sorted by frame count (stable) and cut into batches of `batch_size`,
    each padded to its own longest utterance rounded up to a multiple of frame_multiple:
    x float32 (B, T_batch, num_mels), zeros past each utterance's end; y int32 (B, L_batch)
    ids from ctc.encode, padded with 0 (the blank). L_batch is the longest transcript among
    this batch and all shorter ones, rounded up to a multiple of label_multiple, so it grows
    with T_batch.

    Batch 0 is the longest batch (the one short of batch_size, if any), batches 1.. the
    others from shortest to longest, and every epoch yields batches 0 and 1 first: Keras fixes
    a PyDataset's input shapes from the first two batches it reads, and these two differ in
    every dimension that differs at all (B, T_batch, L_batch). After them, an evaluation split
    (shuffle_seed None) yields batches 2, 3, ... in order; a training split yields them in a
    new random order every epoch, from rng([seed, epoch]).

    Args:
        features: [(T_i, num_mels) arrays], one per utterance (any float dtype).
        texts: the utterances' transcripts (characters of ctc.ALPHABET).
        batch_size: utterances per batch.
        shuffle_seed: None for a fixed batch order (evaluation), a seed to reshuffle (training).
        frame_multiple, label_multiple: what T_batch and L_batch are rounded up to.

    Attributes:
        index: input position of each utterance, in batch order (batch 0's, batch 1's, ...).
        texts, lengths: transcripts and valid frames in that order.
        order: the batches in the order this epoch yields them.
    """

    def __init__(self, features, texts, batch_size, shuffle_seed=None, frame_multiple=1, label_multiple=1):
        super().__init__()
        frames = np.array([len(f) for f in features], dtype=np.int64)
        ascending = np.argsort(frames, kind="stable")
        count, size = len(ascending), int(batch_size)
        cuts = [*range(0, count, size), count]  # batches of the ascending order; the last may be short
        self.index = np.concatenate([ascending[cuts[-2] :], ascending[: cuts[-2]]])  # the longest batch first
        self._bounds = [0, *(count - cuts[-2] + c for c in cuts[:-1])]
        self._features = [features[i] for i in self.index]
        self.texts = [texts[i] for i in self.index]
        self.lengths = frames[self.index]
        # Longest transcript up to each ascending position, read at each batch's last utterance.
        longest_text = np.maximum.accumulate([len(texts[i]) for i in ascending]) if count else np.zeros(0, np.int64)
        ends = [count, *cuts[1:-1]]  # ascending end of batch 0 (the longest), then of batches 1..
        self._label_lengths = [_round_up(longest_text[end - 1], label_multiple) for end in ends]
        self.batch_size = size
        self.frame_multiple = int(frame_multiple)
        self.shuffle_seed = shuffle_seed
        self.epoch = 0
        self.order = self._draw_order()

    def _draw_order(self):
        count = len(self._bounds) - 1
        rest = np.arange(2, count)
        if self.shuffle_seed is not None:
            rest = 2 + np.random.default_rng([self.shuffle_seed, 17, self.epoch]).permutation(max(count - 2, 0))
        return np.concatenate([np.arange(min(count, 2)), rest]).astype(np.int64)

    def __len__(self):
        return len(self.order)

    def members(self, b):
        """Positions (in the order of texts/lengths) of batch b's utterances."""
        return range(self._bounds[b], self._bounds[b + 1])

    def batch(self, b):
        """Batch b (numbered as above, whatever this epoch's order): (x, y)."""
        from recipes.common import ctc

        members = self.members(b)
        frames = _round_up(self.lengths[members].max(), self.frame_multiple)
        x = np.zeros((len(members), frames, self._features[0].shape[-1]), dtype=np.float32)
        for row, i in enumerate(members):
            x[row, : self.lengths[i]] = self._features[i]
        y = ctc.encode([self.texts[i] for i in members])
        return x, np.pad(y, ((0, 0), (0, self._label_lengths[b] - y.shape[1])))

    def __getitem__(self, index):
        return self.batch(int(self.order[index]))

    def on_epoch_end(self):
        if self.shuffle_seed is not None:
            self.epoch += 1
            self.order = self._draw_order()

    def utterance(self, i):
        """Utterance i's valid frames (order of texts/lengths), float32 (T_i, num_mels)."""
        return np.asarray(self._features[i], dtype=np.float32)

    def padding_fraction(self):
        """Share of the frames in this split's batches that are padding."""
        padded = sum(_round_up(self.lengths[self.members(b)].max(), self.frame_multiple) * len(self.members(b)) for b in range(len(self)))
        return 1 - self.lengths.sum() / max(padded, 1)


def _features(chosen, config, label, stream):
    """float16 log-mel frames of each (record, seconds), computed in chunks of similar duration."""
    by_duration = sorted(range(len(chosen)), key=lambda i: chosen[i][1])
    features = [None] * len(chosen)
    started = time.perf_counter()
    speech._progress(label, 0, len(chosen), started, stream)
    for start in range(0, len(by_duration), CHUNK_UTTERANCES):
        members = by_duration[start : start + CHUNK_UTTERANCES]
        waveforms = [read_waveform(chosen[i][0].path, config["sample_rate"]) for i in members]
        frames, lengths = speech.log_mel(waveforms, config, batch_size=len(members))
        for row, i in enumerate(members):
            features[i] = frames[row, : lengths[row]].astype(np.float16)
        speech._progress(label, start + len(members), len(chosen), started, stream)
    return features


def load(config, stream=sys.stderr):
    """LibriSpeech from config["corpus_dir"] as bucketed batches of log-mel frames and CTC targets.

    Args:
        config: seed, batch_size, corpus_dir, max_hours, sample_rate and the feature keys.
        stream: where the summary and progress lines go.

    Returns:
        {"train"/"validation"/"test": Utterances,
         "texts": {split: [str]}, "lengths": {split: int array of valid frames},
         "voices": {split: ["SPEAKER-CHAPTER"]}, all in the order the split's batches hold them,
         "waveforms": {"test": Waveforms (float32 at config["sample_rate"], read on demand)}}.

    Raises:
        ConfigError: as check_corpus.
    """
    records, skipped = usable_records(config)
    splits, how = split_records(records, config)
    stream.write(f"librispeech {corpus_root(config)}: {len(records):,} utterances, split {how}\n")
    if skipped:
        stream.write(f"librispeech: skipped {skipped:,} utterance(s) whose transcript has a character outside letters, apostrophe and space\n")
    data = {"texts": {}, "lengths": {}, "voices": {}, "waveforms": {}}
    for stream_id, split in enumerate(SPLITS):
        hours = config["max_hours"] * (1 if split == "train" else EVALUATION_HOURS)
        chosen, seconds = cap_hours(splits[split], hours, np.random.default_rng([config["seed"], 23, stream_id]))
        features = _features(chosen, config, f"reading librispeech {split}", stream)
        dataset = Utterances(
            features,
            [r.text for r, _ in chosen],
            config["batch_size"],
            shuffle_seed=config["seed"] if split == "train" else None,
            frame_multiple=FRAME_MULTIPLE,
            label_multiple=LABEL_MULTIPLE,
        )
        ordered = [chosen[i][0] for i in dataset.index]
        data[split] = dataset
        data["texts"][split], data["lengths"][split] = dataset.texts, dataset.lengths
        data["voices"][split] = [r.voice for r in ordered]
        if split == "test":
            data["waveforms"]["test"] = Waveforms([r.path for r in ordered], config["sample_rate"])
        unsorted = padding_fraction(np.random.default_rng([config["seed"], 29]).permutation(dataset.lengths), config["batch_size"], FRAME_MULTIPLE)
        stream.write(
            f"librispeech {split}: {len(chosen):,} of {len(splits[split]):,} utterances, {seconds / 3600:.2f} h ({seconds:,.0f} s) "
            f"(cap {hours:g} h), {len({r.speaker for r in ordered})} speakers; padding {dataset.padding_fraction():.1%} "
            f"of frames with length bucketing, {unsorted:.1%} in random batches\n"
        )
    return data
