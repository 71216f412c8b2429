"""`recipe diagram` and `recipe atlas`: the book's figures derived from the built models.

The seven architectures of the course's group exercise are pinned to the Deep Learning
book's figures (shared/BOOK-FIGURES.md) as node and edge sets in book notation, not
pixels; every recipe's derived statements are compared with its catalog properties;
every view renders for every recipe, the same model gives the same bytes, and the cell
view's gates follow the layer's type and config.
"""

import keras
import pytest
from conftest import RECIPE_IDS

from tools import architecture, atlas, cellview, cli, diagram, runner
from tools.catalog import read_catalog

MIDDLE = ["t-1", "t", "t+1"]
END = ["τ-2", "τ-1", "τ"]
WHOLE = ["1", "2", "τ"]
FROM_START = ["1", "2", "3"]
BEFORE = {"t-1": "t-2", "t": "t-1", "t+1": "t", "1": "0", "2": "1", "3": "2"}


def per_step(steps, *pairs):
    """Edges (a(s), b(s), letter) at every step s, for pairs (a, b, letter) of symbols."""
    return {(f"{a}({s})", f"{b}({s})", letter) for s in steps for a, b, letter in pairs}


def chain(symbol, steps, backward=False):
    """The recurrence edges of a chain over consecutive steps (g runs backwards: g(t+1) -> g(t))."""
    pairs = zip(steps, steps[1:])
    return {(f"{symbol}({b})", f"{symbol}({a})", "W") if backward else (f"{symbol}({a})", f"{symbol}({b})", "W") for a, b in pairs}


def loss(steps):
    return per_step(steps, ("o", "L", ""), ("y", "L", ""))


def nodes_of(edges):
    return {name for edge in edges for name in edge[:2]}


def without_merges(edges):
    """The book feeds h(t) and g(t) to o(t) directly (fig. 10.11); our figures draw Keras' merge m(t) between them."""
    merged = {b for a, b, _ in edges if b.startswith("m(")}
    direct = {(a, b, letter) for a, b, letter in edges if a not in merged and b not in merged}
    for m in merged:
        for a, _, _ in [e for e in edges if e[1] == m]:
            direct |= {(a, b, letter) for source, b, letter in edges if source == m}
    return direct


