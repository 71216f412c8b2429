"""The Deep Learning book's figures of a derived architecture: the circuit (folded) and the unrolled graph.

Both views are built as plain graphs first (`circuit_graph`, `unrolled_graph`: nodes with a
position, a book-notation label and a style; edges with a weight letter), which the tests
compare with the book's figures as node and edge sets, then drawn by one Matplotlib
renderer (`draw`) in the house style: the same weight letter always in the same colour,
real sub- and superscripts (STIX math), light and dark themes, and the same bytes for the
same model (`recipes.common.style.save`). A key under each figure names the Keras layer
behind every symbol, so the book's picture and the code meet.

Notation (Goodfellow, Bengio & Courville 2016, ch. 10): x input, h hidden state (g for a
backward chain, s for a decoder), o output, L loss, y target; U input-to-hidden, W
hidden-to-hidden, V hidden-to-output and R output-to-hidden weights (the book's fig. 10.4
writes W for output-to-hidden and fig. 10.9 swaps U and R: here each letter keeps one role
everywhere); a black square on an edge is a delay of one time step.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

from recipes.common.style import THEMES
from tools.architecture import receptive_field

# Geometry in inches (the axes span the figure: 1 data unit = 1 inch = 72 pt).
RADIUS = 0.28
ROW = 0.8
COLUMN = 1.12
MARGIN = 0.3
FONT = 15  # node labels
LABEL = 13  # weight letters
SMALL = 9.5  # key, notes
PAIR = 0.75  # half the distance between a Bidirectional layer's two chains (circuit)
SIDE = 0.9  # distance from a chain to its output-feedback route (circuit)

LETTER_MEANING = {"U": "input → hidden", "W": "hidden → hidden", "V": "hidden → output", "R": "output → hidden"}


@dataclass
class Node:
    """A drawn node: `label` is Matplotlib mathtext; `shape` circle | box | band | text."""

    id: str
    label: str
    x: float
    y: float
    style: str = "hidden"
    shape: str = "circle"
    width: float = 0.0
    height: float = 0.0
    name: str = ""  # the book name when the label is not one (a merge, a block)

    def book(self):
        """The node's name in plain book notation: h2(t-1), ŷ(t), C, L(τ); what the tests compare."""
        if self.name:
            return self.name
        import re

        text = self.label.strip("$").replace(r"\tau", "τ")
        text = re.sub(r"\\hat\{\\boldsymbol\{(\w)\}\}", "\\1\u0302", text)
        text = re.sub(r"\\boldsymbol\{(\w)\}", r"\1", text)
        import unicodedata

        return unicodedata.normalize("NFC", re.sub(r"[{}_^]", "", text))


@dataclass
class Edge:
    """A drawn edge. `letter` is a weight (U, W, V, R: coloured); `text` any other label."""

    source: str
    target: str
    letter: str = ""
    subscript: str = ""
    text: str = ""
    dashed: bool = False
    bend: float = 0.0
    delay: bool = False
    faint: bool = False
    label_at: float = 0.5


@dataclass
class Graph:
    """One figure: nodes, edges, recurrence loops, routed feedback edges, free text and a key."""

    title: str = ""
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    loops: list = field(default_factory=list)  # (node id, letter, subscript, side, delay): a tree's loop has no delay
    routes: list = field(default_factory=list)  # (points, letter, subscript, dashed, text, delay, source id, target id)
    texts: list = field(default_factory=list)  # (x, y, text, size, ha, colour key, bold)
    key: list = field(default_factory=list)  # (symbol mathtext, description)

    def add(self, node):
        self.nodes[node.id] = node
        return node

    def edge(self, *args, **kwargs):
        self.edges.append(Edge(*args, **kwargs))
        return self.edges[-1]

    def letters(self):
        used = {e.letter for e in self.edges} | {loop[1] for loop in self.loops} | {route[1] for route in self.routes}
        return [letter for letter in "UWVR" if letter in used]

    def topology(self):
        """(node names, {(source, target, weight letter)}) in book notation: what the tests compare with the book.

        Nodes are named as the book writes them (h(t-1), y(t), C), so a teacher-forced input
        y(t-1) and the target y(t-1) are one node, as in fig. 10.6. An edge through a "…"
        gap (h(2) -> … -> h(τ)) is one edge; "…" stubs at the ends are left out; a
        recurrence loop is (h, h, "W").
        """
        nodes = self.nodes
        drawn = {node.book() for node in nodes.values() if node.shape != "text"}
        edges = set()
        for e in self.edges:
            a, b = nodes[e.source], nodes[e.target]
            if a.shape == "text":
                continue
            if b.shape == "text":  # through a gap: continue to what the gap leads to
                onward = [o for o in self.edges if o.source == b.id and nodes[o.target].shape != "text"]
                edges |= {(a.book(), nodes[o.target].book(), e.letter) for o in onward}
                continue
            edges.add((a.book(), b.book(), e.letter))
        edges |= {(nodes[node].book(), nodes[node].book(), letter) for node, letter, *_ in self.loops}
        edges |= {(nodes[source].book(), nodes[target].book(), letter) for _, letter, *_, source, target in self.routes}
        return drawn, edges


# --- Notation. ---


def vector(symbol, step=None, level="", hat=False):
    """Mathtext of a bold vector with an optional level subscript and time superscript: h_2^(t)."""
    body = rf"\hat{{\boldsymbol{{{symbol}}}}}" if hat else rf"\boldsymbol{{{symbol}}}"
    sub = f"_{{{level}}}" if level else ""
    sup = f"^{{({step})}}" if step is not None else ""
    return f"${body}{sub}{sup}$"


def _symbol(part):
    return {"hidden": "h", "attention": "c", "summary": "C", "feedback": "y", "tree": "h"}.get(part.kind, part.symbol)


def _level(part):
    """The level subscript of a chain in a stack ('' for a single layer)."""
    if part.kind != "chain" or part.info.get("levels", 1) <= 1:
        return ""
    return str(part.info["level"])


def weight_subscript(arch, chain_id):
    """Subscript of a chain's weights: its level in a stack, its symbol when chains of several kinds exist."""
    part = arch.parts.get(chain_id)
    chains = arch.chains()
    if part is None or part.kind != "chain" or len(chains) <= 1:
        return ""
    if len({chain.symbol for chain in chains}) == 1:
        return _level(part)
    return f"{part.symbol}{_level(part)}"


def _cell_text(cell):
    kind = {"lstm": "LSTM", "gru": "GRU", "basic": "tanh RNN", "leaky": "leaky tanh reservoir", "deep_transition": "deep-transition tanh"}
    text = kind.get(cell.get("cell"), cell.get("class", "cell"))
    extras = []
    if cell.get("cell") == "deep_transition":
        extras.append(f"{cell.get('depth')}-layer transition")
    if cell.get("peephole"):
        extras.append("peepholes")
    if cell.get("trainable") is False:
        extras.append("fixed weights")
    if cell.get("wrapper"):
        extras.append(f"in {cell['wrapper']}")
    return text + (f" ({', '.join(extras)})" if extras else "")


