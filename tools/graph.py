"""Computation-graph figures: `keras.utils.model_to_dot`, stable node ids, and a renderer found without system packages.

Keras names dot nodes by `id(layer)`, which changes every run; we rename every node
to its layer path (`encoder/encoder_lstm`) so the same model gives the same SVG byte
for byte. Rendering uses a `dot` on PATH when there is one, else the `graphviz-pure`
binary that pip installs next to the venv's python. graphviz-pure writes no PDF, so
a PDF is converted from the SVG with svglib/reportlab (vector, no system library).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tools.errors import UsageError, unwritable

FORMATS = ("svg", "png", "pdf")
# 72 dpi is the SVG's own unit (1 pt = 1 px): Keras' default 200 makes SVGs ~2.8x too large.
# PNGs get 2x that for sharp text on high-density screens.
_DPI = {"svg": 72, "pdf": 72, "png": 144}
_LONG_NUMBER = re.compile(r"(?<![\w.])(\d{6,})(?![\w.])")


def renderer():
    """Path of the program that lays out dot text: `dot` on PATH, else graphviz-pure.

    Raises:
        UsageError: neither is installed.
    """
    for candidate in (shutil.which("dot"), Path(sys.executable).parent / "graphviz-pure", shutil.which("graphviz-pure")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise UsageError("No Graphviz renderer found. Run 'pip install -r requirements.txt' (it installs graphviz-pure) or install Graphviz.")


def _node_names(model, prefix=""):
    """{str(id(layer)): 'path/name'} for every layer and nested model, in graph order."""
    names = {}
    for layer in getattr(model, "_operations", None) or getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        names[str(id(layer))] = path
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):  # a nested Functional/Sequential model
            names.update(_node_names(layer, prefix=f"{path}/"))
    return names


def model_dot(model, rankdir="TB", dpi=72):
    """The dot text of `model` with shapes, nested models expanded, and nodes named by layer path.

    Args:
        model: a built Keras model.
        rankdir: "TB" (top to bottom) or "LR".
        dpi: resolution written into the graph.

    Returns:
        The dot source as a str.
    """
    import keras

    dot = keras.utils.model_to_dot(
        model, show_shapes=True, show_layer_names=True, expand_nested=True, rankdir=rankdir, dpi=dpi, show_layer_activations=True
    )
    dot.set("fontname", "Helvetica")
    dot.set("bgcolor", "white")
    names = _node_names(model)
    # Replace only the id tokens Keras generated; shapes and labels hold no 6+ digit numbers.
    text = _LONG_NUMBER.sub(lambda m: '"' + names[m.group(1)] + '"' if m.group(1) in names else m.group(1), dot.to_string())
    for layer in _all_layers(model):
        inner = _inner_kind(layer)
        if inner:
            kind = type(layer).__name__
            text = text.replace(f"<b>{layer.name}</b> ({kind})", f"<b>{layer.name}</b> ({kind} of {inner})")
    return text


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):
            yield from _all_layers(layer)


def _inner_kind(layer):
    """What a generic box hides: the cell of an RNN, the layer inside Bidirectional/TimeDistributed."""
    if type(layer).__name__ == "RNN" and hasattr(layer, "cell"):
        return type(layer.cell).__name__
    if type(layer).__name__ == "Bidirectional":
        return _describe(layer.forward_layer)
    if type(layer).__name__ == "TimeDistributed":
        return _describe(layer.layer)
    return None


def _describe(layer):
    inner = _inner_kind(layer)
    return f"{type(layer).__name__}[{inner}]" if inner else type(layer).__name__


def output_format(out, fmt=None):
    """The format to write: `fmt`, else --out's suffix, else svg.

    Raises:
        UsageError: --out's suffix names another format than `fmt`, or one we cannot write.
    """
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    if fmt and suffix and suffix != fmt:
        raise UsageError(f"--out '{out}' ends in .{suffix} but --format is {fmt}. Make them agree, e.g. --out {Path(out).with_suffix('.' + fmt)}.")
    if not fmt and suffix and suffix not in FORMATS:
        raise UsageError(f"--out '{out}' ends in .{suffix}, which is not a graph format. Use .svg, .png or .pdf (or --format).")
    return fmt or suffix or "svg"


def render(dot_text, fmt, path):
    """Lay out `dot_text` and write it to `path` as svg, png or pdf."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format '{fmt}'. Use one of: {', '.join(FORMATS)}.")
    path = Path(path)
    program = renderer()
    svg_first = fmt == "pdf" and Path(program).name != "dot"
    result = subprocess.run([program, f"-T{'svg' if svg_first else fmt}"], input=dot_text.encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{program} failed: {result.stderr.decode(errors='replace').strip()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if svg_first:
            _svg_to_pdf(result.stdout, path)
        else:
            path.write_bytes(result.stdout)
    except OSError as error:
        raise unwritable(path, error) from None
    return path


def _svg_to_pdf(svg_bytes, path):
    import io

    from reportlab import rl_config
    from reportlab.graphics import renderPDF
    from svglib.svglib import svg2rlg

    rl_config.invariant = 1  # no creation date or random document id: same bytes every time
    renderPDF.drawToFile(svg2rlg(io.BytesIO(svg_bytes)), str(path))


def plot_model(model, path, fmt="svg", rankdir="TB"):
    """Write the computation graph of `model` to `path` in `fmt`; returns the Path."""
    return render(model_dot(model, rankdir=rankdir, dpi=_DPI.get(fmt, 72)), fmt, path)
