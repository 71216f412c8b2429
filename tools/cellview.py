"""The gate-level picture of one recurrent cell (Olah-style), drawn from the layer's actual config.

`cell_diagram(spec)` turns a cell description (`tools.architecture.cell_spec`) into a
CellDiagram: the gates with their activations, the pointwise operations, the peephole
paths where the cell has them, and the update equations in the book's notation (U for
input weights, W for recurrent weights, as in the circuit and unrolled figures). `draw`
renders it with the gate colours `recipe weights` uses, so a reader can go from the cell
picture to the weight figure of the same layer.

Templates: basic (Elman) RNN, leaky integrator (echo state reservoir), deep-transition RNN,
LSTM (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000; peepholes of
Gers & Schmidhuber 2000), GRU (Cho et al. 2014, in Keras' convention
h = z ⊙ h(t-1) + (1 - z) ⊙ h̃, with `reset_after` deciding where r acts).
"""

from dataclasses import dataclass, field
from pathlib import Path

from recipes.common.style import GATE_COLORS

ACTIVATION_SYMBOLS = {"sigmoid": r"\sigma", "hard_sigmoid": r"\sigma_{hard}", "tanh": r"\tanh", "relu": r"\mathrm{relu}", "linear": ""}


@dataclass
class Gate:
    """One gate block: its letter (the weight figure's block), activation, and where it is drawn."""

    letter: str
    activation: str
    x: float
    y: float
    title: str


@dataclass
class CellDiagram:
    """What the cell picture shows; `draw` lays it out."""

    kind: str
    title: str
    gates: list = field(default_factory=list)
    peepholes: list = field(default_factory=list)  # gate letters that read the cell state
    equations: list = field(default_factory=list)  # (gate letter or "", mathtext)
    notes: list = field(default_factory=list)
    spec: dict = field(default_factory=dict)


def _act(name):
    """Mathtext of an activation: σ for sigmoid, tanh, or its Keras name."""
    return ACTIVATION_SYMBOLS.get(name or "linear", rf"\mathrm{{{name}}}")


def _affine(gate, spec, extra=""):
    """U_g x(t) + W_g h(t-1) [+ extra] [+ b_g]."""
    bias = f" + b_{{{gate}}}" if spec.get("use_bias", True) else ""
    return rf"U_{{{gate}}}\boldsymbol{{x}}^{{(t)}} + W_{{{gate}}}\boldsymbol{{h}}^{{(t-1)}}{extra}{bias}"


def _v(symbol, step="t", hat=False, tilde=False):
    body = rf"\boldsymbol{{{symbol}}}"
    if tilde:
        body = rf"\tilde{{{body}}}"
    return f"{body}^{{({step})}}"


