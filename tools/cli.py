"""`recipe`: list, show, run, plot, diagram, atlas, inspect, weights, demo, compare, transcribe, gallery,
train-pretrained and validate the recipes.

Thin wrappers over functions in tools/ (tests call those directly). `list`, `show` and
`validate`'s catalog checks never import TensorFlow or Keras. Exit codes: 0 ok, 1 the
work failed (diverged, expectation missed under --check, invalid catalog), 2 usage error.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tools import distribute, errors
from tools.catalog import FAMILIES, PROPERTIES, CatalogError, get_entry, load_catalog, matches, read_catalog, valid_entries, validate_catalog

EXAMPLES = """examples:
  recipe list                          all recipes
  recipe list --property teacher_forcing
  recipe show memory_task              config, papers, expected result
  recipe run memory_task --brief       the checked few-minute run
  recipe run memory_task --brief --backend jax   the same run on JAX (or torch)
  recipe run memory_task --brief --backend jax --distribute data_parallel --devices 2
                                       each batch split over 2 devices (here: the CPU split in two)
  recipe run char_rnn --set units=128 --epochs 3
  recipe plot char_rnn --format png    computation graph for a blog post
  recipe diagram memory_task --view unrolled      the book's figure, unrolled over time
  recipe diagram seq2seq_attention --view cell --theme dark
  recipe atlas                         every recurrent architecture on one sheet
  recipe weights runs/memory_task-...  per-gate weight figures of a trained run
  recipe transcribe deepspeech2_ctc me.wav   speech to text with the pretrained recognizer
  recipe demo seq2seq_attention        the pretrained model on its test split, with its demo figures
  recipe gallery --open                the catalog as a static web site
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of a usage block."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}. Run '{self.prog} --help'.\n")
        sys.exit(2)


def cmd_list(args):
    catalog, invalid = valid_entries(load_catalog())
    if invalid:
        print(f"recipe: skipping invalid catalog entries {', '.join(invalid)}: run 'recipe validate'", file=sys.stderr)
    for flag, value, allowed in (("--family", args.family, FAMILIES), ("--property", args.property, PROPERTIES)):
        if value and value not in allowed:
            raise errors.UsageError(f"Unknown {flag[2:]} '{value}'.{errors.did_you_mean(value, allowed)} Use one of: {', '.join(allowed)}.")
    chosen = {rid: entry for rid, entry in catalog.items() if matches(rid, entry, args.pattern, args.family, args.property)}
    if args.json:
        print(json.dumps([{"id": rid, **entry} for rid, entry in chosen.items()], indent=2, default=str))
        return 0
    if not chosen:
        print("no recipe matches", file=sys.stderr)
        return 0
    width = max(len(rid) for rid in chosen)
    for rid, entry in chosen.items():
        print(f"{rid:<{width}}  {entry['family']:<23} {entry['title']}")
    return 0


def cmd_show(args):
    from tools.catalog import RECIPES_DIR, read_default_config

    entry = get_entry(load_catalog(), args.id)
    config = read_default_config(RECIPES_DIR / args.id)
    brief = entry["brief"]
    ((kind, bound),) = brief["expect"].items()
    lines = [
        f"{args.id}: {entry['title']}",
        f"  {entry['summary']}",
        f"  family: {entry['family']}   task: {entry['task']}   modality: {entry['modality']}",
        "  properties:",
        *[f"    {p:<24} {PROPERTIES[p]}" for p in entry["properties"]],
        "  papers:",
        *[f"    {p['authors']} ({p['year']}). {p['title']}. {p['url']}" for p in entry["papers"]],
        f"  data: {entry['data']['source']} (licence: {entry['data']['licence']})",
        "  config (default -> brief):",
    ]
    width = max(map(len, config))
    for key, value in config.items():
        brief_value = f"  -> {brief['overrides'][key]!r}" if key in brief["overrides"] else ""
        lines.append(f"    {key:<{width}} {value!r}{brief_value}")
    lines += [
        f"  brief run: {brief['metric']} {'>=' if kind == 'min' else '<='} {bound:g} within {brief['budget_seconds']} s on a 2-core CPU",
        f"  try: recipe run {args.id} --brief",
    ]
    print("\n".join(lines))
    return 0


