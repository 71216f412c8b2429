"""The course exercise: match seven architectures (Deep Learning book, ch. 10) with their statements.
`recipe list --property P` must list exactly the recipes that have P; this pins the seven."""

import pytest

from tools.catalog import read_catalog

# recipe id -> (statements it must have, statements it must not have), as the course slides attach
# them to the book's figures (shared/BOOK-FIGURES.md); tests/test_diagram.py derives the same from the models.
COURSE_ARCHITECTURES = {
    # fig. 10.3 (slides 1, 4): hidden-to-hidden recurrence, an output at each step
    "sequence_labeling": (
        {"output_each_step", "hidden_recurrence"},
        {"output_after_sequence", "output_recurrence", "encoder_decoder", "teacher_forcing"},
    ),
    # figs. 10.4 + 10.6 (1, 5, 11, 12): recurrence only from the previous output; teacher forcing decouples the steps
    "output_recurrence": ({"output_each_step", "output_recurrence", "teacher_forcing", "parallel_training"}, {"hidden_recurrence"}),
    # fig. 10.5 (2, 4, 7): one output after the whole sequence, read from the final state of an encoder (reader)
    "sequence_classifier": ({"output_after_sequence", "hidden_recurrence", "encoder"}, {"output_each_step", "teacher_forcing", "decoder"}),
    # fig. 10.9 (3, 4, 5, 8, 11): a fixed vector as context or initial state of a decoder (writer); no input sequence
    "vector_to_sequence": (
        {"context_input", "hidden_recurrence", "output_recurrence", "decoder", "teacher_forcing"},
        {"bidirectional", "output_each_step", "encoder"},
    ),
    # fig. 10.10 (1, 4, 5, 11): input at every step plus the previous output fed back
    "conditional_generation": ({"output_each_step", "hidden_recurrence", "output_recurrence", "teacher_forcing"}, {"output_after_sequence"}),
    # fig. 10.11 (1, 4, 10): summary of past and future
    "bidirectional_tagger": ({"bidirectional", "output_each_step", "hidden_recurrence"}, {"teacher_forcing"}),
    # fig. 10.12 (3, 7, 8, 9, 11): encoder-decoder, variable lengths
    "seq2seq_addition": ({"encoder", "decoder", "encoder_decoder", "context_input", "teacher_forcing"}, {"bidirectional", "output_each_step"}),
}


@pytest.mark.parametrize("recipe_id", sorted(COURSE_ARCHITECTURES))
def test_course_architecture_has_its_statements(recipe_id):
    catalog = read_catalog()
    if recipe_id not in catalog:
        pytest.fail(f"the course architecture '{recipe_id}' has no recipe")
    must, must_not = COURSE_ARCHITECTURES[recipe_id]
    properties = set(catalog[recipe_id]["properties"])
    assert must <= properties, f"{recipe_id} lacks {sorted(must - properties)}"
    assert not (must_not & properties), f"{recipe_id} wrongly claims {sorted(must_not & properties)}"


def test_parallel_training_only_without_hidden_recurrence():
    """Training parallelises over time only when no hidden state links the steps."""
    for rid, entry in read_catalog().items():
        properties = set(entry["properties"])
        if "parallel_training" in properties:
            assert "hidden_recurrence" not in properties, rid


def test_encoder_decoder_has_both_halves():
    for rid, entry in read_catalog().items():
        if "encoder_decoder" in entry["properties"]:
            assert {"encoder", "decoder"} <= set(entry["properties"]), rid
