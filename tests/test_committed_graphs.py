"""The graph figures committed with the recipe READMEs are exactly what `recipe plot` draws today."""

from pathlib import Path

import pytest

from tools import graph, runner

ROOT = Path(__file__).resolve().parent.parent
# figure -> (recipe, --set values), as each recipe README gives the command.
VARIANTS = {
    "conv_lstm/graph_lstm.svg": ("conv_lstm", ["model=lstm"]),
    "image_rows_rnn/graph_cnn.svg": ("image_rows_rnn", ["model=cnn"]),
    "raw_waveform_cnn/graph_log_mel.svg": ("raw_waveform_cnn", ["front_end=log_mel"]),
    "sequence_classifier/graph_bag_of_words.svg": ("sequence_classifier", ["model=bag_of_words"]),
    "vector_to_sequence/graph_every_step.svg": ("vector_to_sequence", ["conditioning=every_step"]),
    "wav2letter/graph.svg": ("wav2letter", ["channels=128", "first_kernel=16", "num_middle_layers=3", "wide_kernel=11", "wide_channels=256"]),
}
FIGURES = {
    **{f"{p.parent.name}/graph.svg": (p.parent.name, []) for p in sorted(ROOT.glob("recipes/*/graph.svg"))},
    **VARIANTS,
}


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_committed_graph_is_byte_identical(figure, tmp_path):
    recipe_id, sets = FIGURES[figure]
    _, model = runner.build_untrained(recipe_id, sets=sets)
    drawn = graph.plot_model(model, tmp_path / "graph.svg", fmt="svg")
    assert drawn.read_bytes() == (ROOT / "recipes" / figure).read_bytes()