# The module each Keras backend needs, and how to install it when it is missing.
BACKEND_MODULES = {
    "tensorflow": ("tensorflow", "pip install -r requirements.txt"),
    "jax": ("jax", "pip install -r requirements.txt"),
    "torch": ("torch", "pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU build; see the README's Backends section)"),
}


def use_backend(args):
    """Point Keras at `--backend` (or, with --resume, at the run's own backend) before Keras is first imported.

    Refuses, with the fix, a backend that is not installed or that the recipe's catalog entry rules out.
    """
    import importlib.util

    backend = getattr(args, "backend", None)
    if getattr(args, "resume", None) and not backend:
        try:
            backend = json.loads((Path(args.resume) / "run.json").read_text()).get("backend")
        except (OSError, ValueError, AttributeError):
            return  # the runner says what is wrong with the run directory
    if not backend:
        return
    module, install = BACKEND_MODULES[backend]
    if importlib.util.find_spec(module) is None:
        raise errors.UsageError(f"The {backend} backend needs {module}, which is not installed. Install it: {install}.")
    if getattr(args, "id", None):
        from tools.catalog import check_backend

        check_backend(args.id, get_entry(load_catalog(), args.id), backend)
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
        loaded = sys.modules["keras"].backend.backend()
        raise errors.UsageError(
            f"Keras is already loaded with the {loaded} backend in this process; run 'recipe run ... --backend {backend}' as its own command."
        )
    os.environ["KERAS_BACKEND"] = backend


def check_distribution(args):
    """Refuse a `recipe run --distribute/--devices` request that cannot work, before the backend is chosen or anything imported."""
    if getattr(args, "verb", None) != "run" or args.resume:
        return
    distribute.check_request(args.backend or distribute.intended_backend(), args.distribute, args.devices)
    if args.distribute and args.devices and args.id:
        from tools.config import resolve_config

        config, _ = resolve_config(args.id, get_entry(load_catalog(), args.id), brief=args.brief, sets=args.set, epochs=args.epochs, seed=args.seed)
        distribute.check_batch(config["batch_size"], args.devices)


def use_distribution(args):
    """Set up the devices of `--distribute` (or, with --resume, the run's own) as args.distribution, right after
    `use_backend` and before Keras is imported: virtual CPU devices cannot be made once a backend has started."""
    if getattr(args, "verb", None) != "run":
        return
    args.distribution = None
    if args.resume:
        if args.distribute or args.devices is not None:
            return  # cmd_run says to drop them
        kind, devices = distribute.recorded(args.resume)
    else:
        kind, devices = args.distribute, args.devices
    args.distribution = distribute.prepare(distribute.intended_backend(), kind, devices)


def cmd_run(args):
    from tools import runner

    if args.resume:
        given = [
            flag
            for flag, value in (
                ("ID", args.id),
                ("--brief", args.brief),
                ("--set", args.set),
                ("--epochs", args.epochs),
                ("--seed", args.seed),
                ("--out", args.out),
                ("--record", args.record),
                ("--backend", args.backend),
                ("--distribute", args.distribute),
                ("--devices", args.devices is not None),
            )
            if value
        ]
        if given:
            raise errors.UsageError(f"--resume continues a run with its own config and directory; drop {', '.join(given)}.")
        result = runner.resume(args.resume, distribution=args.distribution)
    elif not args.id:
        raise errors.UsageError("recipe run needs a recipe id (or --resume RUN_DIR). Run 'recipe list' to see all recipes.")
    else:
        result = runner.run(
            args.id,
            brief=args.brief,
            sets=args.set,
            epochs=args.epochs,
            seed=args.seed,
            out=args.out,
            recorded=args.record,
            distribution=args.distribution,
        )
    spread = f"   {args.distribution.kind} over {args.distribution.replicas} devices" if args.distribution else ""
    print(f"status: {result.status}   wall time: {result.seconds:.1f} s   backend: {runner.active_backend()}{spread}")
    print(f"run directory: {result.run_dir}")
    for path in result.files:
        print(f"  {path}")
    print(result.expectation + ("" if args.brief else "   (the catalog expectation is for --brief)"))
    if args.check and not result.met:
        raise errors.RunFailed(f"{args.id} missed its expectation: {result.expectation}")
    return 0