def key_entries(arch):
    """(symbol, what it is in this model) for every part: the figure's key."""
    entries = []
    for part in arch.parts.values():
        info, layer = part.info, part.layer
        if part.kind == "input" and not _front_end_of(arch, part):
            tree = any(arch.parts[link.target].kind == "tree" for link in arch.links_from(part.id))
            entries.append((vector("x"), f"{layer}: {'the token at each tree node' if tree else 'input sequence'}"))
        elif part.kind == "context":
            entries.append((vector("x"), f"{layer}: one fixed input vector"))
        elif part.kind == "feedback":
            entries.append((vector("y", "t-1"), f"{layer}: the true previous output in training (teacher forcing)"))
        elif part.kind == "chain" and info.get("bidirectional"):
            if info.get("direction") == "forward":
                twin = _twin(arch, part)
                merge = next((arch.parts[link.target] for link in arch.links_from(part.id, "merge")), None)
                symbols = f"{vector('h', level=_level(part))[:-1]},{vector('g', level=_level(twin))[1:]}"
                merged = f", merged per step by {merge.info.get('mode')} {_merge_label(merge)}" if merge is not None else ""
                entries.append((symbols, f"{info['bidirectional']}: {_cell_text(info['cell'])}, {info.get('units')} units each way{merged}"))
        elif part.kind == "chain":
            entries.append((vector(part.symbol, level=_level(part)), f"{layer}: {_cell_text(info['cell'])}, {info.get('units')} units"))
        elif part.kind == "hidden":
            entries.append((vector("h"), f"{layer}: {info.get('activation')} layer, {info.get('units')} units, no h → h"))
        elif part.kind == "tree":
            entries.append((vector("h"), f"{layer}: one composition applied at every tree node, {info.get('units')} units"))
        elif part.kind == "input" and _front_end_of(arch, part):
            entries.append(("", f"{layer}: input frames, read by convolutions"))
        elif part.kind == "summary":
            entries.append((r"$\boldsymbol{C}$", "context: the encoder's final states"))
        elif part.kind == "attention":
            entries.append((vector("c"), f"{layer}: attention context, a weighted sum of all encoder steps"))
        elif part.kind == "conv":
            names = [entry["name"] for entry in info["layers"]]
            span = f"{names[0]} … {names[-1]}" if len(names) > 1 else names[0]
            entries.append(("", f"{span}: {_conv_text(part)}"))
            if _feeds_chains(arch, part):
                entries.append((vector("x"), "what the convolutions give the recurrent layers at each step"))
        elif part.kind == "reduce":
            entries.append(("", f"{layer}: {info['label']}" + (" node's vector" if info["label"] == "root" else "")))
        elif part.kind == "output":
            when = "at every step" if info.get("per_step") else "after the whole input"
            plural = "s" if info.get("units") != 1 else ""
            entries.append((vector("o"), f"{layer}: {info.get('units')} output{plural} {when}"))
    if arch.loss:
        how = "one CTC loss over all steps" if arch.loss.get("sequence") else arch.loss["name"].replace("_", " ")
        entries.append(("$L$", f"loss: {how}, against the target $\\boldsymbol{{y}}$"))
    return entries


def _feeds_chains(arch, part):
    """True for a convolution block that feeds recurrent layers (a front end: its output is their x)."""
    return part.kind == "conv" and any(arch.parts[link.target].kind == "chain" for link in arch.links_from(part.id))


def _front_end_of(arch, part):
    """The convolution block that reads input `part` as frames, or None: a front end of recurrent layers, or a
    block with a time stride (its steps are not the input's, so the input is drawn as frames, not x(t))."""
    for link in arch.links_from(part.id):
        block = arch.parts[link.target]
        if block.kind == "conv" and (_feeds_chains(arch, block) or receptive_field(block)[1] > 1):
            return block
    return None


def _merge_label(part):
    return {"concat": r"$[\,;\,]$", "sum": "$+$", "ave": r"$\frac{1}{2}\!+$", "mul": r"$\times$"}.get(part.info.get("mode"), "?")


def _conv_text(part, lines=False):
    """What a convolution block is: its count, context (receptive field) and stride, on one line or two."""
    size, stride, causal = receptive_field(part)
    count = sum(1 for layer in part.info["layers"] if "Pool" not in layer["type"])
    text = f"{count} convolution{'s' if count > 1 else ''}, {'causal, ' if causal else ''}{size} steps of context"
    if stride > 1:
        text += ("\n" if lines else ", ") + f"stride {stride}: one step per {stride} input frames"
    return text


def book_figure(arch):
    """The Deep Learning book figure an architecture instantiates, or None (convolutions only)."""
    chains = arch.chains()
    kinds = {part.kind for part in arch.parts.values()}
    feedback = bool(arch.of_kind("feedback")) or any(c.info.get("output_feedback") for c in chains)
    decoder = any(c.info.get("decoder") for c in chains)
    if "tree" in kinds:
        return "10.14"
    if decoder and ("summary" in kinds or "attention" in kinds):
        return "10.12"
    if decoder:
        return "10.9"
    if not chains:
        return "10.4" if "hidden" in kinds and feedback else None
    if any(c.info.get("direction") == "backward" for c in chains):
        return "10.11"
    if any(o.info.get("after_sequence") for o in arch.of_kind("output")):
        return "10.5"
    if max(c.info.get("levels", 1) for c in chains) > 1:
        return "10.13"
    if feedback:
        return "10.10" if arch.of_kind("input") else "10.10 without x"
    return "10.3"


# --- Groups and rows shared by both views. ---


def _groups(arch):
    """{part id: 'enc' | 'dec' | 'mid' | 'main'}: an encoder-decoder is drawn as two groups side by side."""
    from tools.architecture import _reads_an_encoder

    decoders = [chain.id for chain in arch.chains() if chain.info.get("decoder") and _reads_an_encoder(arch, chain.id)]
    if not decoders:
        return dict.fromkeys(arch.parts, "main")
    group = {}
    for part in arch.parts.values():
        if part.id in decoders or part.kind == "attention":
            group[part.id] = "dec"
        elif part.kind == "feedback":
            group[part.id] = "dec" if any(link.target in decoders for link in arch.links_from(part.id)) else "enc"
        elif part.kind == "output":
            group[part.id] = "dec" if any(group.get(link.source) == "dec" for link in arch.links_into(part.id)) else "enc"
        elif part.kind == "summary":
            group[part.id] = "mid"
        else:
            group[part.id] = "enc"
    return group


_NOT_FORWARD = ("recurrence", "children", "query", "attended", "attention", "output_feedback")


def _twin(arch, chain):
    """The other direction of a Bidirectional layer's chain, or None."""
    if chain.kind != "chain" or not chain.info.get("bidirectional"):
        return None
    return next((c for c in arch.chains() if c.info.get("bidirectional") == chain.info["bidirectional"] and c.id != chain.id), None)


def _rows(arch, stacked_directions):
    """Row of every part (0 = inputs): the longest path over the links that move forward within a step.

    A summary C shares its encoder's row and hands over to a decoder on the same row; an
    attention context sits one row above its decoder; with `stacked_directions` a backward
    chain sits one row above its forward twin (unrolled view), else beside it (circuit).
    """
    row = {}
    for part in arch.parts.values():  # parts are in topological order
        if part.id in row:
            continue
        if part.kind in ("input", "feedback", "context"):
            row[part.id] = 0
            continue
        twin = _twin(arch, part)
        if twin is not None and twin.id in row:
            row[part.id] = row[twin.id] + (1 if stacked_directions else 0)
            continue
        best = 0
        for link in arch.links_into(part.id):
            if link.role in _NOT_FORWARD or link.source == part.id or link.source not in row:
                continue
            source = arch.parts[link.source]
            flat = link.role == "summary" or (link.role == "initial_state" and source.kind == "summary")
            gap = 2 if source.kind == "conv" and part.kind == "chain" else 1  # a front end's x between them
            best = max(best, row[link.source] + (0 if flat else gap))
        row[part.id] = best
        if part.info.get("attention"):
            row[part.info["attention"]] = best + 1
    return row