def cell_diagram(spec, layer_name=""):
    """The CellDiagram of a cell description.

    Args:
        spec: dict from tools.architecture.cell_spec.
        layer_name: the Keras layer it belongs to (for the title).

    Raises:
        ValueError: a cell kind with no template (describe it with diagram_spec()).
    """
    kind = spec.get("cell")
    units = spec.get("units")
    names = {
        "basic": "basic (Elman) RNN",
        "leaky": "leaky-integrator reservoir",
        "deep_transition": "deep-transition RNN",
        "lstm": "LSTM",
        "gru": "GRU",
    }
    if kind not in names:
        raise ValueError(
            f"No cell picture for a {spec.get('class', 'cell')} (kind {kind!r}). Give the cell a diagram_spec() naming one of: {', '.join(names)}."
        )
    title = f"{layer_name}: {names[kind]} cell, {units} units" if layer_name else f"{names[kind]} cell, {units} units"
    diagram = CellDiagram(kind, title, spec=spec)
    act = _act(spec.get("activation", "tanh"))
    gate_act = _act(spec.get("recurrent_activation", "sigmoid"))
    if kind in ("basic", "leaky", "deep_transition"):
        diagram.gates.append(Gate("h", spec.get("activation", "tanh"), 2.6, 1.35, "new state" if kind == "basic" else "candidate"))
        if kind == "basic":
            diagram.equations.append(("h", rf"${_v('h')} = {act}({_affine('h', spec)})$"))
        elif kind == "leaky":
            a = spec.get("leak_rate", 1.0)
            diagram.equations.append(("h", rf"${_v('h', tilde=True)} = {act}({_affine('h', spec)})$"))
            diagram.equations.append(("", rf"${_v('h')} = (1 - a)\,{_v('h', 't-1')} + a\,{_v('h', tilde=True)}$,  a = {a:g}"))
        else:
            depth = spec.get("depth", 2)
            diagram.equations.append(
                ("h", rf"${_v('h')} = {act}(\mathrm{{MLP}}_{{{depth}}}([\boldsymbol{{x}}^{{(t)}}; \boldsymbol{{h}}^{{(t-1)}}]))$")
            )
            diagram.notes.append(
                f"the transition is a {depth}-layer MLP (relu inside)" + (", plus a shortcut from its input" if spec.get("shortcut") else "")
            )
        if spec.get("trainable") is False:
            diagram.notes.append("weights fixed at initialisation (never trained)")
    elif kind == "lstm":
        peep = bool(spec.get("peephole"))
        for letter, x, title in (("f", 1.45, "forget gate"), ("i", 2.45, "input gate"), ("c", 3.45, "candidate"), ("o", 4.45, "output gate")):
            diagram.gates.append(
                Gate(letter, spec.get("activation", "tanh") if letter == "c" else spec.get("recurrent_activation", "sigmoid"), x, 1.35, title)
            )
        if peep:
            diagram.peepholes = ["f", "i", "o"]
        p = {g: (rf" + \boldsymbol{{p}}_{{{g}}} \odot {_v('c', 't-1' if g != 'o' else 't')}" if peep else "") for g in ("f", "i", "o")}
        diagram.equations += [
            ("f", rf"${_v('f')} = {gate_act}({_affine('f', spec, p['f'])})$"),
            ("i", rf"${_v('i')} = {gate_act}({_affine('i', spec, p['i'])})$"),
            ("c", rf"${_v('c', tilde=True)} = {act}({_affine('c', spec)})$"),
            ("", rf"${_v('c')} = {_v('f')} \odot {_v('c', 't-1')} + {_v('i')} \odot {_v('c', tilde=True)}$"),
            ("o", rf"${_v('o')} = {gate_act}({_affine('o', spec, p['o'])})$"),
            ("", rf"${_v('h')} = {_v('o')} \odot {act}({_v('c')})$"),
        ]
        forget = spec.get("forget_bias")
        if forget and spec.get("use_bias", True):
            diagram.notes.append(f"forget-gate bias starts at {forget:g}, so the cell keeps its state from the first step")
        if peep:
            diagram.notes.append("peepholes: diagonal weights p from the cell state into f, i (previous c) and o (new c)")
    else:  # gru
        reset_after = bool(spec.get("reset_after", True))
        for letter, x, title in (("r", 1.45, "reset gate"), ("z", 2.45, "update gate"), ("h", 3.65, "candidate")):
            diagram.gates.append(
                Gate(letter, spec.get("activation", "tanh") if letter == "h" else spec.get("recurrent_activation", "sigmoid"), x, 1.35, title)
            )
        bias = spec.get("use_bias", True)
        if reset_after:
            recurrent = rf"{_v('r')} \odot (W_{{h}}{_v('h', 't-1')}" + (r" + b'_{h})" if bias else ")")
        else:
            recurrent = rf"W_{{h}}({_v('r')} \odot {_v('h', 't-1')})"
        candidate = rf"U_{{h}}\boldsymbol{{x}}^{{(t)}} + {recurrent}" + (" + b_{h}" if bias else "")
        diagram.equations += [
            ("r", rf"${_v('r')} = {gate_act}({_affine('r', spec)})$"),
            ("z", rf"${_v('z')} = {gate_act}({_affine('z', spec)})$"),
            ("h", rf"${_v('h', tilde=True)} = {act}({candidate})$"),
            ("", rf"${_v('h')} = {_v('z')} \odot {_v('h', 't-1')} + (1 - {_v('z')}) \odot {_v('h', tilde=True)}$"),
        ]
        diagram.notes.append(
            "reset_after=True (Keras' default): r scales the recurrent term after its matrix product"
            if reset_after
            else "reset_after=False: r scales h(t-1) before its matrix product"
        )
    if not spec.get("use_bias", True):
        diagram.notes.append("no biases (use_bias=False)")
    if spec.get("wrapper"):
        diagram.notes.append(f"inside {spec['wrapper']}: its output is read out and fed back as the next input")
    return diagram


