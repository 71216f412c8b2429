"""CTC speech recognition shared by deepspeech2_ctc and wav2letter: data, decoding, error rates, demo files.

Connectionist Temporal Classification: "Connectionist Temporal Classification: Labelling
Unsegmented Sequence Data with Recurrent Neural Networks", Alex Graves, Santiago Fernández,
Faustino Gomez and Jürgen Schmidhuber, 2006, https://www.cs.toronto.edu/~graves/icml_2006.pdf.
A model emits, for every output frame, a distribution over the characters plus a "blank";
the loss sums over every alignment of the transcript to the frames, so no frame-level
labels are needed. Decoding merges repeated characters and drops blanks.

Conventions (those of keras.losses.CTC and keras.ops.ctc_decode): class 0 is the blank,
characters are 1..len(ALPHABET), and transcripts are padded with 0. Models output logits
(no softmax), one row per output frame.
"""

from pathlib import Path

import numpy as np

from recipes.common import augment, librispeech, speech
from recipes.common.config import ConfigError, integer, ordered, positive

ALPHABET = " abcdefghijklmnopqrstuvwxyz'"  # id = index + 1; 0 is the CTC blank
NUM_CLASSES = len(ALPHABET) + 1
BLANK = 0

# Config keys a CTC recognizer's DEFAULT_CONFIG holds for its data (besides seed/epochs/...).
DATA_DEFAULTS = {
    "num_train": 3000,
    "num_validation": 300,
    "num_test": 600,
    "min_digits": 3,
    "max_digits": 5,
    **speech.SYNTHESIS_DEFAULTS,
    **speech.FEATURE_DEFAULTS,
    "max_seconds": 20.0,  # longest WAV file `recipe transcribe` accepts
    **librispeech.CORPUS_DEFAULTS,
    **augment.AUGMENT_DEFAULTS,
}
# What each of them accepts (spread into a recognizer's CONFIG_RULES); check_data ties them together.
DATA_RULES = {
    "num_train": integer(1, 20_000),
    "num_validation": integer(1, 5_000),
    "num_test": integer(1, 5_000),
    "min_digits": integer(1, 10),
    "max_digits": integer(1, 10),
    **speech.SYNTHESIS_RULES,
    **speech.FEATURE_RULES,
    "max_seconds": positive(600.0),
    **librispeech.CORPUS_RULES,
    **augment.AUGMENT_RULES,
}


def check_data(config):
    """Raise ConfigError unless the digit and synthesis ranges are ordered and the data fits in memory."""
    ordered(config, "min_digits", "max_digits")
    speech.check_synthesis(config)
    speech.check_amount(config, config["max_digits"])
    librispeech.check_corpus(config)


def encode(texts):
    """Transcripts -> int32 (N, longest) character ids, padded with 0 (the blank)."""
    ids = np.zeros((len(texts), max((len(t) for t in texts), default=0)), dtype=np.int32)
    for i, text in enumerate(texts):
        ids[i, : len(text)] = [ALPHABET.index(c) + 1 for c in text]
    return ids


def ids_to_text(ids):
    """Character ids -> str, skipping blanks and padding (0 and -1)."""
    return "".join(ALPHABET[i - 1] for i in np.asarray(ids).tolist() if i > 0)


def load_spoken_digits(config):
    """Spoken digit strings as log-mel features and CTC targets; LibriSpeech with corpus=librispeech.

    Returns:
        {"train"/"validation"/"test": (features (N, T, num_mels), char ids (N, L)),
         "texts", "lengths" (valid frames), "voices", "waveforms": {split: ...}} — test is
        spoken by TEST_VARIANTS voices only. With config["corpus"] "librispeech", the same
        keys from librispeech.load, each split an Utterances PyDataset (length-bucketed batches).
    """
    if config["corpus"] == "librispeech":
        return librispeech.load(config)
    rng = np.random.default_rng([config["seed"], 3])
    counts = {"train": config["num_train"], "validation": config["num_validation"], "test": config["num_test"]}
    texts = {split: speech.digit_strings(rng, n, config["min_digits"], config["max_digits"]) for split, n in counts.items()}
    # The out-of-family test: as many utterances as the test, from their own stream.
    other = np.random.default_rng([config["seed"], 4])
    texts["out_of_family"] = speech.digit_strings(other, config["num_test"], config["min_digits"], config["max_digits"])
    sets = speech.synthesize_sets(texts, config, "digit-strings")
    train, augment_rng = sets["train"], np.random.default_rng([config["seed"], 5])
    train["waveforms"], train["word_starts"] = augment.augment_waveforms(train["clean"], train["word_starts"], train["snr_db"], config, augment_rng)
    warps = {"train": augment.vtlp_factors(len(train["clean"]), augment_rng)} if config["vtlp"] else {}
    data = {"texts": {}, "lengths": {}, "voices": {}, "waveforms": {}}
    longest = max(len(w) for s in sets.values() for w in s["waveforms"])
    for split, s in sets.items():
        features, lengths = speech.log_mel(s["waveforms"], config, warps=warps.get(split))
        # One padded length for every split, so one compiled graph serves them all.
        t_max = speech.frame_count(longest, config)
        features = np.pad(features, ((0, 0), (0, t_max - features.shape[1]), (0, 0)))
        data[split] = (features, encode(s["texts"]))
        data["texts"][split], data["lengths"][split] = s["texts"], lengths
        data["voices"][split], data["waveforms"][split] = s["voices"], s["waveforms"]
    return data