# --- The circuit (folded) view. ---


def circuit_positions(arch):
    """{part id: (x, y)} of the folded figure: chains on a spine, what they read below, what reads them above."""
    group = _groups(arch)
    row = _rows(arch, stacked_directions=False)
    x = {}
    for part in arch.chains() + arch.of_kind("hidden", "tree"):
        offset = 0.0
        if part.info.get("bidirectional"):
            offset = -PAIR if part.info.get("direction") == "forward" else PAIR
        x[part.id] = offset
    encoder_width = max((abs(x[p]) for p in x if group[p] == "enc"), default=0.0)
    for pid in x:
        if group[pid] == "dec":
            x[pid] += encoder_width + 3.0
    for part in arch.of_kind("attention"):
        decoder = next(link.target for link in arch.links_from(part.id, "attended"))
        x[part.id] = x[decoder] - 1.1
    for part in arch.parts.values():  # downstream, in topological order
        if part.id in x or part.kind in ("input", "feedback", "context", "conv"):
            continue
        sources = [x[link.source] for link in arch.links_into(part.id) if link.source in x and link.source != part.id and link.role != "query"]
        if part.kind == "summary":
            targets = [x[link.target] for link in arch.links_from(part.id) if link.target in x]
            x[part.id] = (max(sources, default=0.0) + min(targets, default=0.0)) / 2
        else:
            x[part.id] = sum(sources) / len(sources) if sources else 0.0
    readers = {}  # inputs under the first part that reads them, leftwards (loops take the right): fed-back output, sequence, context
    order = {"feedback": 0, "input": 1, "context": 2}
    for part in sorted(arch.of_kind("input", "feedback", "context"), key=lambda p: order[p.kind]):
        targets = [link.target for link in arch.links_from(part.id) if link.target in x]
        readers.setdefault(targets[0] if targets else None, []).append(part.id)
    for reader, inputs in readers.items():
        centre = x.get(reader, 0.0)
        if reader is not None and arch.parts[reader].kind == "conv":
            centre = 0.0
        for index, pid in enumerate(inputs):
            x[pid] = centre - index * 1.0
    for part in reversed(list(arch.parts.values())):  # convolution blocks under their readers
        if part.id in x:
            continue
        targets = [x[link.target] for link in arch.links_from(part.id) if link.target in x]
        x[part.id] = sum(targets) / len(targets) if targets else 0.0
    for part in arch.of_kind("input", "feedback", "context"):  # an input read by a block sits under it
        blocks = [link.target for link in arch.links_from(part.id) if arch.parts[link.target].kind == "conv"]
        if blocks:
            x[part.id] = x[blocks[0]]
    y = {pid: row[pid] * ROW for pid in arch.parts}
    for part in arch.of_kind("summary"):
        y[part.id] -= 1.2 * ROW  # low between the groups: the edges into it pass under the encoder's loops
    return {pid: (x[pid], y[pid]) for pid in arch.parts}


def _node(arch, part, x, y, step=None, label=None, node_id=None):
    """The drawn node of a part (at one step, labelled `step`, in the unrolled view)."""
    node_id = node_id or part.id
    if part.kind == "conv":
        label = _conv_text(part, lines=True)
        width = max(len(line) for line in label.splitlines()) * 0.075 + 0.3  # fits the text at the band's font size
        return Node(node_id, label, x, y, "conv", "band", width=width, height=0.3 + 0.18 * label.count("\n"), name="conv")
    if part.kind == "merge":
        return Node(node_id, _merge_label(part), x, y, "merge", "circle", width=0.16, name=f"m({step})" if step else "m")
    if part.kind == "reduce":
        return Node(node_id, part.info["label"], x, y, "reduce", "box", width=1.7, height=0.36, name=part.info["label"])
    style = {"input": "input", "feedback": "input", "context": "input", "output": "output", "summary": "summary", "attention": "summary"}.get(
        part.kind, "hidden"
    )
    if label is None:
        label = r"$\boldsymbol{C}$" if part.kind == "summary" else vector(_symbol(part), step, _level(part))
    return Node(node_id, label, x, y, style)


def circuit_graph(arch, title=""):
    """The folded figure: one node per part, recurrence as a loop through a delay square."""
    graph = Graph(title=title, key=key_entries(arch))
    positions = circuit_positions(arch)
    for part in arch.parts.values():
        graph.add(_node(arch, part, *positions[part.id]))
        if _front_end_of(arch, part):
            node = graph.nodes[part.id]
            node.shape, node.style, node.label, node.width, node.height = "box", "input", f"{part.layer} frames", 1.7, 0.36
        if _feeds_chains(arch, part):
            x, y = positions[part.id]
            graph.add(Node(f"{part.id}:x", vector("x"), x, y + ROW, "input"))
            graph.edge(part.id, f"{part.id}:x")
    for link in arch.links:
        if _feeds_chains(arch, arch.parts[link.source]):
            graph.edge(f"{link.source}:x", link.target, "U", weight_subscript(arch, link.chain))
            continue
        _circuit_edge(arch, graph, link, positions)
    for output in arch.of_kind("output"):
        _add_loss(arch, graph, output.id, "", r"$L$", vector("y"))
    _add_feedback_routes(arch, graph)
    return graph


def _circuit_edge(arch, graph, link, positions):
    if link.role in ("recurrence", "children"):
        part = arch.parts[link.source]
        # Loops go where no edge leaves: left for a forward chain beside its twin or read out to C on its right.
        forward = part.info.get("direction") == "forward"
        side = "left" if forward and (part.info.get("bidirectional") or part.info.get("summarised")) else "right"
        graph.loops.append((link.source, "W", weight_subscript(arch, link.chain), side, link.role == "recurrence"))
        return
    if link.role == "output_feedback":
        return  # drawn by _add_feedback_routes: o -> delay -> y (or h)
    if link.role == "query":
        graph.edge(link.source, link.target, text="query", dashed=True, bend=-0.3, delay=True)
        return
    letter, subscript, text, bend = _edge_style(arch, link)
    (x0, y0), (x1, y1) = positions[link.source], positions[link.target]
    if abs(y1 - y0) > 1.5 * ROW and abs(x1 - x0) < 0.05:
        # A skip past a node on the way bends around it on the left, clear of the loops on the right;
        # skips from below (inputs) and to above (outputs) bulge by different amounts, so they do not meet.
        rows = abs(y1 - y0) / ROW
        bend = -(0.22 + 0.06 * rows) if arch.parts[link.source].kind in ("input", "feedback") else -(0.5 + 0.1 * rows)
    if link.role == "summary" and arch.parts[link.source].info.get("direction") == "backward":
        bend = -0.35  # dips under the backward chain's loop on its right
    graph.edge(link.source, link.target, letter, subscript, text, bend=bend, label_at=_label_position(link))


def _edge_style(arch, link):
    """(letter, subscript, text, bend) of a link's edge in either view."""
    letter = {"readout": "V", "step": "U", "context": "U", "attended": "U", "feedback": "R", "output_feedback": "R"}.get(link.role, "")
    subscript = weight_subscript(arch, link.chain) if letter in ("U", "R") else ""
    text = ""
    if link.role == "initial_state":
        text = "initial " + ", ".join(link.states)
    elif link.role == "attention":
        text = "every step"
    return letter, subscript, text, (-0.3 if link.role == "attended" else 0.0)