# --- Drawing. ---


def draw(diagram, path, theme="light"):
    """Render a CellDiagram to `path` (svg, png or pdf) in a theme; returns the path."""
    import matplotlib.pyplot as plt
    from matplotlib import patches

    from recipes.common import style
    from tools.diagram import THEMES

    colours = THEMES[theme]
    lines = len(diagram.equations) + len(diagram.notes)
    width, top = 7.2, 4.1
    bottom = -0.9 - 0.3 * lines
    with plt.rc_context({"mathtext.fontset": "stix", "font.family": "DejaVu Sans", "svg.hashsalt": "rnn-recipes", "svg.fonttype": "path"}):
        fig = plt.figure(figsize=(width, top - bottom), facecolor=colours["page"])
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(-0.9, width - 0.9)
        ax.set_ylim(bottom, top)
        ax.set_axis_off()
        pen = _Pen(ax, colours, patches)
        ax.text(-0.7, top - 0.3, diagram.title, fontsize=12.5, color=colours["ink"], fontweight="bold", ha="left", va="center")
        ax.add_patch(
            patches.FancyBboxPatch(
                (0.25, 0.15),
                5.2,
                2.95,
                boxstyle="round,pad=0.02,rounding_size=0.25",
                facecolor=colours["band"],
                edgecolor=colours["edge"],
                linewidth=1.0,
                zorder=0,
            )
        )
        {"lstm": _lstm, "gru": _gru}.get(diagram.kind, _basic)(pen, diagram)
        y = -0.8
        for letter, equation in diagram.equations:
            colour = GATE_COLORS.get(letter, colours["ink"]) if letter else colours["ink"]
            ax.text(-0.55, y, equation, fontsize=12, color=colour, ha="left", va="center")
            y -= 0.3
        for note in diagram.notes:
            ax.text(-0.55, y, note, fontsize=9.5, color=colours["muted"], ha="left", va="center")
            y -= 0.3
        return Path(style.save(fig, path))


