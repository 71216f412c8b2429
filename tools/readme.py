"""The README's recipe table, generated from catalog.yaml.

`python -m tools.readme --write` rewrites the block between the markers; a test fails
when the block in README.md is stale.
"""

import argparse
import sys

from tools.catalog import ROOT, load_catalog, validate_catalog

README = ROOT / "README.md"
START = "<!-- recipe-table:start (generated from catalog.yaml by `make readme`; do not edit) -->"
END = "<!-- recipe-table:end -->"


def recipe_table(catalog):
    """Markdown table of every recipe: link, summary, family, properties, brief check."""
    rows = ["| recipe | what it shows | family | brief check (2-core CPU) |", "|---|---|---|---|"]
    for rid, entry in catalog.items():
        brief = entry["brief"]
        ((kind, bound),) = brief["expect"].items()
        check = f"{brief['metric']} {'≥' if kind == 'min' else '≤'} {bound:g} in ≤ {brief['budget_seconds']} s"
        rows.append(f"| [`{rid}`](recipes/{rid}/) | {entry['summary']} | {entry['family']} | {check} |")
    return "\n".join(rows)


def render(text, catalog):
    """`text` with the block between START and END replaced by the current table."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README.md lacks the markers {START!r} ... {END!r}. Add them where the table goes.")
    return f"{head}{START}\n{recipe_table(catalog)}\n{END}{tail}"


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
