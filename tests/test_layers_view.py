"""The layers view (`graph.plot_layers`): mask operations hidden, Bidirectional and custom layers opened, same bytes every run."""

import subprocess
import sys
from pathlib import Path

import keras
import pydot
import pytest

from recipes.common.cells import recurrent_layer
from tools import graph, runner
from tools.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def parse(dot_text):
    """(node ids, {(tail, head): attributes}, cluster names) of a dot text, subgraphs included."""
    (root,) = pydot.graph_from_dot_data(dot_text)
    nodes, edges, clusters = set(), {}, set()

    def visit(g):
        nodes.update(n.get_name().strip('"') for n in g.get_nodes() if n.get_name() not in ("node", "edge", "graph"))
        for e in g.get_edges():
            edges[(e.get_source().strip('"'), e.get_destination().strip('"'))] = e.get_attributes()
        for sub in g.get_subgraphs():
            if sub.get_name().strip('"').startswith("cluster_"):
                clusters.add(sub.get_name().strip('"'))
            visit(sub)

    visit(root)
    return nodes, edges, clusters


def visible(edges):
    return {pair for pair, attributes in edges.items() if attributes.get("style") != "invis"}


@pytest.fixture(scope="module")
def sequence_labeling():
    return runner.build_untrained("sequence_labeling")[1]


@pytest.fixture(scope="module")
def seq2seq_attention():
    return runner.build_untrained("seq2seq_attention")[1]


def test_mask_operations_are_hidden_unless_asked_for(sequence_labeling):
    nodes, edges, _ = parse(graph.layers_dot(sequence_labeling))
    assert "not_equal" not in nodes and not any("not_equal" in pair for pair in edges)
    assert ("word_embedding", "tagger_rnn") in edges
    nodes, edges, _ = parse(graph.layers_dot(sequence_labeling, show_masks=True))
    assert "not_equal" in nodes
    assert ("word_ids", "not_equal") in edges and ("not_equal", "tagger_rnn") in edges


def test_bidirectional_opens_into_forward_and_backward(tmp_path):
    _, model = runner.build_untrained("bidirectional_tagger")
    nodes, edges, clusters = parse(graph.layers_dot(model))
    forward, backward, merge = "bidirectional_rnn/forward_tagger_rnn", "bidirectional_rnn/backward_tagger_rnn", "bidirectional_rnn//merge"
    assert {forward, backward, merge} <= nodes and "cluster_bidirectional_rnn" in clusters
    # The input reaches both directions through the layer's own box; the merged sequence leaves from the merge node.
    assert {("symbol_embedding", "bidirectional_rnn"), ("bidirectional_rnn", forward), ("bidirectional_rnn", backward)} <= visible(edges)
    assert {(forward, merge), (backward, merge), (merge, "label_probabilities")} <= visible(edges)
    assert ("bidirectional_rnn", "label_probabilities") not in edges
    svg = graph.plot_layers(model, tmp_path / "layers.svg").read_text()
    for text in ("forward_tagger_rnn", "backward_tagger_rnn", "merge_mode=concat", ">concat<"):
        assert text in svg


def test_bidirectional_states_leave_from_the_direction_that_makes_them(seq2seq_attention):
    _, edges, _ = parse(graph.layers_dot(seq2seq_attention))
    # input_summary reads the forward layer's last state and the backward layer's; the decoder reads the merged sequence.
    assert {("encoder_birnn/forward_encoder_rnn", "input_summary"), ("encoder_birnn/backward_encoder_rnn", "input_summary")} <= visible(edges)
    assert ("encoder_birnn//merge", "decoder") in edges and ("encoder_birnn//merge", "input_summary") not in edges


def test_custom_layer_opens_into_its_sublayers(seq2seq_attention):
    nodes, edges, clusters = parse(graph.layers_dot(seq2seq_attention))
    assert {"decoder", "decoder/gru_cell", "decoder/additive_attention"} <= nodes and "cluster_decoder" in clusters
    # Edges into the layer enter its box; the edge out leaves from the cluster's border.
    assert ("output_embedding", "decoder") in edges
    assert edges[("decoder//out", "next_digit_probabilities")]["ltail"].strip('"') == "cluster_decoder"


def test_rnn_around_a_custom_cell_opens_into_the_cell_and_its_layers():
    _, model = runner.build_untrained("sine_continuation")
    nodes, _, clusters = parse(graph.layers_dot(model))
    cell = "closed_loop_lstm/closed_loop_cell"
    assert {"closed_loop_lstm", cell, f"{cell}/lstm_cell", f"{cell}/readout"} <= nodes
    assert {"cluster_closed_loop_lstm", f"cluster_{cell}"} <= clusters


def toy_model():
    """A nested model holding an RNN around our LSTM cell, and a Bidirectional layer whose outputs are used apart."""
    outer_in = keras.Input((None, 2), name="signal")
    inner_in = keras.Input((None, 2), name="frames")
    encoder = keras.Model(inner_in, recurrent_layer("lstm", 8, "encoder_lstm")(inner_in), name="encoder")
    gru = keras.layers.GRU(3, return_sequences=True, return_state=True)
    forward, _, _, backward_state = keras.layers.Bidirectional(gru, merge_mode=None, name="both")(encoder(outer_in))
    outputs = [keras.layers.Dense(1, name="from_forward")(forward), keras.layers.Dense(1, name="from_backward_state")(backward_state)]
    return keras.Model(outer_in, outputs, name="toy")


def test_nested_models_and_unmerged_directions():
    nodes, edges, _ = parse(graph.layers_dot(toy_model()))
    assert {"encoder/encoder_lstm", "encoder/encoder_lstm/encoder_lstm_cell"} <= nodes
    assert ("signal", "encoder/frames") in edges and ("encoder/frames", "encoder/encoder_lstm") in edges
    assert ("encoder/encoder_lstm//out", "both") in edges
    assert not any(node.startswith("both//merge") for node in nodes)
    assert {("both/forward_gru", "from_forward"), ("both/backward_gru", "from_backward_state")} <= visible(edges)
    assert ("both/backward_gru", "from_forward") not in edges and ("both/forward_gru", "from_backward_state") not in edges


def test_layers_view_is_byte_identical_across_builds_and_processes(tmp_path):
    first = graph.plot_layers(runner.build_untrained("seq2seq_attention")[1], tmp_path / "a.svg").read_bytes()
    runner.build_untrained("wavenet")  # another model in between must not shift generated names
    second = graph.plot_layers(runner.build_untrained("seq2seq_attention")[1], tmp_path / "b.svg").read_bytes()
    assert first == second
    script = f"from tools import graph, runner; graph.plot_layers(runner.build_untrained('seq2seq_attention')[1], {str(tmp_path / 'c.svg')!r})"
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True)
    assert (tmp_path / "c.svg").read_bytes() == first


def test_layers_view_leaves_plot_model_unchanged(sequence_labeling, tmp_path):
    before = graph.model_dot(sequence_labeling)
    graph.plot_layers(sequence_labeling, tmp_path / "layers.svg")
    assert graph.model_dot(sequence_labeling) == before
    assert "not_equal" in before  # the plot keeps what it always drew


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_layers_view_writes_every_format(sequence_labeling, tmp_path, fmt, magic):
    assert graph.plot_layers(sequence_labeling, tmp_path / f"layers.{fmt}", fmt=fmt, rankdir="LR").read_bytes().startswith(magic)


def test_unknown_rankdir_names_the_fix(sequence_labeling, tmp_path):
    with pytest.raises(UsageError, match="Use TB .* or LR"):
        graph.plot_layers(sequence_labeling, tmp_path / "layers.svg", rankdir="BT")
