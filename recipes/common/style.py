"""One figure style for every Matplotlib figure the project writes.

One colour per gate (the same in every figure), a short qualitative palette for
series, and reproducible files: a fixed `svg.hashsalt` and no dates or software
stamps in the metadata, so the same figure gives the same bytes.
"""

import matplotlib

matplotlib.use("Agg")  # no screen needed; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402

# One colour per gate, used in every figure: LSTM i f c o, GRU z r h.
GATE_COLORS = {
    "i": "#1b9e77",  # input gate
    "f": "#d95f02",  # forget gate
    "c": "#7570b3",  # candidate cell
    "o": "#e7298a",  # output gate
    "z": "#66a61e",  # GRU update gate
    "r": "#e6ab02",  # GRU reset gate
    "h": "#a6761d",  # candidate / basic RNN state
}
GATE_TITLES = {
    "i": "input gate i",
    "f": "forget gate f",
    "c": "candidate c",
    "o": "output gate o",
    "z": "update gate z",
    "r": "reset gate r",
    "h": "candidate h",
}
# Series colours for line plots (colour-blind-safe, Okabe-Ito order).
SERIES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# Themes of the book-notation diagrams (`recipe diagram`, `recipe atlas`): page, text, node fills per
# role, and one colour per weight letter (U input-to-hidden, W hidden-to-hidden, V hidden-to-output,
# R output-to-hidden), the same letter always in the same colour.
THEMES = {
    "light": {
        "page": "#ffffff",
        "ink": "#1f2328",
        "muted": "#59636e",
        "edge": "#59636e",
        "fill": {"input": "#ffffff", "hidden": "#e8eef6", "output": "#f5efe3", "loss": "#f9e6e6", "target": "#ffffff", "summary": "#ece8f5"},
        "band": "#eceff3",
        "weights": {"U": "#0072B2", "W": "#D55E00", "V": "#009E73", "R": "#CC79A7"},
    },
    "dark": {
        "page": "#16181c",
        "ink": "#e6e8eb",
        "muted": "#a3acb6",
        "edge": "#a3acb6",
        "fill": {"input": "#16181c", "hidden": "#22304a", "output": "#3b3222", "loss": "#43262a", "target": "#16181c", "summary": "#2f2946"},
        "band": "#262b33",
        "weights": {"U": "#56B4E9", "W": "#F58C4C", "V": "#3CC79B", "R": "#E39AC8"},
    },
}
# Diverging map for weights (one symmetric scale around zero).
WEIGHT_CMAP = "RdBu_r"

_RC = {
    "svg.hashsalt": "rnn-recipes",
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=SERIES),
    "legend.frameon": False,
}
plt.rcParams.update(_RC)

# Metadata keys that carry dates or versions, per output format.
_NO_STAMPS = {
    "svg": {"Date": None, "Creator": None},
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
}


def subplots(*args, **kwargs):
    """`plt.subplots` with the house style applied (use this, not pyplot directly)."""
    with plt.rc_context(_RC):
        return plt.subplots(*args, **kwargs)


def save(fig, path):
    """Write `fig` to `path` (format from the suffix) without dates or version stamps, then close it.

    Args:
        fig: a Matplotlib figure.
        path: str or Path ending in .png, .svg or .pdf.

    Returns:
        The path as a str.
    """
    path = str(path)
    suffix = path.rsplit(".", 1)[-1].lower()
    fig.savefig(path, metadata=_NO_STAMPS.get(suffix))
    plt.close(fig)
    return path