def cmd_plot(args):
    from tools import graph, runner
    from tools.paths import output_file

    get_entry(load_catalog(), args.id)
    if args.out:
        output_file(args.out, force=args.force)  # an existing file is the first thing to say
    fmt = graph.output_format(args.out, args.format)
    path = output_file(args.out or f"{args.id}.{fmt}", force=args.force)
    _, model = runner.build_untrained(args.id, sets=args.set)
    print(graph.plot_model(model, path, fmt=fmt, rankdir=args.rankdir))
    return 0


def cmd_diagram(args):
    from tools import diagram, graph, runner
    from tools.paths import output_file

    diagram.check_steps(args.steps)
    if args.out:
        output_file(args.out, force=args.force)  # an existing file is the first thing to say
    fmt = graph.output_format(args.out, args.format)
    recipe_id, _, model, run_dir = runner.model_of(args.target, args.set, args.untrained, log=print)
    base = runner.output_base(run_dir)
    default = (base / f"diagram_{args.view}.{fmt}") if base else Path(f"{recipe_id}_{args.view}.{fmt}")
    path = output_file(args.out or default, force=args.force)
    print(diagram.write_view(recipe_id, model, args.view, path, fmt, args.theme, args.steps, args.layer, args.show_masks))
    return 0


def cmd_atlas(args):
    from tools import atlas, graph
    from tools.paths import output_file

    fmt = graph.output_format(args.out, args.format)
    path = output_file(args.out or f"atlas.{fmt}", force=args.force)
    print(atlas.write_atlas(path, theme=args.theme))
    return 0


def _draw_inspect(args, introspect, item, path, units):
    """(path, summary) of the figure `args` asks for."""
    if args.figure == "states" and (args.text or args.find):
        return introspect.inspect_text(item, path, args.layer, units, args.find, args.theme)
    elif args.figure == "states" and args.saturation:
        return introspect.inspect_saturation(item, path, args.layer, args.samples, args.theme)
    elif args.figure == "states":
        return introspect.inspect_states(item, path, args.layer, args.sample, units, args.theme)
    elif args.figure == "gradients":
        items = [item, *(introspect.subject(other) for other in args.against)]
        return introspect.inspect_gradients(items, path, args.layer, args.samples, args.loss_steps, args.theme)
    elif args.figure == "occlusion":
        return introspect.inspect_occlusion(item, path, args.sample, args.theme)
    elif args.figure == "maximize":
        return introspect.inspect_maximize(item, path, args.layer, units, args.theme)
    elif args.figure == "attention":
        return introspect.inspect_attention(item, path, args.sample, args.theme)
    elif args.figure == "history":
        return introspect.inspect_history(item, path, args.layer, args.hinton, args.theme)
    else:
        return introspect.inspect_spectrum(item, path, args.layer, args.theme)


def cmd_inspect(args):
    from tools import graph, introspect, runner
    from tools.paths import output_file

    if args.out:
        output_file(args.out, force=args.force)
    fmt = graph.output_format(args.out, args.format) if args.out or args.format else "png"  # heatmaps: a picture, not vectors
    units = introspect.parse_units(args.units)
    introspect.check_counts(sample=args.sample, samples=args.samples, loss_steps=args.loss_steps)
    if args.against and args.figure != "gradients":
        raise errors.UsageError(f"--against compares models in the gradients figure only; drop it for '{args.figure}'.")
    if (args.text or args.find or args.saturation) and args.figure != "states":
        raise errors.UsageError(f"--text, --find and --saturation are views of the states figure; drop them for '{args.figure}'.")
    item = introspect.subject(args.target, args.set, args.untrained, log=print)
    base = runner.output_base(item.run_dir)
    default = (base / f"inspect_{args.figure}.{fmt}") if base else Path(f"{item.recipe_id}_{args.figure}.{fmt}")
    path = output_file(args.out or default, force=args.force)
    with introspect.themed_figures(args.theme):  # every text drawn, titles included, in the theme's colours
        written, summary = _draw_inspect(args, introspect, item, path, units)
    print(written)
    print(f"  {summary}")
    return 0


def cmd_weights(args):
    from tools import runner, weights

    recipe_id, _, model, run_dir = runner.model_of(args.target, args.set, args.untrained, log=print)
    base = runner.output_base(run_dir)
    out = Path(args.out) if args.out else (base / "weights" if base else Path(f"{recipe_id}_weights"))
    figures = weights.weight_figures(model, out, force=args.force)
    for path, summary in figures:
        print(f"{path}\n  {summary}")
    return 0


