"""Comparison tables that bench scripts write into recipe READMEs.

A recipe README marks a generated table with a pair of HTML comments:

    <!-- table:NAME:start -->
    ...the table, replaced by the script...
    <!-- table:NAME:end -->

A bench script (bench/compare_<recipe>.py) measures, builds the markdown with `markdown_table`,
and calls `write_block(recipe_id, NAME, markdown)` when run with --write (else it only prints), so
every number in such a table is one the script measured, and the script names itself under it.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def markdown_table(header, rows):
    """A markdown table from a header list and rows of cells (any values; str() is applied)."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def readme_path(recipe_id=None):
    """recipes/<recipe_id>/README.md, or the repository's README.md for None."""
    return ROOT / "README.md" if recipe_id is None else ROOT / "recipes" / recipe_id / "README.md"


def read_block(recipe_id, name):
    """The markdown of README block `name` as written (without its 'Made by' line), or None."""
    match = re.search(
        rf"<!-- table:{re.escape(name)}:start -->\n(.*?)\n\nMade by `[^`]*`\.\n<!-- table:{re.escape(name)}:end -->",
        readme_path(recipe_id).read_text(),
        re.S,
    )
    return match and match.group(1)


def write_block(recipe_id, name, markdown, command=None):
    """Replace the README block `name` of recipes/<recipe_id>/README.md (README.md for None) with `markdown`.

    The block is followed by a line naming the command that regenerates it (default: this script).
    Raises SystemExit when the README has no such block, so a typo is not silently ignored.
    """
    path = readme_path(recipe_id)
    text = path.read_text()
    command = command or "python " + " ".join([Path(sys.argv[0]).resolve().relative_to(ROOT).as_posix(), *sys.argv[1:]])
    start, end = f"<!-- table:{name}:start -->", f"<!-- table:{name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no block {start} ... {end}: add the two markers where the table goes.")
    block = f"{start}\n{markdown}\n\nMade by `{command}`.\n{end}"
    path.write_text(pattern.sub(lambda _: block, text))
    return path
