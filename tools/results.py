"""The results table: each recipe's pretrained metric, its baseline, the brief run's metric and wall times.

Every number comes from a file a run wrote, with its provenance: the checkpoint's
recipes/<id>/pretrained/run.json (full default config) and bench/results/brief/<id>.json
(the last `make bench` brief run's run.json). `make readme` writes the table into the
README between its markers, the gallery shows it, and a test fails when the README's copy
is stale. A metric a run did not report is shown as "—", never filled in.
"""

import json

from tools import pretrained
from tools.catalog import ROOT, load_catalog

BRIEF_DIR = ROOT / "bench" / "results" / "brief"


def _read(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def brief_record(recipe_id):
    """The run.json of the recipe's last benchmarked brief run, or None."""
    return _read(BRIEF_DIR / f"{recipe_id}.json")


def collect(catalog=None):
    """One dict per recipe, in catalog order (see the module docstring for where each value comes from)."""
    catalog = catalog or load_catalog()
    rows = []
    for rid, entry in catalog.items():
        brief = entry["brief"]
        ((kind, bound),) = brief["expect"].items()
        baseline = entry.get("baseline") or {}
        saved = pretrained.record(rid) or {}
        quick = brief_record(rid) or {}
        metrics, quick_metrics = saved.get("metrics") or {}, quick.get("metrics") or {}
        rows.append(
            {
                "id": rid,
                "metric": brief["metric"],
                "kind": kind,
                "bound": bound,
                "pretrained": metrics.get(brief["metric"]),
                "baseline": metrics.get(baseline.get("metric")) if baseline else None,
                "baseline_label": baseline.get("label"),
                "brief": quick_metrics.get(brief["metric"]),
                "brief_seconds": quick.get("wall_seconds"),
                "brief_at": (quick.get("started_at") or "")[:10] or None,
                "budget_seconds": brief["budget_seconds"],
                "pretrained_seconds": saved.get("wall_seconds"),
                "trained_at": (saved.get("trained_at") or "")[:10] or None,
                "backend": saved.get("backend"),
                "code_version": saved.get("code_version"),
                "stale": bool(saved) and pretrained.stale_reason(rid) is not None,
            }
        )
    return rows


def number(value):
    """A metric as the table prints it: 4 significant digits, '—' when missing."""
    return "—" if value is None else f"{value:.4g}"


def minutes(seconds):
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def markdown_table(rows):
    """The README's results table (Markdown)."""
    lines = [
        "| recipe | metric | pretrained | baseline | brief run | brief wall (budget) | pretrained training | trained |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        better = "higher" if row["kind"] == "min" else "lower"
        baseline = f"{number(row['baseline'])} ({row['baseline_label']})" if row["baseline_label"] else "—"
        trained = f"{row['trained_at']}, {row['backend']}, {row['code_version']}" if row["trained_at"] else "not trained"
        lines.append(
            f"| [`{row['id']}`](recipes/{row['id']}/) | {row['metric']} ({better} is better) | "
            f"{number(row['pretrained'])}{' (stale)' if row['stale'] else ''} | {baseline} | {number(row['brief'])} | "
            f"{minutes(row['brief_seconds'])} ({row['budget_seconds']} s) | {minutes(row['pretrained_seconds'])} | {trained} |"
        )
    return "\n".join(lines)
