"""`recipe atlas`: every recurrent architecture of the catalog on one sheet, the course's group exercise as a figure.

Each panel is a recipe's circuit diagram derived from its model (as `recipe diagram
--view circuit` draws it), headed by the recipe id and the Deep Learning book figure it
instantiates, and captioned with the statements that hold for it, numbered as on the
course slides. Under the panels, how the architectures relate, listing the recipes that
build each one. Convolution-only recipes (no recurrence of any kind) are left out.
"""

from dataclasses import dataclass
from pathlib import Path

from tools import diagram

# The course slides' numbers of the statements (shared/BOOK-FIGURES.md); the others have none.
SLIDE_NUMBERS = {
    "output_each_step": 1,
    "output_after_sequence": 2,
    "context_input": 3,
    "hidden_recurrence": 4,
    "output_recurrence": 5,
    "encoder": 7,
    "decoder": 8,
    "encoder_decoder": 9,
    "bidirectional": 10,
    "teacher_forcing": 11,
    "parallel_training": 12,
}
# How the book's architectures relate: (figure, what it is built from). Listed when the catalog has the figure.
RELATIONS = (
    ("10.4", "10.3 with the hidden-to-hidden edge replaced by output-to-hidden; trained with teacher forcing (10.6), every step is computed at once"),
    ("10.5", "10.3 read to the end: one output from the final state, which is an encoder (a reader)"),
    ("10.9", "a writer: a fixed vector as initial state or per-step context, the previous output fed back"),
    ("10.10", "10.3 plus the previous output fed back: y(t-1) -> h(t) next to x(t) -> h(t)"),
    ("10.10 without x", "a generator of its own sequence: the previous output is the only input (a language model, a series continued)"),
    ("10.11", "two 10.3 chains over the same steps, one run backwards; their states meet at every output"),
    ("10.12", "encoder-decoder = the reader of 10.5 (sequence -> C) + the writer of 10.9 (C -> sequence); attention reads every encoder step"),
    ("10.13", "10.3 stacked: each layer's hidden sequence is the next layer's input"),
    ("10.14", "one composition shared over a tree instead of a chain over time"),
)
ORDER = ("10.3", "10.4", "10.5", "10.9", "10.10", "10.10 without x", "10.11", "10.12", "10.13", "10.14")
SHEET_WIDTH = 15.0


def architectures():
    """[(recipe id, Architecture, book figure)] of every catalog recipe with recurrence, in the book's order."""
    from tools import runner
    from tools.catalog import read_catalog

    found = []
    for recipe_id in read_catalog():
        _, model = runner.build_untrained(recipe_id)
        arch = diagram.recipe_architecture(recipe_id, model)
        figure = diagram.book_figure(arch)
        if figure:
            found.append((recipe_id, arch, figure))
    return sorted(found, key=lambda item: (ORDER.index(item[2]) if item[2] in ORDER else len(ORDER), item[0]))


def caption(arch):
    """The statements that hold for an architecture, slide-numbered first: '1 output at each step · 4 ...'."""
    from tools.architecture import statements
    from tools.catalog import PROPERTIES

    held = [key for key, statement in statements(arch).items() if statement.holds]
    numbered = sorted((SLIDE_NUMBERS[key], PROPERTIES[key]) for key in held if key in SLIDE_NUMBERS)
    others = [PROPERTIES[key] for key in held if key not in SLIDE_NUMBERS]
    return [f"{number} {text}" for number, text in numbered] + others


@dataclass
class _Panel:
    """One recipe's circuit on the sheet: its graph, drawing bounds (inches), caption lines and place."""

    recipe_id: str
    figure: str
    graph: object
    bounds: tuple
    lines: list
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self):
        left, right, _, _ = self.bounds
        return max(right - left + 0.4, 3.4)

    @property
    def drawing_height(self):
        _, _, bottom, top = self.bounds
        return top - bottom + 0.2

    @property
    def height(self):
        return 0.45 + self.drawing_height + 0.1 + 0.2 * len(self.lines)