def cmd_demo(args):
    from tools.demo import demo

    out, split_name, metrics, files, recorded = demo(args.target, args.out, args.force)
    for key, value in metrics.items():
        was = recorded.get(key)
        print(f"{split_name} {key}: {value:.4g}" + (f"   (recorded {was:.4g})" if isinstance(was, (int, float)) else ""))
    print(f"written to {out}:")
    for path in [out / "metrics.json", *files]:
        print(f"  {path}")
    return 0


def cmd_compare(args):
    from tools import compare

    table = compare.compare(args.id, args.grid, brief=args.brief, sets=args.set, metric=args.metric, out=args.out)
    print(table)
    return 0


def cmd_transcribe(args):
    from tools.transcribe import transcribe_files

    results = transcribe_files(args.run_dir, args.files, beam_width=args.beam, log=lambda line: print(line, file=sys.stderr))
    # Exit 0 once every file was read: a file with no speech in it is a result (one line), not an error.
    for result in results:
        path, text = result
        for note in getattr(result, "notes", ()):
            print(f"{path}: {note}", file=sys.stderr)
        if text is None:
            print(f"{path}: no speech found ({result.reason})")
        else:
            print(text if len(results) == 1 else f"{path}: {text}")
    return 0


def cmd_gallery(args):
    from tools import gallery

    started = time.perf_counter()
    try:
        index = gallery.build(Path(args.out or gallery.SITE_DIR))
    except errors.UsageError:
        raise
    except ValueError as error:  # a README links to something the site cannot show
        raise errors.RunFailed(str(error)) from None
    print(f"gallery: {index} ({time.perf_counter() - started:.1f} s)")
    if args.screenshots:
        for path in gallery.screenshots(index.parent):
            print(f"  {path}")
    if args.open:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())
    return 0


def cmd_train_pretrained(args):
    from tools import pretrained

    catalog = load_catalog()
    ids = args.ids or list(catalog)
    for rid in ids:
        get_entry(catalog, rid)  # every id checked before the first training starts
    for rid in ids:
        started = time.perf_counter()
        where, saved = pretrained.train(rid)
        print(f"{rid}: {where} in {time.perf_counter() - started:.0f} s; {saved.get('expectation', '')}")
    return 0


def cmd_validate(args):
    catalog = read_catalog()
    problems = validate_catalog(catalog)
    if not problems:
        from tools import architecture, diagram, pretrained, runner

        for rid in catalog:
            started = time.perf_counter()
            _, model = runner.build_untrained(rid)
            found, notes = architecture.property_problems(rid, catalog[rid]["properties"], diagram.recipe_architecture(rid, model))
            checkpoint = pretrained.problem(rid)
            problems += found + ([checkpoint] if checkpoint else [])
            for note in notes:
                print(note, file=sys.stderr)
            verdict = "ok " if not found and not checkpoint else "BAD"
            print(
                f"{verdict} {rid:<24} builds ({model.count_params():,} parameters, {time.perf_counter() - started:.1f} s); "
                f"properties {'agree with the model' if not found else 'disagree'}; checkpoint {'current' if not checkpoint else 'stale or missing'}"
            )
        if not problems:
            print(f"catalog ok: {len(catalog)} recipes, every property derived from its model, every checkpoint current")
            return 0
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s) in the catalog", file=sys.stderr)
    return 1