# Figure -> (recipe, mode, expected edges of the unrolled graph with 3 steps).
# Deliberate differences from the book, each one a choice stated in tools/diagram.py's docstring:
# - R is the output-to-hidden letter everywhere (fig. 10.4 writes W; fig. 10.9 swaps U and R).
# - Running free, the fed-back output is drawn as a node ŷ(t-1) = argmax/sample of o(t-1) (fig. 10.6 draws o(t-1) -> h(t)).
# - Fig. 10.9: the target is compared with o at the same step and the input is y(t-1) (fig. 10.10's
#   indexing, not the book's "strange indexing" y(t) -> h(t+1)); the initial state is a node h(0), as Keras has it.
# - Fig. 10.12: C sets the decoder's initial state s(0) (the hand-off our models do), not every s(j).
BOOK = {
    "10.3": (
        "sequence_labeling",
        "train",
        per_step(MIDDLE, ("x", "h", "U"), ("h", "o", "V")) | chain("h", MIDDLE) | loss(MIDDLE),
    ),
    "10.6 training": (
        "output_recurrence",
        "train",
        per_step(MIDDLE, ("x", "h", "U"), ("h", "o", "V")) | {(f"y({BEFORE[s]})", f"h({s})", "R") for s in MIDDLE} | loss(MIDDLE),
    ),
    "10.4 / 10.6 running free": (
        "output_recurrence",
        "free",
        per_step(MIDDLE, ("x", "h", "U"), ("h", "o", "V"))
        | {(f"ŷ({BEFORE[s]})", f"h({s})", "R") for s in MIDDLE}
        | {("o(t-1)", "ŷ(t-1)", ""), ("o(t)", "ŷ(t)", "")},
    ),
    "10.5": (
        "sequence_classifier",
        "train",
        per_step(END, ("x", "h", "U")) | chain("h", END) | {("h(τ)", "o(τ)", "V"), ("o(τ)", "L(τ)", ""), ("y(τ)", "L(τ)", "")},
    ),
    "10.9": (
        "vector_to_sequence",
        "train",
        {("x", "h(0)", ""), ("h(0)", "h(1)", "W")}
        | chain("h", FROM_START)
        | {(f"y({BEFORE[s]})", f"h({s})", "R") for s in FROM_START}
        | per_step(FROM_START, ("h", "o", "V"))
        | loss(FROM_START),
    ),
    "10.10": (
        "conditional_generation",
        "train",
        per_step(MIDDLE, ("x", "h", "U"), ("h", "o", "V"))
        | chain("h", MIDDLE)
        | {(f"y({BEFORE[s]})", f"h({s})", "R") for s in MIDDLE}
        | loss(MIDDLE),
    ),
    "10.11": (
        "bidirectional_tagger",
        "train",
        per_step(MIDDLE, ("x", "h", "U"), ("x", "g", "U"), ("h", "o", "V"), ("g", "o", "V"))
        | chain("h", MIDDLE)
        | chain("g", MIDDLE, backward=True)
        | loss(MIDDLE),
    ),
    "10.12": (
        "seq2seq_addition",
        "train",
        per_step(WHOLE, ("x", "h", "U"))
        | chain("h", WHOLE)
        | {("h(τ)", "C", ""), ("C", "s(0)", ""), ("s(0)", "s(1)", "W")}
        | chain("s", FROM_START)
        | {(f"y({BEFORE[s]})", f"s({s})", "R") for s in FROM_START}
        | per_step(FROM_START, ("s", "o", "V"))
        | loss(FROM_START),
    ),
}
# The folded (circuit) figures of the same seven, in book notation; y -> o is the fed-back output's route.
CIRCUITS = {
    "sequence_labeling": {("x", "h", "U"), ("h", "h", "W"), ("h", "o", "V"), ("o", "L", ""), ("y", "L", "")},
    "output_recurrence": {("x", "h", "U"), ("y", "h", "R"), ("o", "y", ""), ("h", "o", "V"), ("o", "L", ""), ("y", "L", "")},
    "sequence_classifier": {("x", "h", "U"), ("h", "h", "W"), ("h", "o", "V"), ("o", "L", ""), ("y", "L", "")},
    "vector_to_sequence": {("x", "h", ""), ("y", "h", "R"), ("o", "y", ""), ("h", "h", "W"), ("h", "o", "V"), ("o", "L", ""), ("y", "L", "")},
    "conditional_generation": {("x", "h", "U"), ("y", "h", "R"), ("o", "y", ""), ("h", "h", "W"), ("h", "o", "V"), ("o", "L", ""), ("y", "L", "")},
    "bidirectional_tagger": {
        ("x", "h", "U"),
        ("x", "g", "U"),
        ("h", "h", "W"),
        ("g", "g", "W"),
        ("h", "m", ""),
        ("g", "m", ""),
        ("m", "o", "V"),
        ("o", "L", ""),
        ("y", "L", ""),
    },
    "seq2seq_addition": {
        ("x", "h", "U"),
        ("h", "h", "W"),
        ("h", "C", ""),
        ("C", "s", ""),
        ("y", "s", "R"),
        ("o", "y", ""),
        ("s", "s", "W"),
        ("s", "o", "V"),
        ("o", "L", ""),
        ("y", "L", ""),
    },
}


@pytest.fixture(scope="module")
def derived():
    """{recipe id: (model, Architecture)} for every catalog recipe, untrained (DEFAULT_CONFIG)."""
    found = {}
    for recipe_id in RECIPE_IDS:
        _, model = runner.build_untrained(recipe_id)
        found[recipe_id] = (model, diagram.recipe_architecture(recipe_id, model))
    return found


@pytest.mark.parametrize("figure", sorted(BOOK))
def test_unrolled_topology_is_the_book_figure(figure, derived):
    recipe_id, mode, expected = BOOK[figure]
    nodes, edges = diagram.unrolled_graph(derived[recipe_id][1], 3, mode=mode).topology()
    if recipe_id == "bidirectional_tagger":
        edges = without_merges(edges)
        nodes = {n for n in nodes if not n.startswith("m(")}
    assert edges == expected, f"missing {sorted(expected - edges)}, extra {sorted(edges - expected)}"
    assert nodes == nodes_of(expected)


@pytest.mark.parametrize("recipe_id", sorted(CIRCUITS))
def test_circuit_topology_is_the_folded_book_figure(recipe_id, derived):
    nodes, edges = diagram.circuit_graph(derived[recipe_id][1]).topology()
    assert edges == CIRCUITS[recipe_id], f"missing {sorted(CIRCUITS[recipe_id] - edges)}, extra {sorted(edges - CIRCUITS[recipe_id])}"
    assert nodes == nodes_of(CIRCUITS[recipe_id])


@pytest.mark.parametrize(
    "recipe_id, figure",
    [(r, f) for f, (r, _, _) in BOOK.items() if " " not in f]
    + [("sine_continuation", "10.10 without x"), ("char_rnn", "10.13"), ("deep_rnn", "10.13"), ("recursive_net", "10.14"), ("wav2letter", None)],
)
def test_book_figure_is_recognised(recipe_id, figure, derived):
    assert diagram.book_figure(derived[recipe_id][1]) == figure


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_derived_statements_equal_the_catalog_properties(recipe_id, derived):
    """The course's 'find the mistakes in the figures', automated: the catalog says what the model is."""
    held, undecided = architecture.derived_properties(derived[recipe_id][1])
    listed = set(read_catalog()[recipe_id]["properties"])
    assert not undecided, undecided
    assert held == listed, f"derived but not listed: {sorted(held - listed)}; listed but not derived: {sorted(listed - held)}"