def output_lengths(lengths, input_frames, output_frames):
    """Valid output frames for inputs of `lengths` valid frames, when the model maps
    `input_frames` padded frames to `output_frames` (any stride, 'same' padding)."""
    return np.minimum(np.ceil(np.asarray(lengths) * output_frames / input_frames), output_frames).astype(np.int32)


def decode(logits, lengths, beam_width=1):
    """Best transcripts for a batch of logits (N, T, NUM_CLASSES).

    beam_width 1 is greedy (best class per frame, merge repeats, drop blanks); more runs
    keras.ops.ctc_decode's beam search with that many beams. Transcripts come out with
    single spaces between words and none at the ends.
    """
    import keras

    strategy = "greedy" if beam_width <= 1 else "beam_search"
    kwargs = {} if beam_width <= 1 else {"beam_width": int(beam_width), "top_paths": 1}
    decoded, _ = keras.ops.ctc_decode(
        keras.ops.convert_to_tensor(logits, dtype="float32"),
        keras.ops.convert_to_tensor(np.asarray(lengths, dtype=np.int32)),
        strategy=strategy,
        mask_index=BLANK,
        **kwargs,
    )
    # Spaces are characters the network emits like any other: drop any at the ends or doubled.
    return [" ".join(ids_to_text(row).split()) for row in keras.ops.convert_to_numpy(decoded)[0]]


def error_rates(references, hypotheses):
    """(character error rate, word error rate) by jiwer: total edits (substitutions, deletions,
    insertions) over the total length of the references, in characters (spaces included) and words."""
    import jiwer

    references, hypotheses = list(references), list(hypotheses)
    return float(jiwer.cer(references, hypotheses)), float(jiwer.wer(references, hypotheses))


def predict_logits(model, features, batch_size=64):
    return np.asarray(model.predict(features, batch_size=batch_size, verbose=0))


def decode_split(model, data, config, split="test", count=None):
    """Greedy and beam-search transcripts of a split's first `count` utterances (all when None).

    Array data is predicted in one call; an Utterances PyDataset (LibriSpeech) batch by batch
    (batch 0, 1, ...: the order of its texts), each batch padded only to its own longest utterance.

    Returns:
        (logits, valid output frames (N,), greedy [str], beam [str]); logits is (N, T_out,
        NUM_CLASSES) for array data and a list of (T_out_i, NUM_CLASSES) arrays for a PyDataset,
        so logits[i][: lengths[i]] is utterance i's valid output frames either way.
    """
    batches = data[split]
    if not isinstance(batches, librispeech.Utterances):
        features = batches[0][:count]
        logits = predict_logits(model, features)
        lengths = output_lengths(data["lengths"][split][:count], features.shape[1], logits.shape[1])
        return logits, lengths, decode(logits, lengths, 1), decode(logits, lengths, config["beam_width"])
    total = len(batches.texts) if count is None else min(count, len(batches.texts))
    logits, lengths, greedy, beam = [], [], [], []
    for b in range(len(batches)):
        members = batches.members(b)  # positions in the order of data["texts"][split]
        if members.start >= total:
            break
        x, _ = batches.batch(b)  # the whole batch, as in evaluation, so its padding is the same
        keep = min(len(members), total - members.start)
        out = np.asarray(model.predict_on_batch(x))[:keep]  # (keep, T_out, NUM_CLASSES)
        valid = output_lengths(batches.lengths[members.start : members.start + keep], x.shape[1], out.shape[1])
        logits.extend(out[i, : valid[i]] for i in range(keep))
        lengths.extend(valid.tolist())
        greedy.extend(decode(out, valid, 1))
        beam.extend(decode(out, valid, config["beam_width"]))
    return logits, np.array(lengths, dtype=np.int32), greedy, beam