def _label_position(link):
    """Where along an edge its label goes: text labels near the source, clear of the target's inputs."""
    return 0.38 if link.role in ("initial_state", "attention") else 0.5


def _add_loss(arch, graph, output_id, suffix, loss_label, target_label):
    """L above an output and the target y above L (the book's figures)."""
    if not arch.loss or output_id not in graph.nodes:
        return
    output = graph.nodes[output_id]
    graph.add(Node(f"L{suffix}", loss_label, output.x, output.y + ROW, "loss"))
    graph.add(Node(f"y{suffix}", target_label, output.x, output.y + 2 * ROW, "target"))
    graph.edge(output_id, f"L{suffix}")
    graph.edge(f"y{suffix}", f"L{suffix}")


def _add_feedback_routes(arch, graph):
    """Output-to-hidden recurrence folded: o -> delay -> the fed-back input y (or the chain), on the right.

    In training y is the true previous output (teacher forcing); running free it is the
    model's own previous output, which is what the loop through the delay square shows.
    """
    output = next((graph.nodes[o.id] for o in arch.of_kind("output")), None)
    if output is None:
        return
    closed = [chain.id for chain in arch.chains() if chain.info.get("output_feedback") and not arch.links_into(chain.id, "feedback")]
    for target_id in [part.id for part in arch.of_kind("feedback")] + closed:
        target = graph.nodes[target_id]
        fed = arch.parts[target_id].kind == "feedback"
        readers = [graph.nodes[link.target] for link in arch.links_from(target_id) if link.target in graph.nodes] if fed else [target]
        x_side = max([output.x, target.x] + [reader.x + (reader.width / 2 if reader.shape == "band" else 0) for reader in readers]) + SIDE + 0.55
        points = [(output.x + RADIUS, output.y), (x_side, output.y), (x_side, target.y), (target.x + RADIUS, target.y)]
        letter, subscript = ("", "") if fed else ("R", weight_subscript(arch, target_id))
        graph.routes.append((points, letter, subscript, fed, "running free" if fed else "", True, output.id, target.id))


# --- The unrolled view. ---


@dataclass
class _Columns:
    """Where each step of each group is drawn, and how the steps are labelled."""

    x: dict  # (group, column index) -> x
    labels: dict  # (group, column index) -> step label ("t-1", "1", "τ")
    count: dict  # group -> number of columns
    open_left: dict  # group -> the sequence goes on before the first column ("…")
    open_right: dict
    width: float  # distance between two steps
    offset: dict  # part id -> x offset within its column (inputs side by side)


def _step_labels(steps, start, end):
    """Labels of `steps` columns: t-1, t, t+1 in the middle of a sequence; 1, 2, 3 from its start;
    τ-2, τ-1, τ at its end; 1, 2, τ for the whole sequence (a gap before τ)."""
    if start and end:
        return [str(k) for k in range(1, steps)] + [r"\tau"]
    if start:
        return [str(k) for k in range(1, steps + 1)]
    if end:
        return [r"\tau" if k == 0 else rf"\tau-{k}" for k in range(steps - 1, -1, -1)]
    centre = (steps - 1) // 2
    return ["t" if k == centre else (f"t-{centre - k}" if k < centre else f"t+{k - centre}") for k in range(steps)]


def _columns(arch, group, steps):
    groups = sorted(set(group.values()) - {"mid"}, key=["enc", "main", "dec"].index)
    x, labels, count, open_left, open_right, offset = {}, {}, {}, {}, {}, {}
    crowd = 1
    for name in groups:  # sequence inputs read at the same step sit side by side in the column
        inputs = [p for p in arch.of_kind("input", "feedback") if group[p.id] == name]
        for index, part in enumerate(inputs):
            offset[part.id] = (index - (len(inputs) - 1) / 2) * 2.3 * RADIUS
        crowd = max(crowd, len(inputs))
    for part in arch.of_kind("attention"):  # beside its decoder step, on the side the query comes from
        offset[part.id] = -0.45 * COLUMN
    for chain in arch.chains():  # a Bidirectional layer's two chains side by side: x reaches g past h, not through it
        if chain.info.get("bidirectional"):
            offset[chain.id] = 0.34 * (-1 if chain.info.get("direction") == "forward" else 1)
            crowd = max(crowd, 1.45)
    width = COLUMN + 0.45 * (crowd - 1)
    cursor = 0.0
    for name in groups:
        members = [arch.parts[pid] for pid in arch.parts if group[pid] == name]
        start = name in ("enc", "dec") or any(arch.links_into(p.id, "initial_state") for p in members)
        end = name == "enc" or any(p.info.get("after_sequence") for p in members if p.kind == "output") or bool(arch.of_kind("reduce"))
        texts = _step_labels(steps, start, end)
        open_left[name] = not start
        open_right[name] = not end
        cursor += width * (1.0 if any(arch.links_into(p.id, "initial_state") for p in members) or not start else 0.0)
        for index, text in enumerate(texts, start=1):
            if start and end and index == steps and steps > 1:
                cursor += width * 0.6  # the gap "…" between step steps-1 and τ
            x[(name, index)] = cursor
            labels[(name, index)] = text
            cursor += width
        count[name] = steps
        cursor += width * (0.6 if open_right[name] else 0.2) + (width if name == "enc" else 0.0)
    return _Columns(x, labels, count, open_left, open_right, width, offset)


def unrolled_graph(arch, steps=3, title="", mode="train"):
    """The graph unfolded over `steps` columns (DL book figs. 10.3-10.12), in training or free-running mode.

    Args:
        arch: a derived Architecture.
        steps: time steps drawn (columns), 2 to 8.
        title: figure title.
        mode: "train" (teacher-forced inputs are the true previous outputs y) or "free" (the
            model's own previous outputs ŷ are fed back; no loss is drawn).
    """
    graph = Graph(title=title, key=key_entries(arch))
    group = _groups(arch)
    row = _rows(arch, stacked_directions=True)
    if arch.of_kind("tree"):
        return _tree_graph(arch, graph, steps)
    columns = _columns(arch, group, steps)
    free = mode == "free"

    def at(part, index):
        return f"{part.id}@{index}"

    per_step = [
        p
        for p in arch.parts.values()
        if p.kind not in ("context", "summary", "reduce", "conv")
        and not (p.kind == "output" and not p.info.get("per_step"))
        and not _front_end_of(arch, p)
    ]
    for part in per_step:
        name = group[part.id]
        for index in range(1, columns.count[name] + 1):
            step = columns.labels[(name, index)]
            label = None
            if part.kind == "feedback":
                label = vector("y", _previous(step), hat=free)
            x = columns.x[(name, index)] + columns.offset.get(part.id, 0.0)
            graph.add(_node(arch, part, x, row[part.id] * ROW, step, label, at(part, index)))
    for part in arch.of_kind("output"):
        if not part.info.get("per_step"):  # one output after the whole input, at τ
            name = group[part.id]
            last = columns.count[name]
            graph.add(_node(arch, part, columns.x[(name, last)], row[part.id] * ROW, columns.labels[(name, last)], node_id=at(part, last)))
    _unrolled_once_parts(arch, graph, group, row, columns)
    _unrolled_edges(arch, graph, group, columns, free)
    _bend_past_nodes(graph)
    if not free:
        _unrolled_loss(arch, graph, group, columns)
    _stubs(arch, graph, group, columns)
    return graph