def _place(panels):
    """Rows of panels left to right within the sheet's width; returns the height they take."""
    x, y, row_height = 0.0, 0.0, 0.0
    for panel in panels:
        if x + panel.width > SHEET_WIDTH and x > 0:
            x, y, row_height = 0.0, y + row_height + 0.45, 0.0
        panel.x, panel.y = x, y
        x += panel.width + 0.3
        row_height = max(row_height, panel.height)
    return y + row_height


def write_atlas(path, theme="light"):
    """Draw the atlas to `path` (svg, png or pdf); returns the path."""
    import matplotlib.pyplot as plt

    from recipes.common import style

    colours = diagram.THEMES[theme]
    panels = []
    for recipe_id, arch, figure in architectures():
        graph = diagram.circuit_graph(arch)
        panels.append(_Panel(recipe_id, figure, graph, diagram.bounds(graph), _wrap(caption(arch), 44)))
    header, margin = 0.95, 0.3
    body = _place(panels)
    relations = [
        (figure, text, [p.recipe_id for p in panels if p.figure == figure]) for figure, text in RELATIONS if figure in {p.figure for p in panels}
    ]
    relation_lines = [line for figure, text, ids in relations for line in _wrap([f"fig. {figure}: {text} ({', '.join(ids)})"], 150)]
    width, height = SHEET_WIDTH + 2 * margin, header + body + 1.1 + 0.24 * len(relation_lines)
    with plt.rc_context(diagram.RC):
        fig = plt.figure(figsize=(width, height), facecolor=colours["page"])
        sheet = fig.add_axes((0, 0, 1, 1))
        sheet.set_xlim(0, width)
        sheet.set_ylim(height, 0)  # inches from the top
        sheet.set_axis_off()
        heading = "Recurrent architectures of the Deep Learning book, ch. 10, as built by the recipes"
        sheet.text(margin, 0.35, heading, fontsize=15, fontweight="bold", color=colours["ink"], va="center")
        note = "Each circuit is derived from the recipe's Keras model; captions list the statements that hold, numbered as on the course slides."
        sheet.text(margin, 0.68, note, fontsize=10.5, color=colours["muted"], va="center")
        for panel in panels:
            px, py = panel.x + margin, panel.y + header
            sheet.text(px, py + 0.1, panel.recipe_id, fontsize=12, fontweight="bold", color=colours["ink"], va="center")
            sheet.text(px, py + 0.33, f"fig. {panel.figure}", fontsize=9.5, color=colours["muted"], va="center")
            left, right, bottom, top = panel.bounds
            # Axes of exactly the drawing's size in inches, so the circuit keeps the scale of `recipe diagram`.
            ax = fig.add_axes(
                (px / width, 1 - (py + 0.45 + panel.drawing_height) / height, (right - left + 0.2) / width, panel.drawing_height / height)
            )
            ax.set_xlim(left - 0.1, right + 0.1)
            ax.set_ylim(bottom - 0.1, top + 0.1)
            ax.set_axis_off()
            diagram.paint(ax, panel.graph, colours)
            for number, line in enumerate(panel.lines):
                sheet.text(px, py + 0.55 + panel.drawing_height + 0.2 * number, line, fontsize=9, color=colours["muted"], va="center")
        cursor = header + body + 0.5
        sheet.text(margin, cursor, "How they relate", fontsize=12, fontweight="bold", color=colours["ink"], va="center")
        for number, line in enumerate(relation_lines, start=1):
            sheet.text(margin, cursor + 0.06 + 0.24 * number, line, fontsize=10, color=colours["ink"], va="center")
        return Path(style.save(fig, path))


def _wrap(lines, width):
    """Lines joined with ' · ' and wrapped at `width` characters."""
    wrapped, current = [], ""
    for item in lines:
        candidate = f"{current} · {item}" if current else item
        if len(candidate) > width and current:
            wrapped.append(current)
            current = item
        else:
            current = candidate
    return wrapped + ([current] if current else [])