def utterance_features(data, split, i):
    """Utterance i's valid log-mel frames (T_i, num_mels) of a split, from arrays or an Utterances PyDataset."""
    if isinstance(data[split], librispeech.Utterances):
        return data[split].utterance(i)
    return data[split][0][i, : int(data["lengths"][split][i])]


# What `evaluate` returns; the out-of-family pair only for synthesized data.
METRICS = ("cer", "wer", "cer_greedy", "wer_greedy", "cer_beam", "wer_beam", "cer_out_of_family", "wer_out_of_family")


def evaluate(model, data, config, split="test"):
    """CER and WER of greedy and beam-search decoding on a split (test = unseen speakers of the
    training voices' family), and greedy CER/WER on the out-of-family split when the data has one
    (voices of espeak-ng's Klatt synthesizer, which no config trains on).

    Returns:
        {"cer", "wer" (greedy), "cer_greedy", "wer_greedy", "cer_beam", "wer_beam",
        "cer_out_of_family", "wer_out_of_family"}.
    """
    _, _, greedy, beam = decode_split(model, data, config, split)
    references = data["texts"][split]
    metrics = {}
    for name, hypotheses in (("greedy", greedy), ("beam", beam)):
        metrics[f"cer_{name}"], metrics[f"wer_{name}"] = error_rates(references, hypotheses)
    metrics["cer"], metrics["wer"] = metrics["cer_greedy"], metrics["wer_greedy"]
    if "out_of_family" in data:
        _, _, greedy, _ = decode_split(model, data, {**config, "beam_width": 1}, "out_of_family")
        metrics["cer_out_of_family"], metrics["wer_out_of_family"] = error_rates(data["texts"]["out_of_family"], greedy)
    return metrics


MIN_SECONDS = 0.1  # shortest recording `transcribe` accepts (its longest is config["max_seconds"])


class UnusableAudio(speech.AudioError, ConfigError):
    """An audio file `transcribe` refuses; a ConfigError, so `recipe transcribe` prints its one line (exit 2)."""


class Transcript(tuple):
    """A (path, text) pair from `transcribe`, with `.reason` and `.notes`.

    text is None for a file with no speech in it, and reason then says why in a few words
    (recording.speech_present's reason); notes are one-line remarks about the recording
    for the user (e.g. clipping), from recording.clean.
    """

    def __new__(cls, path, text, reason=None, notes=()):
        pair = super().__new__(cls, (path, text))
        pair.reason, pair.notes = reason, tuple(notes)
        return pair


def read_audio(path, config):
    """A recording's mono samples and rate, or UnusableAudio naming the problem and the fix.

    WAV files are read by speech.read_wav, FLAC and OGG (and whatever else libsndfile reads)
    by soundfile; several channels are mixed to mono. Accepted: recording.RATE_MIN to
    recording.RATE_MAX Hz, MIN_SECONDS to config["max_seconds"] long.
    """
    from recipes.common import recording

    path = Path(path)
    try:
        if path.suffix.lower() == ".wav" or not path.is_file():  # read_wav words missing files and directories
            waveform, rate = speech.read_wav(path)
        else:
            import soundfile

            try:
                samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
                raise UnusableAudio(
                    f"{path} is not audio soundfile can read ({(str(error).splitlines() or [type(error).__name__])[0].rstrip('.')}): "
                    "use WAV, FLAC or OGG, e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 out.wav`"
                ) from None
            if not len(samples):
                raise UnusableAudio(f"{path} has no audio samples: record or export it again")
            waveform = samples.mean(axis=1)
        recording.check_rate(rate, path)
    except speech.AudioError as error:
        raise UnusableAudio(str(error)) from None
    seconds = len(waveform) / rate
    if seconds > config["max_seconds"]:
        raise UnusableAudio(f"{path} is {seconds:.1f} s long; the limit is {config['max_seconds']:g} s: cut it into shorter pieces")
    if seconds < MIN_SECONDS:
        raise UnusableAudio(f"{path} is {seconds * 1000:.0f} ms long; a recognizer needs at least {MIN_SECONDS * 1000:.0f} ms of speech")
    return waveform, rate