def _previous(step):
    """The label of the step before `step`: t -> t-1, 1 -> 0, τ -> τ-1."""
    if step.isdigit():
        return str(int(step) - 1)
    if step in ("t", r"\tau"):
        return f"{step}-1"
    base, sign, offset = step.partition("+") if "+" in step else step.partition("-")
    offset = int(offset) + (-1 if sign == "+" else 1)
    return base if offset == 0 else f"{base}{'+' if (sign == '+') == (offset > 0) else '-'}{abs(offset)}"


def _unrolled_once_parts(arch, graph, group, row, columns):
    """Parts drawn once: a context vector, C, a reduction, a convolution band spanning the steps, initial states."""
    for part in arch.parts.values():
        name = group[part.id]
        if part.kind == "context":
            targets = [link.target for link in arch.links_from(part.id)]
            tgroup = group[targets[0]] if targets else "main"
            graph.add(_node(arch, part, columns.x[(tgroup, 1)] - columns.width, 0.0))
        elif part.kind == "summary":
            encoder_end = columns.x[("enc", columns.count["enc"])]
            graph.add(_node(arch, part, encoder_end + columns.width, row[part.id] * ROW - ROW / 2))
        elif part.kind == "conv":
            xs = [columns.x[(name, k)] for k in range(1, columns.count[name] + 1)]
            band = graph.add(_node(arch, part, (xs[0] + xs[-1]) / 2, row[part.id] * ROW))
            band.width = max(band.width, xs[-1] - xs[0] + 2 * RADIUS + 0.5)  # under every step it reads
            if _feeds_chains(arch, part):  # the front end's output is the recurrent layers' x
                for k, x in enumerate(xs, start=1):
                    graph.add(Node(f"{part.id}:x@{k}", vector("x", columns.labels[(name, k)]), x, band.y + ROW, "input"))
                    graph.edge(part.id, f"{part.id}:x@{k}")
        elif _front_end_of(arch, part):
            block = _front_end_of(arch, part)
            xs = [columns.x[(group[block.id], k)] for k in range(1, columns.count[group[block.id]] + 1)]
            graph.add(
                Node(
                    part.id, f"{part.layer}: input frames", (xs[0] + xs[-1]) / 2, 0.0, "input", "box", width=xs[-1] - xs[0] + 2 * RADIUS, height=0.36
                )
            )
        elif part.kind == "reduce":
            x = columns.x[(name, columns.count[name])]
            graph.add(_node(arch, part, x, row[part.id] * ROW))
    for chain in arch.chains():  # h(0): the state set before step 1
        if arch.links_into(chain.id, "initial_state"):
            name = group[chain.id]
            graph.add(
                Node(f"{chain.id}@0", vector(chain.symbol, "0", _level(chain)), columns.x[(name, 1)] - columns.width, row[chain.id] * ROW, "hidden")
            )


def _unrolled_edges(arch, graph, group, columns, free):
    nodes = graph.nodes
    for link in arch.links:
        source, target = arch.parts[link.source], arch.parts[link.target]
        letter, subscript, text, bend = _edge_style(arch, link)
        name = group[target.id]
        count = columns.count.get(name, 0)
        if link.role == "recurrence":
            backward = target.info.get("direction") == "backward"
            for index in range(1, count):
                a, b = (index + 1, index) if backward else (index, index + 1)
                graph.edge(f"{target.id}@{a}", f"{target.id}@{b}", "W", weight_subscript(arch, link.chain))
            if f"{target.id}@0" in nodes:
                graph.edge(f"{target.id}@0", f"{target.id}@1", "W", weight_subscript(arch, link.chain))
        elif link.role == "step" and _feeds_chains(arch, source):
            for index in range(1, count + 1):
                at = 0.78 if target.info.get("direction") == "backward" else 0.5
                graph.edge(f"{source.id}:x@{index}", f"{target.id}@{index}", "U", subscript, label_at=at)
        elif link.role in ("step", "feedback", "attended", "merge", "readout", "convolve"):
            if link.role == "feedback" and free:
                letter = "R"
            for index in range(1, count + 1):
                a = f"{source.id}@{index}" if f"{source.id}@{index}" in nodes else source.id
                b = f"{target.id}@{index}" if f"{target.id}@{index}" in nodes else target.id
                if a in nodes and b in nodes and (a, b) not in {(e.source, e.target) for e in graph.edges}:
                    # Into a backward chain the edge crosses the forward chain's row: label it past that row.
                    at = 0.78 if target.info.get("direction") == "backward" else 0.5
                    graph.edge(a, b, letter, subscript, text, bend=bend, label_at=at)
            if free and source.kind == "feedback":
                _free_running(arch, graph, source, count)
        elif link.role == "output_feedback":
            if free and not arch.links_into(target.id, "feedback"):  # else drawn as o(t-1) -> ŷ(t-1) -> h(t)
                for index in range(2, count + 1):
                    graph.edge(f"{source.id}@{index - 1}", f"{target.id}@{index}", "R", subscript, dashed=False)
        elif link.role == "context":
            for index in range(1, count + 1):
                graph.edge(source.id, f"{target.id}@{index}", "U", subscript, faint=True)
        elif link.role == "initial_state":
            graph.edge(source.id, f"{target.id}@0", text=text)
        elif link.role == "summary":
            index = 1 if source.info.get("direction") == "backward" else columns.count[group[source.id]]
            graph.edge(f"{source.id}@{index}", target.id, bend=0.25 if index == 1 and columns.count[group[source.id]] > 1 else 0.0)
        elif link.role == "pool":
            if source.id in nodes:  # a convolution band is drawn once: one edge from it
                graph.edge(source.id, target.id)
            for index in range(1, columns.count[group[source.id]] + 1):
                if f"{source.id}@{index}" in nodes:
                    graph.edge(f"{source.id}@{index}", target.id, faint=True)
        elif link.role == "attention":
            for j in range(1, count + 1):
                for i in range(1, columns.count[group[source.id]] + 1):
                    graph.edge(f"{source.id}@{i}", f"{target.id}@{j}", faint=True)
        elif link.role == "query":
            for j in range(2, count + 1):
                graph.edge(f"{source.id}@{j - 1}", f"{target.id}@{j}", dashed=True, faint=True)
            if f"{source.id}@0" in nodes:
                graph.edge(f"{source.id}@0", f"{target.id}@1", dashed=True, faint=True)


def _bend_past_nodes(graph):
    """An edge that runs straight up past another node of its column bends around it (skips, x -> g)."""
    for edge in graph.edges:
        a, b = graph.nodes[edge.source], graph.nodes[edge.target]
        if edge.bend or abs(a.x - b.x) > 0.05:
            continue
        low, high = sorted((a.y, b.y))
        if any(abs(n.x - a.x) < 0.05 and low + 0.05 < n.y < high - 0.05 and n.shape != "text" for n in graph.nodes.values()):
            span = (high - low) / ROW
            edge.bend = (0.22 + 0.06 * span) * (1 if a.y < b.y else -1) * (1 if a.style == "input" else -1)


def _free_running(arch, graph, feedback, count):
    """ŷ(t-1) is the model's own previous output: o(t-1) -> ŷ(t-1), dashed (argmax or sample)."""
    output = next((o for o in arch.of_kind("output") if f"{o.id}@1" in graph.nodes), None)
    if output is None:
        return
    for index in range(2, count + 1):
        edge = (f"{output.id}@{index - 1}", f"{feedback.id}@{index}")
        if edge not in {(e.source, e.target) for e in graph.edges}:
            graph.edge(*edge, dashed=True)