def test_validate_names_the_recipe_and_the_property(monkeypatch, capsys):
    catalog = read_catalog()
    catalog["sequence_classifier"] = {
        **catalog["sequence_classifier"],
        "properties": ["output_after_sequence", "hidden_recurrence", "gated_memory", "bidirectional"],
    }
    monkeypatch.setattr(cli, "read_catalog", lambda: {"sequence_classifier": catalog["sequence_classifier"]})
    monkeypatch.setattr(cli, "validate_catalog", lambda entries: [])  # the other folders have no entry in this one-recipe catalog
    assert cli.main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "sequence_classifier" in err and "'encoder'" in err and "'bidirectional'" in err


def test_a_statement_that_cannot_be_derived_says_so():
    inputs = keras.Input((None, 3))

    class Mystery(keras.layers.Layer):
        state_size = 4
        output_size = 4

        def call(self, x, states):
            return keras.ops.tanh(x[:, :1] + states[0]), [keras.ops.tanh(x[:, :1] + states[0])]

    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.RNN(Mystery(), return_sequences=True)(inputs)))
    found = architecture.statements(architecture.derive(model))
    assert found["gated_memory"].holds is None and "diagram_spec" in found["gated_memory"].why
    assert found["hidden_recurrence"].holds is True


def test_teacher_forced_input_must_be_an_input():
    inputs = keras.Input((None, 3), name="frames")
    model = keras.Model(inputs, keras.layers.SimpleRNN(4)(inputs))
    with pytest.raises(architecture.DerivationError, match="not an input"):
        architecture.derive(model, ("previous",))


# --- Rendering. ---


def views_of(arch):
    return ["circuit", "unrolled", "layers"] + (["cell"] if arch.chains() else [])


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_every_view_renders(recipe_id, derived, tmp_path):
    """Every view of every recipe; those a README shows are drawn (and compared) by test_committed_diagrams."""
    from tools import figures

    model, arch = derived[recipe_id]
    for view in sorted(set(views_of(arch)) - set(figures.recipe_views(arch))):
        path = diagram.write_view(recipe_id, model, view, tmp_path / f"{view}.svg", "svg")
        assert path.stat().st_size > 2000 and path.read_bytes().lstrip().startswith(b"<?xml"), view


@pytest.mark.parametrize("recipe_id", ["seq2seq_attention", "deepspeech2_ctc", "char_rnn"])
def test_same_model_same_bytes(recipe_id, derived, tmp_path):
    model, arch = derived[recipe_id]
    for view in views_of(arch):
        for theme in ("light", "dark"):
            first = diagram.write_view(recipe_id, model, view, tmp_path / f"a_{view}_{theme}.svg", "svg", theme)
            second = diagram.write_view(recipe_id, model, view, tmp_path / f"b_{view}_{theme}.svg", "svg", theme)
            assert first.read_bytes() == second.read_bytes(), (view, theme)


def test_themes_differ_and_formats_are_real(derived, tmp_path):
    model, _ = derived["memory_task"]
    light = diagram.write_view("memory_task", model, "circuit", tmp_path / "l.svg", "svg", "light").read_bytes()
    dark = diagram.write_view("memory_task", model, "circuit", tmp_path / "d.svg", "svg", "dark").read_bytes()
    assert light != dark and b"#16181c" in dark and b"#16181c" not in light
    assert diagram.write_view("memory_task", model, "unrolled", tmp_path / "u.png", "png").read_bytes()[:4] == b"\x89PNG"
    assert diagram.write_view("memory_task", model, "cell", tmp_path / "c.pdf", "pdf").read_bytes()[:5] == b"%PDF-"


def test_steps_change_the_unrolled_graph(derived):
    arch = derived["memory_task"][1]
    for steps in (2, 4, 6):
        nodes, _ = diagram.unrolled_graph(arch, steps).topology()
        assert len([n for n in nodes if n.startswith("h(")]) == steps


# --- The cell view follows the layer's type and config. ---


def gates_of(cell):
    return [gate.letter for gate in cellview.cell_diagram(architecture.cell_spec(cell)).gates]


