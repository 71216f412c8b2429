"""The diagrams the READMEs show, drawn by the tools: `make figures` writes them, a test checks they are current.

Every recurrent recipe (one whose derived architecture instantiates a Deep Learning book
figure) gets recipes/<id>/diagram_circuit.svg, diagram_unrolled.svg and, when it has a
recurrent layer, diagram_cell.svg; the top README's "Figures" section shows one example
of each view from docs/figures/, and docs/figures/atlas.svg is `recipe atlas`.
"""

import argparse
import sys

from tools.catalog import ROOT, read_catalog

DOCS = ROOT / "docs" / "figures"
# The top README's examples: file -> (recipe, view, theme, steps).
EXAMPLES = {
    "circuit_seq2seq_attention.svg": ("seq2seq_attention", "circuit", "light", 3),
    "unrolled_bidirectional_tagger.svg": ("bidirectional_tagger", "unrolled", "light", 3),
    "cell_memory_task.svg": ("memory_task", "cell", "light", 3),
    "layers_seq2seq_attention.svg": ("seq2seq_attention", "layers", "light", 3),
    "unrolled_output_recurrence_dark.svg": ("output_recurrence", "unrolled", "dark", 3),
}
ATLAS = DOCS / "atlas.svg"


def recipe_views(arch):
    """The views a recipe README shows: circuit and unrolled for every recurrent architecture, cell when it has a cell."""
    from tools import diagram

    if diagram.book_figure(arch) is None:
        return []
    return ["circuit", "unrolled"] + (["cell"] if arch.chains() else [])


def committed(recipe_ids=None):
    """{path: (recipe id, view, theme, steps)} of every diagram file the READMEs show (the atlas apart),
    or only those of `recipe_ids` (then without the top README's examples)."""
    from tools import diagram, runner

    files = {}
    for recipe_id in recipe_ids or read_catalog():
        _, model = runner.build_untrained(recipe_id)
        for view in recipe_views(diagram.recipe_architecture(recipe_id, model)):
            files[ROOT / "recipes" / recipe_id / f"diagram_{view}.svg"] = (recipe_id, view, "light", 3)
    if not recipe_ids:
        files.update({DOCS / name: spec for name, spec in EXAMPLES.items()})
    return files


def draw(path, spec):
    """Draw one committed diagram (an untrained model: the figure depends only on the architecture)."""
    from tools import diagram, runner

    recipe_id, view, theme, steps = spec
    _, model = runner.build_untrained(recipe_id)
    return diagram.write_view(recipe_id, model, view, path, "svg", theme, steps)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="(re)write every committed diagram and the atlas")
    parser.add_argument("--recipe", action="append", metavar="ID", help="only this recipe's diagrams (no atlas); repeatable")
    args = parser.parse_args(argv)
    from tools import atlas

    files = committed(args.recipe)
    if not args.write:
        print("\n".join(str(path.relative_to(ROOT)) for path in [*files, *([] if args.recipe else [ATLAS])]))
        return 0
    for path, spec in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(draw(path, spec))
    if not args.recipe:
        print(atlas.write_atlas(ATLAS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