def _unrolled_loss(arch, graph, group, columns):
    if not arch.loss:
        return
    for output in arch.of_kind("output"):
        name = group[output.id]
        indices = [k for k in range(1, columns.count[name] + 1) if f"{output.id}@{k}" in graph.nodes]
        if arch.loss.get("sequence"):  # one CTC loss over every step's output
            last = graph.nodes[f"{output.id}@{indices[-1]}"]
            first = graph.nodes[f"{output.id}@{indices[0]}"]
            graph.add(Node("L", r"$L$", (first.x + last.x) / 2, last.y + ROW, "loss"))
            graph.add(Node("y", vector("y"), (first.x + last.x) / 2, last.y + 2 * ROW, "target"))
            for k in indices:
                graph.edge(f"{output.id}@{k}", "L")
            graph.edge("y", "L")
            continue
        for k in indices:
            step = columns.labels[(name, k)]
            _add_loss(arch, graph, f"{output.id}@{k}", f"@{k}", f"$L^{{({step})}}$", vector("y", step))


def _stubs(arch, graph, group, columns):
    """'…' where a chain goes on beyond the drawn steps, with its recurrence arrow."""
    for chain in arch.chains():
        name = group[chain.id]
        count = columns.count[name]
        backward = chain.info.get("direction") == "backward"
        first, last = graph.nodes[f"{chain.id}@1"], graph.nodes[f"{chain.id}@{count}"]
        subscript = weight_subscript(arch, chain.id)
        if columns.open_left[name] and f"{chain.id}@0" not in graph.nodes:
            dots = graph.add(Node(f"{chain.id}@left", r"$\cdots$", first.x - columns.width * 0.62, first.y, shape="text"))
            graph.edge(first.id, dots.id, "W", subscript) if backward else graph.edge(dots.id, first.id, "W", subscript)
        if columns.open_right[name]:
            dots = graph.add(Node(f"{chain.id}@right", r"$\cdots$", last.x + columns.width * 0.62, last.y, shape="text"))
            graph.edge(dots.id, last.id, "W", subscript) if backward else graph.edge(last.id, dots.id, "W", subscript)
        if not columns.open_left[name] and not columns.open_right[name] and count > 1:
            a, b = graph.nodes[f"{chain.id}@{count - 1}"], last
            dots = graph.add(Node(f"{chain.id}@gap", r"$\cdots$", (a.x + b.x) / 2, a.y, shape="text"))
            graph.edges = [e for e in graph.edges if {e.source, e.target} != {a.id, b.id}]
            pair = ((b.id, dots.id), (dots.id, a.id)) if backward else ((a.id, dots.id), (dots.id, b.id))
            for source, target in pair:
                graph.edge(source, target, "W", subscript)


def _tree_graph(arch, graph, leaves):
    """A recursive network unfolded over an expression tree (fig. 10.14): the same composition at every inner node."""
    tree = arch.of_kind("tree")[0]
    leaves = max(2, leaves)
    # A left-branching tree: ((x1 ∘ x2) ∘ x3) ∘ ... ; leaves are embedded tokens, inner nodes compose.
    xs = [k * COLUMN for k in range(leaves)]
    for k, x in enumerate(xs, start=1):
        graph.add(Node(f"x@{k}", vector("x", k), x, 0.0, "input"))
        graph.add(Node(f"{tree.id}@{k}", vector("h", k), x, ROW, "hidden"))
        graph.edge(f"x@{k}", f"{tree.id}@{k}", "U")
    below = f"{tree.id}@1"
    for depth in range(1, leaves):
        # Inner node over leaves 1..depth+1, read from its two children and its own token (the operator).
        node_id, span = f"{tree.id}@n{depth}", f"1:{depth + 1}"
        left = graph.nodes[below]
        right = graph.nodes[f"{tree.id}@{depth + 1}"]
        node = graph.add(Node(node_id, vector("h", span), (left.x + right.x) / 2 + 0.2 * depth, ROW * (1 + depth), "hidden"))
        graph.add(Node(f"x@n{depth}", vector("x", span), node.x + 0.95, node.y - 0.5 * ROW, "input"))
        graph.edge(below, node_id, "W")
        graph.edge(right.id, node_id, "W")
        graph.edge(f"x@n{depth}", node_id, "U")
        below = node_id
    root = graph.nodes[below]
    output = arch.of_kind("output")[0]
    graph.add(Node(f"{output.id}@root", vector("o"), root.x, root.y + ROW, "output"))
    graph.edge(below, f"{output.id}@root", "V")
    _add_loss(arch, graph, f"{output.id}@root", "@root", r"$L$", vector("y"))
    return graph


# --- Rendering. ---


def bounds(graph):
    """(left, right, bottom, top) in inches of what a graph draws (nodes, loops and routes; no title or key)."""
    xs, ys = [], []
    for n in graph.nodes.values():
        half_w, half_h = (n.width / 2, n.height / 2) if n.shape in ("band", "box") else (n.width or RADIUS, n.width or RADIUS)
        loops = {loop[3] for loop in graph.loops if loop[0] == n.id}
        xs += [n.x - half_w - (0.8 if "left" in loops else 0), n.x + half_w + (0.8 if "right" in loops else 0)]
        ys += [n.y - half_h, n.y + half_h]
    for points, *_ in graph.routes:
        xs += [p[0] + 0.45 for p in points]
        ys += [p[1] for p in points]
    for edge in graph.edges:  # a bent edge reaches half way to its control point, and its label a little further
        if edge.bend:
            a, b = graph.nodes[edge.source], graph.nodes[edge.target]
            xs.append((a.x + b.x) / 2 + edge.bend * (b.y - a.y) * 0.5 - 0.25)
            xs.append((a.x + b.x) / 2 + edge.bend * (b.y - a.y) * 0.5 + 0.25)
    for x, y, text, size, ha, *_ in graph.texts:
        width = len(_plain(text)) * size / 130
        xs += [x, x + width if ha == "left" else x]
        ys.append(y)
    return min(xs), max(xs), min(ys), max(ys)


def stack(graphs, gap=0.55):
    """One Graph with `graphs` one above the other (the first on top), each with its title as a panel heading.

    Node ids of the panels below the first are prefixed with their panel number, so edges stay apart.
    """
    combined = Graph(title="", key=graphs[0].key)
    cursor = None
    for number, graph in enumerate(graphs):
        left, _, bottom, top = bounds(graph)
        shift = 0.0 if cursor is None else cursor - top - gap - 0.45
        prefix = "" if number == 0 else f"{number}:"
        combined.texts.append((left, top + shift + 0.42, graph.title, 11, "left", "ink", True))
        for node in graph.nodes.values():
            combined.add(Node(prefix + node.id, node.label, node.x, node.y + shift, node.style, node.shape, node.width, node.height, node.name))
        for e in graph.edges:
            combined.edges.append(
                Edge(prefix + e.source, prefix + e.target, e.letter, e.subscript, e.text, e.dashed, e.bend, e.delay, e.faint, e.label_at)
            )
        combined.loops += [(prefix + node, *rest) for node, *rest in graph.loops]
        combined.routes += [([(x, y + shift) for x, y in points], *rest[:-2], prefix + rest[-2], prefix + rest[-1]) for points, *rest in graph.routes]
        combined.texts += [(x, y + shift, *rest) for x, y, *rest in graph.texts]
        cursor = bottom + shift
    return combined