def test_cell_gates_follow_the_layer_type():
    from recipes.common.cells import BasicRNNCell, LSTMCell, PeepholeLSTMCell

    assert gates_of(keras.layers.LSTMCell(4)) == ["f", "i", "c", "o"]
    assert gates_of(LSTMCell(4)) == ["f", "i", "c", "o"]
    assert gates_of(keras.layers.GRUCell(4)) == ["r", "z", "h"]
    assert gates_of(keras.layers.SimpleRNNCell(4)) == ["h"] == gates_of(BasicRNNCell(4))
    assert cellview.cell_diagram(architecture.cell_spec(PeepholeLSTMCell(4))).peepholes == ["f", "i", "o"]
    for cell in (LSTMCell(4), keras.layers.LSTMCell(4)):
        diagram_ = cellview.cell_diagram(architecture.cell_spec(cell))
        assert diagram_.peepholes == [] and not any("p}_" in eq or "p}_{" in eq for _, eq in diagram_.equations)


def test_cell_equations_follow_the_config():
    plain = cellview.cell_diagram(architecture.cell_spec(keras.layers.LSTMCell(4)))
    no_bias = cellview.cell_diagram(architecture.cell_spec(keras.layers.LSTMCell(4, use_bias=False, activation="relu")))
    assert any("b_{f}" in eq for _, eq in plain.equations) and not any("b_{" in eq for _, eq in no_bias.equations)
    assert any("relu" in eq for _, eq in no_bias.equations) and any("forget-gate bias starts at 1" in n for n in plain.notes)
    assert not any("forget" in n for n in cellview.cell_diagram(architecture.cell_spec(keras.layers.LSTMCell(4, unit_forget_bias=False))).notes)
    after = cellview.cell_diagram(architecture.cell_spec(keras.layers.GRUCell(4)))
    before = cellview.cell_diagram(architecture.cell_spec(keras.layers.GRUCell(4, reset_after=False)))
    assert after.equations != before.equations and "reset_after=True" in after.notes[0] and "reset_after=False" in before.notes[0]


def test_cell_view_of_a_recipe_uses_its_layers(derived):
    arch = derived["bidirectional_tagger"][1]
    assert diagram.find_chain("bidirectional_tagger", arch, "bidirectional_rnn").layer == "bidirectional_rnn/forward"
    assert diagram.find_chain("bidirectional_tagger", arch, "bidirectional_rnn/backward").info["direction"] == "backward"
    assert diagram.find_chain("seq2seq_attention", derived["seq2seq_attention"][1], "decoder").info["cell"]["cell"] == "gru"
    assert derived["echo_state_network"][1].chains()[0].info["cell"]["trainable"] is False


# --- The CLI. ---


def test_cli_writes_each_view_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["diagram", "memory_task"]) == 0
    assert (tmp_path / "memory_task_circuit.svg").is_file()
    assert cli.main(["diagram", "memory_task"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["diagram", "memory_task", "--view", "cell", "--theme", "dark", "--out", "cell.png"]) == 0
    assert (tmp_path / "cell.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["diagram", "char_rnn", "--view", "unrolled", "--steps", "4", "--format", "pdf"]) == 0
    assert (tmp_path / "char_rnn_unrolled.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["diagram", "wav2letter", "--view", "cell"], "wav2letter has no recurrent layer"),
        (["diagram", "recursive_net", "--view", "cell"], "composes over a tree"),
        (["diagram", "deepspeech2_ctc", "--view", "cell", "--layer", "gru_9"], "bidirectional_gru_1/forward"),
        (["diagram", "memory_task", "--view", "gates"], "invalid choice"),
        (["diagram", "memory_task", "--theme", "sepia"], "invalid choice"),
        (["diagram", "memory_task", "--steps", "1"], "--steps takes 2 to 8"),
        (["diagram", "memory_task", "--steps", "99"], "--steps takes 2 to 8"),
        (["diagram", "memory_tsak"], "Did you mean 'memory_task'"),
        (["diagram", "memory_task", "--out", "d.gif"], "not a graph format"),
        (["diagram", "memory_task", "--set", "units=0"], "'units'"),
        (["atlas", "--format", "gif"], "invalid choice"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(argv, fragment, cli_error):
    code, err = cli_error(argv)
    assert code == 2 and len(err) == 1 and fragment in err[0], err


def test_atlas_lists_every_recurrent_architecture():
    found = atlas.architectures()
    ids = [recipe_id for recipe_id, _, _ in found]
    assert "wav2letter" not in ids and "dilated_context" not in ids
    assert {
        "sequence_labeling",
        "output_recurrence",
        "sequence_classifier",
        "vector_to_sequence",
        "conditional_generation",
        "bidirectional_tagger",
        "seq2seq_addition",
    } <= set(ids)
    assert atlas.caption(dict((r, a) for r, a, _ in found)["seq2seq_addition"])[:3] == [
        "3 input serves as fixed context or initial state",
        "4 recurrent connections between hidden units",
        "5 recurrent connections from the previous output",
    ]