def transcribe_waveform(model, waveform, sample_rate, config, beam_width=None):
    """The transcript of one utterance (float samples at `sample_rate` Hz) by a trained recognizer."""
    waveform = speech.resample(waveform, sample_rate, config["sample_rate"])
    features, lengths = speech.log_mel([waveform], config)
    logits = predict_logits(model, features)
    lengths = output_lengths(lengths, features.shape[1], logits.shape[1])
    return decode(logits, lengths, config["beam_width"] if beam_width is None else beam_width)[0]


def transcribe(model, config, paths, beam_width=None):
    """[Transcript (path, text)] of recordings (WAV, FLAC, OGG; 8-48 kHz; mixed to mono) by a trained recognizer.

    `model` is the recognizer, or a function of no arguments that loads it: it is called once
    every file has been read and checked, so a bad file is refused before any model loads,
    and only if some file holds speech. Each file is checked for speech
    (recording.speech_present: a file without gets text None and the reason, and never
    reaches the model), cleaned (recording.clean: DC removed, silence trimmed, level set;
    clipping becomes a note), resampled to the training rate and decoded greedily
    (beam_width 1) or by beam search (default: config["beam_width"]).

    Raises:
        UnusableAudio: a file that is missing, not audio, empty, in a sample format it cannot
            read, sampled outside 8-48 kHz, shorter than MIN_SECONDS or longer than config["max_seconds"].
    """
    from recipes.common import recording

    audio = [(path, *read_audio(path, config)) for path in paths]
    results = []
    for path, waveform, rate in audio:
        present, reason = recording.speech_present(waveform, rate)
        if present:
            waveform, notes = recording.clean(waveform, rate)
            results.append((path, waveform, rate, None, notes))
        else:
            results.append((path, None, rate, reason, []))
    if any(waveform is not None for _, waveform, _, _, _ in results) and not hasattr(model, "predict"):  # a loader
        model = model()
    return [
        Transcript(path, None if waveform is None else transcribe_waveform(model, waveform, rate, config, beam_width), reason, notes)
        for path, waveform, rate, reason, notes in results
    ]


def posteriorgram_figure(features, logits, reference, hypothesis, config, path, title):
    """Log-mel spectrogram over the CTC posteriorgram, with each emitted character at its frame.

    Args:
        features: (T, num_mels) valid frames of one utterance.
        logits: (T_out, NUM_CLASSES) the model's valid output frames for it.
        reference, hypothesis: the true and the decoded transcript.
        path: where to save (PNG/SVG).
    """
    from recipes.common import style

    hop = config["hop_ms"] / 1000
    seconds_in = features.shape[0] * hop
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    frame_out = seconds_in / logits.shape[0]
    best = probs.argmax(-1)
    # Rows: the blank, then only the characters this utterance uses or emits.
    used = sorted({ALPHABET.index(c) + 1 for c in reference + hypothesis} | set(best[best > 0].tolist()))
    rows = [BLANK] + used
    labels = ["blank"] + ["space" if ALPHABET[i - 1] == " " else ALPHABET[i - 1] for i in used]

    fig, (top, bottom) = style.subplots(2, 1, figsize=(10, 6.2), sharex=True, height_ratios=[1, 1.4])
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds_in, 0, features.shape[1]))
    top.set_ylabel("mel band")
    # pad: room for the emitted characters written above the spectrogram.
    top.set_title(f"{title}\nreference: “{reference}”   decoded: “{hypothesis}”", fontsize=11, pad=18)
    bottom.imshow(
        probs[:, rows].T,
        origin="upper",
        aspect="auto",
        cmap="Greys",
        vmin=0,
        vmax=1,
        extent=(0, seconds_in, len(rows) - 0.5, -0.5),
        interpolation="nearest",
    )
    bottom.set_yticks(range(len(rows)), labels, fontsize=8)
    bottom.set_ylabel("CTC output (probability)")
    bottom.set_xlabel("time (s)")
    # The greedy path's emissions: the first frame of each run of a non-blank character.
    previous = BLANK
    for t, c in enumerate(best.tolist()):
        if c != BLANK and c != previous:
            x = (t + 0.5) * frame_out
            character = ALPHABET[c - 1]
            bottom.plot(x, rows.index(c), "o", ms=4, color=style.SERIES[0])
            top.axvline(x, color="white", lw=0.6, alpha=0.6)
            top.text(x, features.shape[1] * 1.02, "␣" if character == " " else character, ha="center", va="bottom", fontsize=9, clip_on=False)
        previous = c
    return style.save(fig, path)