def paint(ax, graph, colours):
    """Draw a graph's routes, edges, loops and nodes on inch-scaled axes (what `draw` and the atlas share)."""
    from matplotlib import patches

    renderer = _Renderer(ax, colours, patches)
    for route in graph.routes:
        renderer.route(*route[:6])
    for edge in graph.edges:
        renderer.edge(graph.nodes[edge.source], graph.nodes[edge.target], edge)
    for node_id, letter, subscript, side, delay in graph.loops:
        renderer.loop(graph.nodes[node_id], letter, subscript, side, delay)
    for node in graph.nodes.values():
        renderer.node(node)
    for x, y, text, size, ha, colour, bold in graph.texts:
        ax.text(x, y, text, fontsize=size, color=colours[colour], ha=ha, va="center", fontweight="bold" if bold else "normal")
    return renderer


RC = {"mathtext.fontset": "stix", "font.family": "DejaVu Sans", "svg.hashsalt": "rnn-recipes", "svg.fonttype": "path"}


def draw(graph, path, theme="light"):
    """Render a Graph with Matplotlib to `path` (svg, png or pdf) in a theme, with its title and key; returns the path."""
    import matplotlib.pyplot as plt

    from recipes.common import style

    colours = THEMES[theme]
    left, right, low, high = bounds(graph)
    left, right = left - MARGIN, right + MARGIN
    # Text under and above a wide figure grows with it, so it stays readable when the figure is shown 720 px wide.
    scale = max(1.0, (right - left) / 7.2)
    key_width = max((len(_plain(text)) * 0.068 * scale + 0.55 * scale for _, text in graph.key), default=0.0)
    right = max(right, left + key_width + 2 * MARGIN, left + 3.6)
    diagram_bottom = low - MARGIN
    key_lines = len(graph.key) + (1 if graph.letters() else 0)
    bottom = diagram_bottom - (key_lines * 0.24 + (0.25 if key_lines else 0)) * scale
    top = high + MARGIN + (0.5 * scale if graph.title else 0)
    with plt.rc_context(RC):
        fig = plt.figure(figsize=(right - left, top - bottom), facecolor=colours["page"])
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
        ax.set_axis_off()
        renderer = paint(ax, graph, colours)
        if graph.title:
            ax.text(
                left + MARGIN, top - 0.25 * scale, graph.title, fontsize=12.5 * scale, color=colours["ink"], ha="left", va="center", fontweight="bold"
            )
        renderer.key(graph, left + MARGIN, diagram_bottom - 0.1 * scale, scale)
        return Path(style.save(fig, path))


def _plain(text):
    """Roughly the printed width of mathtext, in characters."""
    import re

    return re.sub(r"\\[a-z]+|[{}$^_]", "", text)