def build_parser():
    parser = _Parser(
        prog="recipe",
        description="Tested Keras 3 recipes for recurrent networks.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)

    p = verbs.add_parser("list", help="browse the recipes (never imports TensorFlow)")
    p.add_argument("pattern", nargs="?", help="substring of id/title, or a wildcard like 'seq*'")
    p.add_argument("--family", help="e.g. recurrent, encoder_decoder")
    p.add_argument("--property", help="e.g. teacher_forcing, bidirectional")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("show", help="metadata, config, papers and expected brief result")
    p.add_argument("id")
    p.set_defaults(func=cmd_show)

    def add_set(p):
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key (repeatable)")

    def add_untrained(p):
        p.add_argument("--untrained", action="store_true", help="with an ID: the freshly initialised model, not the pretrained checkpoint")

    p = verbs.add_parser("run", help="train, evaluate and demo; writes a run directory")
    p.add_argument("id", nargs="?", help="recipe id (omit with --resume)")
    p.add_argument("--brief", action="store_true", help="the catalog's brief config (checked, about a minute)")
    add_set(p)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run directory (default runs/<id>-<time>)")
    p.add_argument("--check", action="store_true", help="exit 1 when the catalog expectation is missed")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted or killed run from its last completed epoch")
    p.add_argument("--record", action="append", default=[], metavar="WHAT", help="keep more during training: weights (per-gate quantiles per epoch)")
    p.add_argument("--backend", choices=BACKEND_MODULES, help="Keras backend (default: KERAS_BACKEND, else tensorflow); recorded in run.json")
    p.add_argument(
        "--distribute", choices=distribute.KINDS, help="split each batch over several devices with Keras' own machinery (jax and tensorflow backends)"
    )
    p.add_argument(
        "--devices",
        type=int,
        metavar="N",
        help="with --distribute: the first N GPUs (default: all); without accelerators, N virtual CPU devices (required)",
    )
    p.set_defaults(func=cmd_run)

    p = verbs.add_parser("plot", help="computation graph (works before any training)")
    p.add_argument("id")
    p.add_argument("--format", choices=["svg", "png", "pdf"], help="default: from --out's suffix, else svg")
    p.add_argument("--out", help="file to write (default <id>.<format>)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="top-to-bottom or left-to-right")
    add_set(p)
    p.set_defaults(func=cmd_plot)

    p = verbs.add_parser("diagram", help="the Deep Learning book's circuit, unrolled and cell figures, derived from the model")
    p.add_argument("target", metavar="ID|RUN_DIR")
    p.add_argument("--view", choices=["circuit", "unrolled", "cell", "layers"], default="circuit", help="default: circuit")
    p.add_argument("--steps", type=int, default=3, help="time steps of the unrolled view (2-8, default 3)")
    p.add_argument("--layer", help="the recurrent layer of the cell view (default: the first)")
    p.add_argument("--format", choices=["svg", "png", "pdf"], help="default: from --out's suffix, else svg")
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.add_argument("--out", help="file to write (default <id>_<view>.<format>, or RUN_DIR/diagram_<view>.<format>)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--show-masks", action="store_true", help="layers view: keep Keras' mask nodes (not_equal)")
    add_untrained(p)
    add_set(p)
    p.set_defaults(func=cmd_diagram)

    p = verbs.add_parser("atlas", help="every recurrent architecture's circuit diagram on one sheet, with its statements")
    p.add_argument("--format", choices=["svg", "png", "pdf"], help="default: from --out's suffix, else svg")
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.add_argument("--out", help="file to write (default atlas.<format>)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_atlas)

    p = verbs.add_parser("inspect", help="inside a network: gate states, gradient flow through time, recurrent spectra")
    p.add_argument("target", metavar="ID|RUN_DIR")
    p.add_argument("figure", choices=["states", "gradients", "spectrum", "history", "occlusion", "maximize", "attention"])
    p.add_argument("--layer", help="the recurrent layer (default: the first); NAME/backward for a Bidirectional's backward half")
    p.add_argument("--sample", type=int, default=0, help="states: which test input (default 0)")
    p.add_argument("--units", help="states: units to trace, e.g. 3,17 (default: the three that vary most)")
    p.add_argument("--text", action="store_true", help="states: shade held-out text by single units (char_rnn)")
    p.add_argument("--find", metavar="FEATURE", help="states --text: the units most correlated with a feature, e.g. position_in_line")
    p.add_argument("--saturation", action="store_true", help="states: how often each gate unit is below 0.1 or above 0.9")
    p.add_argument("--against", action="append", default=[], metavar="ID|RUN_DIR", help="gradients: another model on the same figure (repeatable)")
    p.add_argument("--hinton", action="store_true", help="history: a small layer's recurrent weights as a Hinton diagram")
    p.add_argument("--samples", type=int, default=64, help="gradients, --saturation: test inputs averaged over (default 64)")
    p.add_argument("--loss-steps", type=int, default=1, help="gradients: the loss of the last N output steps (default 1; 0 = every step)")
    p.add_argument("--format", choices=["svg", "png", "pdf"], help="default: from --out's suffix, else png")
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.add_argument("--out", help="file to write (default <id>_<figure>.<format>, or RUN_DIR/inspect_<figure>.<format>)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_set(p)
    add_untrained(p)
    p.set_defaults(func=cmd_inspect)

    p = verbs.add_parser("weights", help="weight figures, per gate for LSTM/GRU")
    p.add_argument("target", metavar="ID|RUN_DIR")
    p.add_argument("--out", help="folder for the figures (default RUN_DIR/weights or <id>_weights)")
    p.add_argument("--force", action="store_true", help="replace figures that exist in --out")
    add_untrained(p)
    add_set(p)
    p.set_defaults(func=cmd_weights)

    p = verbs.add_parser("demo", help="evaluate a pretrained checkpoint (or a run) on the test split and write its demo figures")
    p.add_argument("target", metavar="ID|RUN_DIR")
    p.add_argument("--out", help="folder for metrics.json and the demo files (default <id>_demo)")
    p.add_argument("--force", action="store_true", help="write into --out even if it holds files")
    p.set_defaults(func=cmd_demo)

    p = verbs.add_parser("compare", help="brief runs over a grid of config values, as a markdown table")
    p.add_argument("id")
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2", help="one or two keys to vary")
    p.add_argument("--brief", action="store_true")
    add_set(p)
    p.add_argument("--metric", help="metric to tabulate (default: the catalog's brief metric)")
    p.add_argument("--out", help="folder for the run directories (default runs/compare-<id>-<time>)")
    p.set_defaults(func=cmd_compare)

    p = verbs.add_parser("transcribe", help="a trained speech recognizer transcribes recordings (WAV, FLAC, OGG)")
    p.add_argument("run_dir", metavar="ID|RUN_DIR", help="deepspeech2_ctc or wav2letter (its pretrained checkpoint), or a run of one")
    p.add_argument("files", nargs="+", metavar="FILE", help="WAV, FLAC or OGG files (8-48 kHz; mixed to mono; silence trimmed)")
    p.add_argument("--beam", type=int, metavar="N", help="beam-search width (default: the run's beam_width; 1 = greedy)")
    p.set_defaults(func=cmd_transcribe)

    p = verbs.add_parser("gallery", help="a static web site of the catalog: cards, filters, a page per recipe and per figure kind")
    p.add_argument("--out", help="folder to build into (default site/)")
    p.add_argument("--open", action="store_true", help="open the index in a web browser")
    p.add_argument("--screenshots", action="store_true", help="then photograph it with chromium into docs/screenshots/")
    p.set_defaults(func=cmd_gallery)

    p = verbs.add_parser("train-pretrained", help="train recipes with their full default config into recipes/<id>/pretrained/")
    p.add_argument("ids", nargs="*", metavar="ID", help="recipes to train (default: all, one after another)")
    p.set_defaults(func=cmd_train_pretrained)

    p = verbs.add_parser("validate", help="check catalog.yaml against the recipe folders; build every recipe")
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv=None):
    """Entry point of the `recipe` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.verb not in ("list", "show"):
        from tools.quiet import filter_native_logs, quiet_tensorflow

        quiet_tensorflow()  # both before Keras is first imported
        filter_native_logs()
    from recipes.common.config import ConfigError  # tools may use the recipes' shared code, never the reverse

    try:
        for flag in ("out", "resume"):
            if getattr(args, flag, None) == "":
                raise errors.UsageError(f"--{flag} is empty. Give a path, e.g. --{flag} runs/my_run.")
        check_distribution(args)
        use_backend(args)
        use_distribution(args)
        return args.func(args)
    except (errors.UsageError, ConfigError, CatalogError) as error:
        print(f"recipe: error: {error}", file=sys.stderr)
        return 2
    except errors.RunFailed as error:
        print(f"recipe: failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recipe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `recipe list | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a disk that filled up, a folder that went away
        print(f"recipe: failed: {error.strerror or error}{f' ({error.filename})' if error.filename else ''}.", file=sys.stderr)
        return 1
    except Exception as error:
        if os.environ.get("RECIPE_TRACEBACK"):
            raise
        detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        print(f"recipe: failed: {type(error).__name__}: {detail} (a bug: set RECIPE_TRACEBACK=1 for the traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