class _Pen:
    """Lines with arrowheads, gate boxes and pointwise operations, on inch-scaled axes."""

    def __init__(self, ax, colours, patches):
        self.ax, self.c, self.patches = ax, colours, patches

    def line(self, points, colour=None, dashed=False, head=True, width=1.6):
        colour = colour or self.c["ink"]
        for a, b in zip(points[:-2], points[1:-1]):
            self.ax.add_patch(
                self.patches.FancyArrowPatch(
                    a, b, arrowstyle="-", color=colour, linewidth=width, linestyle="--" if dashed else "-", shrinkA=0, shrinkB=0, zorder=2
                )
            )
        style = "-|>" if head else "-"
        self.ax.add_patch(
            self.patches.FancyArrowPatch(
                points[-2],
                points[-1],
                arrowstyle=style,
                mutation_scale=12,
                color=colour,
                linewidth=width,
                linestyle="--" if dashed else "-",
                shrinkA=0,
                shrinkB=0,
                zorder=2,
            )
        )

    def gate(self, gate):
        colour = GATE_COLORS.get(gate.letter, self.c["ink"])
        w, h = 0.62, 0.42
        self.ax.add_patch(
            self.patches.FancyBboxPatch(
                (gate.x - w / 2, gate.y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.06", facecolor=colour, edgecolor=colour, zorder=4
            )
        )
        self.ax.text(gate.x, gate.y, f"${_act(gate.activation)}$", fontsize=14, color="white", ha="center", va="center", zorder=5)
        symbol = rf"\tilde{{{gate.letter}}}" if gate.title == "candidate" else gate.letter
        self.ax.text(gate.x + 0.36, gate.y + 0.34, f"${symbol}$", fontsize=13, color=colour, ha="left", va="center", zorder=5)

    def op(self, x, y, symbol, label_colour=None):
        self.ax.add_patch(self.patches.Circle((x, y), 0.16, facecolor=self.c["page"], edgecolor=self.c["ink"], linewidth=1.3, zorder=4))
        self.ax.text(x, y, symbol, fontsize=12, color=self.c["ink"], ha="center", va="center", zorder=5)

    def text(self, x, y, text, size=14, ha="center", colour=None):
        self.ax.text(x, y, text, fontsize=size, color=colour or self.c["ink"], ha=ha, va="center", zorder=5)

    def dot(self, x, y):
        self.ax.add_patch(self.patches.Circle((x, y), 0.045, facecolor=self.c["ink"], edgecolor="none", zorder=4))


def _inputs(pen, gate_xs, bus_y=0.6, from_top=False):
    """h(t-1) from the left (or, for a GRU, down from its state line) and x(t) from below join into one bus
    that feeds every gate from below."""
    if from_top:
        pen.dot(0.0, 2.7)
        pen.line([(0.0, 2.7), (0.0, bus_y), (gate_xs[-1], bus_y)], head=False)
    else:
        pen.line([(-0.55, bus_y), (gate_xs[-1], bus_y)], head=False)
        pen.text(-0.62, bus_y + 0.25, r"$\boldsymbol{h}^{(t-1)}$", ha="left")
    pen.line([(0.85, -0.25), (0.85, bus_y - 0.02)])
    pen.dot(0.85, bus_y)
    pen.text(0.85, -0.35, r"$\boldsymbol{x}^{(t)}$")
    for x in gate_xs:
        pen.dot(x, bus_y)
        pen.line([(x, bus_y), (x, 1.35 - 0.23)])


def _state_in(pen, symbol, gate_x, top):
    """The state line entering on the top left, up to the x where the gate at `gate_x` scales it."""
    pen.line([(-0.55, top), (gate_x - 0.16, top)], head=False)
    pen.text(-0.62, top + 0.25, rf"$\boldsymbol{{{symbol}}}^{{(t-1)}}$", ha="left")
    pen.op(gate_x, top, r"$\times$")


def _basic(pen, diagram):
    gate = diagram.gates[0]
    _inputs(pen, [gate.x])
    pen.gate(gate)
    kind = diagram.kind
    if kind == "leaky":
        # h = (1 - a) h(t-1) + a h~ : the old state runs along the top, the candidate joins it.
        pen.line([(-0.55, 2.7), (1.6, 2.7)], head=False)
        pen.text(-0.62, 2.95, r"$\boldsymbol{h}^{(t-1)}$", ha="left")
        pen.op(1.6, 2.7, r"$\times$")
        pen.text(1.6, 3.0, r"$1-a$", size=11, colour=pen.c["muted"])
        pen.line([(1.76, 2.7), (3.44, 2.7)])
        pen.line([(gate.x, 1.56), (gate.x, 2.0)])
        pen.op(gate.x, 2.16, r"$\times$")
        pen.text(gate.x + 0.3, 2.16, r"$a$", size=11, colour=pen.c["muted"])
        pen.line([(gate.x, 2.32), (3.48, 2.57)])
        pen.op(3.6, 2.7, "$+$")
        pen.line([(3.76, 2.7), (5.9, 2.7)])
    else:
        if kind == "deep_transition":
            depth = diagram.spec.get("depth", 2)
            pen.text(gate.x, 1.9, f"MLP, {depth} layers", size=10, colour=pen.c["muted"])
        pen.line([(gate.x, 1.56), (gate.x, 2.7), (5.9, 2.7)])
    pen.text(6.0, 2.95, r"$\boldsymbol{h}^{(t)}$", ha="left")


def _lstm(pen, diagram):
    f, i, c, o = diagram.gates
    _inputs(pen, [g.x for g in diagram.gates])
    for gate in diagram.gates:
        pen.gate(gate)
    top = 2.7
    # The cell state's path (the constant error carousel): c(t-1) -> x f -> + i*c~ -> c(t).
    _state_in(pen, "c", f.x, top)
    pen.line([(f.x, f.y + 0.22), (f.x, top - 0.16)], GATE_COLORS["f"])
    pen.line([(f.x + 0.16, top), (c.x - 0.16, top)])
    pen.op(c.x, top, "$+$")
    pen.op(c.x, 2.05, r"$\times$")
    pen.line([(i.x, i.y + 0.22), (i.x, 2.05), (c.x - 0.16, 2.05)], GATE_COLORS["i"])
    pen.line([(c.x, c.y + 0.22), (c.x, 2.05 - 0.16)], GATE_COLORS["c"])
    pen.line([(c.x, 2.21), (c.x, top - 0.16)])
    pen.line([(c.x + 0.16, top), (5.9, top)])
    pen.text(6.0, top + 0.25, r"$\boldsymbol{c}^{(t)}$", ha="left")
    # h(t) = o * tanh(c(t)).
    tanh_x = 5.05
    pen.dot(tanh_x, top)
    pen.line([(tanh_x, top), (tanh_x, 2.2)])
    pen.ax.add_patch(pen.patches.Ellipse((tanh_x, 2.05), 0.62, 0.3, facecolor=pen.c["page"], edgecolor=pen.c["ink"], linewidth=1.2, zorder=4))
    pen.text(tanh_x, 2.05, r"$\tanh$", size=11)
    pen.op(tanh_x, 1.35, r"$\times$")
    pen.line([(tanh_x, 1.9), (tanh_x, 1.51)])
    pen.line([(o.x + 0.31, o.y), (tanh_x - 0.16, 1.35)], GATE_COLORS["o"])
    pen.line([(tanh_x + 0.16, 1.35), (5.9, 1.35)])
    pen.text(6.0, 1.6, r"$\boldsymbol{h}^{(t)}$", ha="left")
    if diagram.peepholes:  # f and i read c(t-1), o reads the new c(t)
        taps = {"f": (0.8, top - 0.05), "i": (0.8, top - 0.05), "o": (tanh_x - 0.25, top - 0.1)}
        for gate in (f, i, o):
            pen.line([taps[gate.letter], (gate.x - 0.2, gate.y + 0.23)], pen.c["muted"], dashed=True)
        pen.text(0.55, 2.35, "peepholes", size=9, colour=pen.c["muted"])


def _gru(pen, diagram):
    r, z, h = diagram.gates
    _inputs(pen, [g.x for g in diagram.gates], from_top=True)
    for gate in diagram.gates:
        pen.gate(gate)
    top = 2.7
    # h(t) = z * h(t-1) + (1 - z) * h~
    _state_in(pen, "h", z.x, top)
    pen.line([(z.x, z.y + 0.22), (z.x, top - 0.16)], GATE_COLORS["z"])
    pen.line([(z.x + 0.16, top), (4.6, top)])
    pen.op(4.6 + 0.16, top, "$+$")
    pen.line([(4.92, top), (5.9, top)])
    pen.text(6.0, top + 0.25, r"$\boldsymbol{h}^{(t)}$", ha="left")
    pen.op(4.76, 2.0, r"$\times$")
    pen.line([(h.x, h.y + 0.22), (h.x, 2.0), (4.6, 2.0)], GATE_COLORS["h"])
    pen.line([(z.x + 0.12, z.y + 0.2), (3.05, 2.25), (4.62, 2.08)], GATE_COLORS["z"])
    pen.text(3.25, 2.42, r"$1-z$", size=10, colour=GATE_COLORS["z"])
    pen.line([(4.76, 2.16), (4.76, top - 0.16)])
    # r acts on the recurrent input of the candidate.
    pen.op(2.95, 0.95, r"$\times$")
    pen.dot(2.95, 0.6)
    pen.line([(2.95, 0.6), (2.95, 0.79)])
    pen.line([(r.x + 0.31, r.y - 0.1), (2.8, 1.0)], GATE_COLORS["r"])
    pen.line([(2.95, 1.11), (h.x - 0.31, h.y - 0.1)], GATE_COLORS["r"])
    pen.text(3.25, 0.42, "r ⊙ (W h)" if diagram.spec.get("reset_after", True) else "W (r ⊙ h)", size=9, colour=pen.c["muted"])
