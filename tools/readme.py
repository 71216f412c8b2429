"""The README's generated tables: the recipes (from catalog.yaml) and the results (from run records).

`python -m tools.readme --write` (`make readme`) rewrites each block between its markers; a
test fails when a block in README.md is stale.
"""

import argparse
import sys

from tools.catalog import ROOT, brief_check, load_catalog, validate_catalog

README = ROOT / "README.md"
START = "<!-- recipe-table:start (generated from catalog.yaml by `make readme`; do not edit) -->"
END = "<!-- recipe-table:end -->"
RESULTS_START = (
    "<!-- results-table:start (generated from recipes/*/pretrained/run.json and bench/results/brief/*.json by `make readme`; do not edit) -->"
)
RESULTS_END = "<!-- results-table:end -->"


def recipe_table(catalog):
    """Markdown table of every recipe: link, summary, family, properties, brief check."""
    rows = ["| recipe | what it shows | family | brief check (2-core CPU) |", "|---|---|---|---|"]
    for rid, entry in catalog.items():
        rows.append(f"| [`{rid}`](recipes/{rid}/) | {entry['summary']} | {entry['family']} | {brief_check(entry)} |")
    return "\n".join(rows)


def _replace_block(text, start, end, body):
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"README.md lacks the markers {start!r} ... {end!r}. Add them where the table goes.")
    return f"{head}{start}\n{body}\n{end}{tail}"


def render(text, catalog):
    """`text` with both generated blocks replaced by the current tables."""
    from tools import results

    text = _replace_block(text, START, END, recipe_table(catalog))
    return _replace_block(text, RESULTS_START, RESULTS_END, results.markdown_table(results.collect(catalog)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite README.md in place")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    problems = validate_catalog(catalog)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    text = README.read_text(encoding="utf-8")
    new = render(text, catalog)
    if args.write:
        README.write_text(new, encoding="utf-8")
        print("README.md table updated" if new != text else "README.md table already current")
        return 0
    print(recipe_table(catalog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