def filters_figure(kernels, config, path, title, strength=None, count=24, columns=8):
    """First-layer filters over (time, mel) as small images, the `count` strongest, sorted by mel band.

    Args:
        kernels: (filters, time frames, mel bands) weights of a convolution over log-mel frames.
        config: holds hop_ms (the frame step).
        path: where to save.
        title: the figure's title.
        strength: (filters,) how strongly each filter drives the next layer; by default
            its weight norm (pass e.g. a batch norm's gain times it).
        count, columns: filters drawn, images per row.

    Each image has its own symmetric colour scale: red where the filter adds (energy in that
    band at that moment raises the output), blue where it subtracts (features are normalized).
    """
    from recipes.common import style

    kernels = np.asarray(kernels)
    if strength is None:
        strength = np.sqrt((kernels**2).sum(axis=(1, 2)))
    chosen = np.argsort(-np.asarray(strength))[:count]
    peak_band = [np.abs(kernels[i]).sum(0).argmax() for i in chosen]  # low bands first
    chosen = chosen[np.argsort(peak_band, kind="stable")]
    rows = int(np.ceil(len(chosen) / columns))
    width_ms = kernels.shape[1] * config["hop_ms"]
    fig, axes = style.subplots(rows, columns, figsize=(1.3 * columns, 1.75 * rows + 0.9), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, chosen):
        image = kernels[i].T  # mel up, time across
        limit = np.abs(image).max() or 1.0
        ax.imshow(
            image,
            origin="lower",
            aspect="auto",
            cmap=style.WEIGHT_CMAP,
            vmin=-limit,
            vmax=limit,
            extent=(0, width_ms, 0, kernels.shape[2]),
            interpolation="nearest",
        )
        ax.set_title(f"filter {i}", fontsize=8, pad=2)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel(f"each image: time left to right ({width_ms} ms); red adds, blue subtracts", fontsize=9)
    fig.supylabel(f"mel bands, low at the bottom (each filter spans {kernels.shape[2]})", fontsize=9)
    return style.save(fig, path)


def write_transcripts(references, greedy, beam, voices, beam_width, path):
    """A text table of test utterances: voice, reference, greedy and beam transcripts with their CER; * marks errors."""
    lines = [
        "# Test utterances (voices never heard in training): reference, greedy decoding, "
        f"beam search (width {beam_width}). * = differs from the reference.",
        "",
    ]
    for i, (reference, g, b, voice) in enumerate(zip(references, greedy, beam, voices)):
        lines.append(f"[{i}] voice {voice}")
        lines.append(f"    reference: {reference}")
        for name, hypothesis in (("greedy", g), ("beam", b)):
            cer, _ = error_rates([reference], [hypothesis])
            lines.append(f"  {'*' if hypothesis != reference else ' '} {name + ':':10s} {hypothesis}   (CER {cer:.2f})")
        lines.append("")
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def demo(model, data, config, out_dir, title, count=12):
    """What a trained recognizer does on test utterances of unseen voices, as files.

    Args:
        model, data, config: the trained recognizer, load_spoken_digits' dict, its config.
        out_dir: folder to write into.
        title: the posteriorgram's title, a format string with {voice} and {cer}.
        count: test utterances decoded into transcripts.txt.

    Returns:
        [posteriorgram.png (the first of them with four or more digits), transcripts.txt,
        test_utterance.wav (that utterance, to try `recipe transcribe` on)].
    """
    out_dir = Path(out_dir)
    logits, lengths, greedy, beam = decode_split(model, data, config, "test", count)
    references, voices = data["texts"]["test"][:count], data["voices"]["test"][:count]
    pick = next((i for i, r in enumerate(references) if len(r.split()) >= 4), 0)
    cer, _ = error_rates([references[pick]], [greedy[pick]])
    return [
        posteriorgram_figure(
            utterance_features(data, "test", pick),
            logits[pick][: lengths[pick]],
            references[pick],
            greedy[pick],
            config,
            out_dir / "posteriorgram.png",
            title.format(voice=voices[pick], cer=cer),
        ),
        write_transcripts(references, greedy, beam, voices, config["beam_width"], out_dir / "transcripts.txt"),
        str(speech.write_wav(out_dir / "test_utterance.wav", data["waveforms"]["test"][pick], config["sample_rate"])),
    ]
