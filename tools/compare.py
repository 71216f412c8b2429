"""`recipe compare`: the same recipe over a grid of config values, as a markdown table.

The comparison tables in recipe READMEs come from here, so each states the command
that regenerates it. Every grid point is a full run (its own run directory).
"""

from datetime import datetime, timezone
from pathlib import Path

from tools import errors
from tools.catalog import get_entry, load_catalog
from tools.config import parse_sets
from tools.paths import output_dir

MAX_POINTS = 64  # every point is a full run


def parse_grid(grid):
    """['cell=lstm,gru', 'units=8,16'] -> [('cell', ['lstm', 'gru']), ('units', ['8', '16'])] (one or two keys)."""
    parsed = [(key, [v.strip() for v in values.split(",") if v.strip()]) for key, values in parse_sets(grid, flag="--grid")]
    if not 1 <= len(parsed) <= 2 or any(not values for _, values in parsed):
        raise errors.UsageError("--grid takes one or two keys, each with values: e.g. --grid blank_separation=5,20 --grid cell=lstm,basic_rnn.")
    if len(parsed) == 2 and parsed[0][0] == parsed[1][0]:
        raise errors.UsageError(f"--grid names '{parsed[0][0]}' twice. Give each key once, with all its values: --grid {parsed[0][0]}=V1,V2.")
    for key, values in parsed:
        if len(set(values)) != len(values):
            raise errors.UsageError(f"--grid {key}= lists a value twice ({','.join(values)}). List each value once.")
    points = len(parsed[0][1]) * (len(parsed[1][1]) if len(parsed) == 2 else 1)
    if points > MAX_POINTS:
        raise errors.UsageError(f"--grid makes {points} runs; at most {MAX_POINTS} at once. Split the grid.")
    return parsed


def markdown_table(row_key, row_values, col_key, col_values, cells):
    """A markdown table: rows = row_key values, columns = col_key values, cells[(row, col)] as text."""
    head = f"| {row_key} | " + " | ".join(f"{col_key}={c}" if col_key else c for c in col_values) + " |"
    rule = "|---|" + "---|" * len(col_values)
    body = [f"| {r} | " + " | ".join(cells[(r, c)] for c in col_values) + " |" for r in row_values]
    return "\n".join([head, rule, *body])


def compare(recipe_id, grid, brief=False, sets=(), metric=None, out=None, log=print):
    """Run `recipe_id` at every point of `grid` and tabulate one metric.

    Args:
        recipe_id: catalog id.
        grid: 'key=v1,v2' strings (one or two keys: rows, then columns).
        brief: start from the brief config.
        sets: fixed 'key=value' overrides for every run.
        metric: the metric to tabulate (default the catalog's brief metric); with one grid key,
            a comma-separated list gives one column per metric (e.g. accuracy at several lengths).
        out: folder for the run directories.

    Returns:
        The markdown table, followed by the command that regenerates it.
    """
    from tools import runner

    entry = get_entry(load_catalog(), recipe_id)
    metrics = [m.strip() for m in (metric or entry["brief"]["metric"]).split(",") if m.strip()]
    if not metrics:
        raise errors.UsageError(f"--metric takes metric names, e.g. --metric {entry['brief']['metric']}.")
    axes = parse_grid(grid)
    if len(axes) == 2 and len(metrics) > 1:
        raise errors.UsageError("Several metrics need a single --grid key (the metrics become the columns).")
    (row_key, row_values), (col_key, col_values) = axes[0], (axes[1] if len(axes) == 2 else ("", metrics))
    # Check every grid point's config, the metrics and the folders before training anything, so a typo costs no run.
    fixed = {key for key, _ in parse_sets(sets)}
    for key in (row_key, col_key):
        if key in fixed:
            raise errors.UsageError(f"--grid varies '{key}' and --set fixes it. Drop --set {key}=... .")
    points = {(r, c): [f"{row_key}={r}", *([f"{col_key}={c}"] if col_key else [])] for r in row_values for c in (col_values if col_key else [None])}
    for point in points.values():
        runner.resolve(recipe_id, brief=brief, sets=[*sets, *point])
    config, model = runner.build_untrained(recipe_id, sets=[*sets, *point])
    reported = runner.metric_names(model, runner.import_recipe(recipe_id)[2])
    unknown = [m for m in metrics if not runner.reports(reported, m)]
    if unknown:
        raise errors.UsageError(
            f"Recipe '{recipe_id}' reports no metric '{unknown[0]}'.{errors.did_you_mean(unknown[0], reported)} It reports: {', '.join(reported)}."
        )
    root = Path(out) if out else Path("runs") / f"compare-{recipe_id}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    output_dir(root, [root / "_".join(point) for point in points.values()])
    cells = {}
    for (r, c), point in points.items():
        result = runner.run(recipe_id, brief=brief, sets=[*sets, *point], out=root / "_".join(point), verbose=0, log=lambda *_: None)
        missing = [m for m in metrics if m not in result.metrics]  # a pattern's name this config does not produce
        if missing:
            raise errors.RunFailed(f"The run {result.run_dir} reported no '{missing[0]}' (it reported {', '.join(result.metrics)}).")
        # Two grid keys: one metric per cell. One grid key: one column per metric.
        for m in metrics:
            cells[(r, c if col_key else m)] = f"{result.metrics[m]:.3f}"
        log(f"{' '.join(point)}: " + ", ".join(f"{m} {result.metrics[m]:.3f}" for m in metrics) + f" ({result.seconds:.0f} s)")
    metric_text = ",".join(metrics)
    command = " ".join(
        [
            "recipe compare",
            recipe_id,
            *(["--brief"] if brief else []),
            *[f"--grid {g}" for g in grid],
            *[f"--set {s}" for s in sets],
            *([f"--metric {metric_text}"] if metric_text != entry["brief"]["metric"] else []),
        ]
    )
    table = markdown_table(row_key, row_values, col_key, col_values, cells)
    return f"{table}\n\n{'Cells: ' + metrics[0] + '. ' if col_key else ''}Regenerate with `{command}`."