class _Renderer:
    """Draws nodes, straight or bent edges, loops, routed feedback edges and the key on inch-scaled axes."""

    def __init__(self, ax, colours, patches):
        self.ax, self.colours, self.patches = ax, colours, patches

    def colour(self, letter):
        return self.colours["weights"].get(letter, self.colours["edge"])

    def node(self, node):
        c = self.colours
        if node.shape == "text":
            self.ax.text(node.x, node.y, node.label, fontsize=FONT, color=c["muted"], ha="center", va="center", zorder=4)
            return
        if node.shape in ("band", "box"):
            box = self.patches.FancyBboxPatch(
                (node.x - node.width / 2, node.y - node.height / 2),
                node.width,
                node.height,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=c["band"],
                edgecolor=c["edge"],
                linewidth=1.0,
                zorder=3,
            )
            self.ax.add_patch(box)
            self.ax.text(node.x, node.y, node.label, fontsize=SMALL + 0.5, color=c["ink"], ha="center", va="center", zorder=4)
            return
        radius = node.width or RADIUS
        fill = c["fill"].get(node.style, c["page"])
        self.ax.add_patch(self.patches.Circle((node.x, node.y), radius, facecolor=fill, edgecolor=c["ink"], linewidth=1.3, zorder=3))
        length = len(_plain(node.label))
        size = SMALL if node.style == "merge" else (FONT if length <= 2 else (13.5 if length <= 5 else 12))
        self.ax.text(node.x, node.y, node.label, fontsize=size, color=c["ink"], ha="center", va="center", zorder=4)

    def _end(self, node, towards):
        """The point where a line from `towards` meets the node's outline."""
        dx, dy = towards[0] - node.x, towards[1] - node.y
        if node.shape in ("band", "box"):
            if abs(dy) * node.width >= abs(dx) * node.height:
                y = node.y + math.copysign(node.height / 2 + 0.02, dy)
                x = node.x + (dx / dy * (y - node.y) if dy else 0)
                return (max(node.x - node.width / 2, min(node.x + node.width / 2, x)), y)
            x = node.x + math.copysign(node.width / 2 + 0.02, dx)
            return (x, node.y + dy / dx * (x - node.x))
        if node.shape == "text":
            r = 0.18
        else:
            r = node.width or RADIUS
        d = math.hypot(dx, dy) or 1.0
        return (node.x + dx / d * r, node.y + dy / d * r)

    def _arrow(self, start, end, colour, dashed=False, bend=0.0, head=True, width=1.3):
        arrow = self.patches.FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>" if head else "-",
            mutation_scale=11,
            color=colour,
            linewidth=width,
            linestyle=(0, (4, 3)) if dashed else "-",
            connectionstyle=f"arc3,rad={bend}",
            shrinkA=0,
            shrinkB=0,
            zorder=2,
        )
        self.ax.add_patch(arrow)

    def label(self, x, y, letter, subscript="", text=""):
        c = self.colours
        if letter:
            sub = f"_{{{subscript}}}" if subscript else ""
            content, colour, size = rf"$\boldsymbol{{{letter}}}{sub}$", self.colour(letter), LABEL
        else:
            content, colour, size = text, c["muted"], SMALL
        bbox = {"boxstyle": "round,pad=0.06", "facecolor": c["page"], "edgecolor": "none", "alpha": 0.9}
        self.ax.text(x, y, content, fontsize=size, color=colour, ha="center", va="center", zorder=5, bbox=bbox)

    def edge(self, a, b, edge):
        colour = self.colour(edge.letter) if edge.letter else self.colours["edge"]
        if edge.faint:
            colour = self.colour(edge.letter) if edge.letter else self.colours["muted"]
        if edge.bend:
            # Leave and enter along the bent path: aim at the arc's control point.
            mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
            control = (mx + edge.bend * (b.y - a.y), my - edge.bend * (b.x - a.x))
            start, end = self._end(a, control), self._end(b, control)
        else:
            start, end = self._end(a, (b.x, b.y)), self._end(b, (a.x, a.y))
        self._arrow(start, end, colour, edge.dashed, edge.bend, width=0.8 if edge.faint else 1.3)
        if edge.letter or edge.text:
            t = edge.label_at
            (sx, sy), (ex, ey) = start, end
            if edge.bend:
                cx, cy = (sx + ex) / 2 + edge.bend * (ey - sy), (sy + ey) / 2 - edge.bend * (ex - sx)
                px = (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex
                py = (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey
            else:
                length = math.hypot(ex - sx, ey - sy) or 1
                offset = 0.14 if edge.letter else 0.0  # beside the line, on the right of the direction of travel
                px = sx + (ex - sx) * t + (ey - sy) / length * offset
                py = sy + (ey - sy) * t - (ex - sx) / length * offset
            self.label(px, py, edge.letter, edge.subscript, edge.text)
        if edge.delay:
            self.square((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)

    def square(self, x, y, size=0.12):
        ink = self.colours["ink"]
        self.ax.add_patch(self.patches.Rectangle((x - size / 2, y - size / 2), size, size, facecolor=ink, edgecolor=ink, zorder=5))

    def loop(self, node, letter, subscript, side, delay=True):
        """h -> h through a delay square on the node's `side` (the book's folded figure); a tree's loop has none."""
        colour = self.colour(letter)
        r, sign = RADIUS, (1 if side == "right" else -1)
        out = (node.x + sign * r * 0.5, node.y + r * 0.87)
        back = (node.x + sign * r * 0.5, node.y - r * 0.87)
        far = (node.x + sign * (r + 0.42), node.y)
        self._arrow(out, far, colour, bend=-0.55 * sign, head=False)
        self._arrow(far, back, colour, bend=-0.55 * sign)
        if delay:
            self.square(*far)
        self.label(far[0] + sign * 0.24, far[1] + 0.02, letter, subscript)

    def route(self, points, letter, subscript, dashed, text, delay):
        """A polyline edge (output-to-hidden feedback) ending in an arrow, with an optional delay square."""
        colour = self.colour(letter) if letter else self.colours["edge"]
        for a, b in zip(points[:-2], points[1:-1]):
            self._arrow(a, b, colour, dashed, head=False)
        self._arrow(points[-2], points[-1], colour, dashed, head=delay)
        (xa, ya), (xb, yb) = (points[1], points[2]) if delay else (points[-2], points[-1])
        if delay:
            self.square((xa + xb) / 2, (ya + yb) / 2)
        if letter:
            self.label((xa + xb) / 2 + 0.24, (ya + yb) / 2, letter, subscript)
        if text:
            self.label((xa + xb) / 2 + 0.12, (ya + yb) / 2 - 0.3, "", "", text)

    def key(self, graph, x, y, scale=1.0):
        """The key under the figure: what each symbol is in this model, and the weight letters."""
        c = self.colours
        small = SMALL * scale
        for symbol, text in graph.key:
            self.ax.text(x + 0.2 * scale, y, symbol, fontsize=small + 2, color=c["ink"], ha="center", va="center")
            self.ax.text(x + 0.45 * scale, y, text, fontsize=small, color=c["muted"], ha="left", va="center")
            y -= 0.24 * scale
        letters = graph.letters()
        cursor = x + 0.1
        for letter in letters:
            self.ax.text(cursor, y, rf"$\boldsymbol{{{letter}}}$", fontsize=(LABEL - 1) * scale, color=self.colour(letter), ha="left", va="center")
            self.ax.text(cursor + 0.22 * scale, y, LETTER_MEANING[letter], fontsize=small, color=c["muted"], ha="left", va="center")
            cursor += (0.22 + len(LETTER_MEANING[letter]) * 0.07 + 0.25) * scale
        if any(loop[4] for loop in graph.loops) or any(route[5] for route in graph.routes) or any(edge.delay for edge in graph.edges):
            self.square(cursor + 0.05 * scale, y, 0.1 * scale)
            self.ax.text(cursor + 0.2 * scale, y, "delay of one step", fontsize=small, color=c["muted"], ha="left", va="center")


# --- One view of one recipe's model, as a file (what `recipe diagram` calls). ---

VIEWS = ("circuit", "unrolled", "cell", "layers")
MIN_STEPS, MAX_STEPS = 2, 8


def recipe_architecture(recipe_id, model):
    """The derived Architecture of a recipe's model (its TEACHER_FORCED_INPUTS read from its model.py)."""
    from tools import architecture, runner

    model_module = runner.import_recipe(recipe_id)[0]
    return architecture.derive(model, getattr(model_module, "TEACHER_FORCED_INPUTS", ()))


def check_steps(steps):
    """Raise a UsageError unless `steps` is a number of time steps the unrolled view can draw."""
    from tools.errors import UsageError

    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise UsageError(f"--steps takes {MIN_STEPS} to {MAX_STEPS} time steps, got {steps}. Use e.g. --steps 3.")


def recurrent_layer_names(arch):
    """The Keras layers whose cell the cell view can draw: every chain's layer path."""
    return [chain.layer for chain in arch.chains()]


def find_chain(recipe_id, arch, layer=None):
    """The chain whose cell to draw: `layer` (a layer name or path), else the first.

    Raises:
        UsageError: the model has no recurrent layer, or none called `layer`; the message names those it has.
    """
    from tools.errors import UsageError, did_you_mean

    chains = arch.chains()
    names = recurrent_layer_names(arch)
    if not chains:
        others = [part.layer for part in arch.of_kind("tree")]
        has = f" (its {others[0]} composes over a tree, which has no gates)" if others else ""
        raise UsageError(f"{recipe_id} has no recurrent layer, so there is no cell to draw{has}. Use --view circuit, unrolled or layers.")
    if layer is None:
        return chains[0]
    for chain in chains:
        if layer in (chain.layer, chain.layer.split("/")[0]):
            return chain
    raise UsageError(f"{recipe_id} has no recurrent layer '{layer}'.{did_you_mean(layer, names)} Its recurrent layers: {', '.join(names)}.")


def title(recipe_id, arch, view):
    figure = book_figure(arch)
    book = f" (Deep Learning book, fig. {figure})" if figure else ""
    name = {"circuit": "circuit diagram", "unrolled": "unrolled over time"}[view]
    return f"{recipe_id}: {name}{book}"


def unrolled_figure(recipe_id, arch, steps):
    """The unrolled Graph; a model trained with teacher forcing gets both modes, one panel above the other."""
    graph = unrolled_graph(arch, steps, title(recipe_id, arch, "unrolled"))
    fed_back = arch.of_kind("feedback") or any(chain.info.get("output_feedback") for chain in arch.chains())
    if not fed_back:
        return graph
    graph.title = "training: teacher forcing, the true previous output y is read"
    free = unrolled_graph(arch, steps, "running free: the model reads its own previous output ŷ", mode="free")
    combined = stack([graph, free])
    combined.title = title(recipe_id, arch, "unrolled")
    return combined


def write_view(recipe_id, model, view, path, fmt="svg", theme="light", steps=3, layer=None, show_masks=False):
    """Draw one view of a recipe's built model to `path`; returns the path.

    Args:
        recipe_id: catalog id (its model.py declares TEACHER_FORCED_INPUTS).
        model: the built (untrained or trained) keras.Model.
        view: circuit | unrolled | cell | layers.
        path: file to write; fmt: svg | png | pdf; theme: light | dark.
        steps: time steps of the unrolled view; layer: the recurrent layer of the cell view.
        show_masks: keep Keras' mask nodes in the layers view.
    """
    from tools import cellview, graph

    if view == "layers":
        return graph.plot_layers(model, path, fmt=fmt, show_masks=show_masks, theme=theme)
    arch = recipe_architecture(recipe_id, model)
    if view == "cell":
        chain = find_chain(recipe_id, arch, layer)
        return cellview.draw(cellview.cell_diagram(chain.info["cell"], f"{recipe_id} · {chain.layer}"), path, theme)
    figure = circuit_graph(arch, title(recipe_id, arch, "circuit")) if view == "circuit" else unrolled_figure(recipe_id, arch, steps)
    return draw(figure, path, theme)
