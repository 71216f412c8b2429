"""catalog.yaml: loading and validation. Imports neither TensorFlow nor Keras.

A recipe's DEFAULT_CONFIG is read from its model.py with `ast` (it must be a literal
dict), so listing, showing and validating the catalog stay instant.
"""

import ast
import fnmatch
import re
from pathlib import Path

import yaml

from tools.errors import UsageError, did_you_mean, unknown_recipe

ROOT = Path(__file__).resolve().parent.parent
CATALOG_PATH = ROOT / "catalog.yaml"
RECIPES_DIR = ROOT / "recipes"

# Closed lists. Add a value here (with its meaning) before using it in catalog.yaml.
FAMILIES = {
    "recurrent": "a chain of one recurrent layer or cell over the sequence",
    "output_recurrent": "recurrence only through the previous output",
    "bidirectional": "forward and backward recurrent layers",
    "encoder_decoder": "an encoder summarises the input, a decoder writes the output",
    "deep_recurrent": "stacked or deep-transition recurrent layers",
    "recursive": "one composition function shared over a tree",
    "reservoir": "a fixed random recurrent reservoir with a trained readout",
    "convolutional": "convolutions only (dilated, causal, 1-D or 2-D)",
    "convolutional_recurrent": "a convolutional front end feeding recurrent layers",
}
TASKS = {
    "forecasting": "predict the next values of a series",
    "memorization": "reproduce earlier input after a delay",
    "language_modeling": "predict the next token of text",
    "sequence_labeling": "one label per input step",
    "sequence_classification": "one label per sequence",
    "sequence_to_sequence": "an output sequence of its own length",
    "sequence_generation": "generate a sequence from a condition",
    "speech_recognition": "transcribe speech to characters",
    "audio_classification": "classify an audio clip",
    "audio_generation": "generate a waveform",
    "frame_labeling": "one label per audio or spectrogram frame",
    "tree_evaluation": "compute a value over a parse tree",
}
MODALITIES = ("synthetic", "time_series", "text", "image", "audio")
# The statements a course uses to tell RNN architectures apart (Deep Learning book, ch. 10).
PROPERTIES = {
    "output_each_step": "output at each time step",
    "output_after_sequence": "one output after the full input sequence",
    "context_input": "input serves as fixed context or initial state",
    "hidden_recurrence": "recurrent connections between hidden units",
    "output_recurrence": "recurrent connections from the previous output",
    "encoder": "has an encoder",
    "decoder": "has a decoder",
    "encoder_decoder": "encoder-decoder (sequence to sequence)",
    "bidirectional": "summary of past and of future",
    "teacher_forcing": "trainable with teacher forcing",
    "parallel_training": "training can be parallelised over time",
    "gated_memory": "gated memory (LSTM/GRU)",
    "convolutional_front_end": "convolutional front end",
    "attention": "attention over the input",
}
FIELDS = ("title", "summary", "family", "task", "modality", "properties", "papers", "data", "brief")
PAPER_FIELDS = ("title", "authors", "year", "url")
DATA_FIELDS = ("source", "licence")
BRIEF_FIELDS = ("overrides", "metric", "expect", "budget_seconds")
# Every recipe's DEFAULT_CONFIG has these keys, because the runner and CLI use them.
REQUIRED_CONFIG = {"seed": int, "epochs": int, "batch_size": int, "learning_rate": float}
PLAIN_TYPES = (bool, int, float, str)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(UsageError):
    """catalog.yaml or a recipe folder disagrees with the contract (exit code 2)."""


def same_type(default, value):
    """True when `value` may replace `default` in a config: same type, or an int for a float."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return type(value) is type(default)


def _module_file(module):
    """recipes/common/speech.py for 'recipes.common.speech' (only modules of this checkout)."""
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"


def _literal_dict(path, name, seen=()):
    """The literal dict assigned to `name` at the top level of `path`, with `**SHARED` spreads resolved.

    A spread names a dict of another module of the checkout, imported at the top of `path`
    (`from recipes.common.speech import SYNTHESIS_DEFAULTS` or `from recipes.common import
    speech` then `**speech.SYNTHESIS_DEFAULTS`), so shared defaults are written once and
    still read without importing anything.

    Raises:
        ValueError: `name` is missing, not a literal, or a spread cannot be followed.
    """
    if (path, name) in seen:
        raise ValueError(f"{name} spreads itself")
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    imported = {}  # local name -> (module, attribute or None)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imported[alias.asname] = (alias.name, None)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            if not isinstance(node.value, ast.Dict):
                raise ValueError(f"{name} is not a literal dict")
            result = {}
            for key, value in zip(node.value.keys, node.value.values):
                if key is not None:
                    result[ast.literal_eval(key)] = ast.literal_eval(value)
                    continue
                result.update(_spread(path, value, imported, seen + ((path, name),)))
            return result
    raise KeyError(name)


def _spread(path, node, imported, seen):
    """The dict a `**NAME` or `**module.NAME` in `path` refers to."""
    if isinstance(node, ast.Name):
        if node.id not in imported:
            return _literal_dict(path, node.id, seen)
        module, attribute = imported[node.id]
        if attribute is not None and not (ROOT.joinpath(*module.split(".")) / f"{attribute}.py").is_file():
            return _literal_dict(_module_file(module), attribute, seen)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
        module, attribute = imported[node.value.id]
        module = f"{module}.{attribute}" if attribute else module
        return _literal_dict(_module_file(module), node.attr, seen)
    raise ValueError(f"the spread **{ast.unparse(node)} is not a dict imported from this checkout")


def read_default_config(recipe_dir):
    """DEFAULT_CONFIG of recipe_dir/model.py, read with `ast` (no import); `**SHARED` spreads are followed.

    Raises:
        CatalogError: the file or the assignment is missing, or it is not a literal dict of plain values.
    """
    path = Path(recipe_dir) / "model.py"
    name = Path(recipe_dir).name
    if not path.is_file():
        raise CatalogError(f"Recipe '{name}': {path} is missing. Every recipe folder needs model.py with DEFAULT_CONFIG and build_model.")
    try:
        config = _literal_dict(path, "DEFAULT_CONFIG")
    except KeyError:
        raise CatalogError(f"Recipe '{name}': {path} has no top-level DEFAULT_CONFIG = {{...}}. Add one.") from None
    except (ValueError, SyntaxError, OSError) as error:
        raise CatalogError(
            f"Recipe '{name}': DEFAULT_CONFIG in {path} cannot be read without importing ({error}). "
            "Write it as a flat dict of str/int/float/bool literals and **spreads of such dicts."
        ) from None
    bad = next((f"key {k!r} has a {type(v).__name__}" for k, v in config.items() if not isinstance(v, PLAIN_TYPES)), None)
    if bad:
        raise CatalogError(f"Recipe '{name}': DEFAULT_CONFIG in {path} is {bad}. Write it as a flat dict of str/int/float/bool literals.")
    return config


def _check_keys(where, mapping, allowed, required, problems):
    """Append a problem for each missing or unknown key of `mapping`; False if it is not a mapping."""
    if not isinstance(mapping, dict):
        problems.append(f"{where}: expected a mapping, got {mapping!r}. Write it as 'key: value' lines.")
        return False
    for key in mapping:
        if key not in allowed:
            problems.append(f"{where}: unknown field '{key}'.{did_you_mean(str(key), allowed)} Allowed: {', '.join(allowed)}.")
    for key in required:
        if key not in mapping:
            problems.append(f"{where}: missing field '{key}'. Add it (fields: {', '.join(allowed)}).")
    return True


def _check_closed(where, value, allowed, problems):
    if value not in allowed:
        problems.append(f"{where}: '{value}' is not allowed.{did_you_mean(str(value), allowed)} Use one of: {', '.join(allowed)}.")


def _check_text(where, value, problems):
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: expected non-empty text, got {value!r}.")
        return False
    return True


def validate_entry(recipe_id, entry, recipes_dir=RECIPES_DIR):
    """Problems with one catalog entry, each naming the entry, the field, the bad value and the fix.

    Args:
        recipe_id: the top-level key.
        entry: its parsed YAML value.
        recipes_dir: folder holding recipes/<id>/.

    Returns:
        A list of one-line problem strings (empty when the entry is valid).
    """
    problems = []
    at = f"catalog entry '{recipe_id}'"
    if not isinstance(recipe_id, str) or not _ID.match(recipe_id):
        return [f"{at}: the id must be lower_snake_case (it names the folder recipes/<id>/)."]
    if not _check_keys(at, entry, FIELDS, FIELDS, problems):
        return problems
    for field in ("title", "summary"):
        if field in entry:
            _check_text(f"{at}, field '{field}'", entry[field], problems)
    if isinstance(entry.get("summary"), str) and not entry["summary"].rstrip().endswith("."):
        problems.append(f"{at}, field 'summary': write one sentence ending with a full stop, got {entry['summary']!r}.")
    for field, allowed in (("family", FAMILIES), ("task", TASKS), ("modality", MODALITIES)):
        if field in entry:
            _check_closed(f"{at}, field '{field}'", entry[field], allowed, problems)
    properties = entry.get("properties")
    if properties is not None:
        if not isinstance(properties, list) or not properties:
            problems.append(f"{at}, field 'properties': expected a non-empty list, got {properties!r}. Write e.g. [output_each_step].")
        else:
            for value in properties:
                _check_closed(f"{at}, field 'properties'", value, PROPERTIES, problems)
            if len(set(map(str, properties))) != len(properties):
                problems.append(f"{at}, field 'properties': {properties!r} lists a property twice. List each once.")
    papers = entry.get("papers")
    if papers is not None:
        if not isinstance(papers, list) or not papers:
            problems.append(f"{at}, field 'papers': expected a non-empty list of title/authors/year/url, got {papers!r}.")
        else:
            for n, paper in enumerate(papers):
                where = f"{at}, papers[{n}]"
                if _check_keys(where, paper, PAPER_FIELDS, PAPER_FIELDS, problems):
                    if "year" in paper and not (isinstance(paper["year"], int) and 1900 < paper["year"] < 2100):
                        problems.append(f"{where}, field 'year': expected a year like 1997, got {paper['year']!r}.")
                    if "url" in paper and not str(paper["url"]).startswith(("https://", "http://")):
                        problems.append(f"{where}, field 'url': expected an http(s) link, got {paper['url']!r}.")
    if "data" in entry:
        _check_keys(f"{at}, field 'data'", entry["data"], DATA_FIELDS, DATA_FIELDS, problems)

    folder = Path(recipes_dir) / recipe_id
    config = None
    if not folder.is_dir():
        problems.append(f"{at}: folder recipes/{recipe_id}/ is missing. Create it (model.py, data.py) or remove the entry.")
    else:
        if not (folder / "data.py").is_file():
            problems.append(f"{at}: recipes/{recipe_id}/data.py is missing. Add it with load_data(config).")
        try:
            config = read_default_config(folder)
        except CatalogError as error:
            problems.append(str(error))
    if config is not None:
        for key, kind in REQUIRED_CONFIG.items():
            if not (key in config and same_type(kind(), config[key])):
                problems.append(f"{at}: DEFAULT_CONFIG needs '{key}' ({kind.__name__}); the runner and CLI use it. Add it to recipes/{recipe_id}/model.py.")

    brief = entry.get("brief")
    if "brief" in entry and _check_keys(f"{at}, field 'brief'", brief, BRIEF_FIELDS, BRIEF_FIELDS, problems):
        overrides = brief.get("overrides")
        if overrides is not None and not isinstance(overrides, dict):
            problems.append(f"{at}, brief.overrides: expected a mapping of config keys, got {overrides!r}.")
        elif overrides and config is not None:
            for key, value in overrides.items():
                where = f"{at}, brief.overrides.{key}"
                if key not in config:
                    problems.append(f"{where}: no such key in DEFAULT_CONFIG.{did_you_mean(str(key), config)} Override existing keys only.")
                elif not same_type(config[key], value):
                    problems.append(
                        f"{where}: {value!r} is a {type(value).__name__} but DEFAULT_CONFIG has {config[key]!r} "
                        f"({type(config[key]).__name__}). Use a value of the same type."
                    )
        if "metric" in brief:
            _check_text(f"{at}, brief.metric", brief["metric"], problems)
        expect = brief.get("expect")
        if "expect" in brief and not (
            isinstance(expect, dict)
            and len(expect) == 1
            and next(iter(expect)) in ("min", "max")
            and isinstance(next(iter(expect.values())), (int, float))
            and not isinstance(next(iter(expect.values())), bool)
        ):
            problems.append(f"{at}, brief.expect: expected {{min: number}} or {{max: number}}, got {expect!r}.")
        seconds = brief.get("budget_seconds")
        if "budget_seconds" in brief and not (isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0):
            problems.append(f"{at}, brief.budget_seconds: expected a positive int of seconds, got {seconds!r}.")
    return problems


def recipe_folders(recipes_dir=RECIPES_DIR):
    """Names of the recipe folders under recipes_dir (not common/, not private or cache folders)."""
    return sorted(
        p.name for p in Path(recipes_dir).iterdir() if p.is_dir() and p.name != "common" and not p.name.startswith(("_", "."))
    )


def validate_catalog(raw, recipes_dir=RECIPES_DIR):
    """All problems of a parsed catalog, including folders with no entry.

    Args:
        raw: the parsed YAML document.
        recipes_dir: folder holding the recipe folders.

    Returns:
        A list of one-line problem strings (empty when the catalog is valid).
    """
    if not isinstance(raw, dict) or not raw:
        return ["catalog.yaml: expected a mapping of recipe ids to entries. See the header of catalog.yaml."]
    problems = []
    for recipe_id, entry in raw.items():
        problems.extend(validate_entry(recipe_id, entry, recipes_dir))
    for name in recipe_folders(recipes_dir):
        if name not in raw:
            problems.append(f"recipes/{name}/ has no catalog entry. Add '{name}:' to catalog.yaml or remove the folder.")
    return problems


def read_catalog(path=CATALOG_PATH):
    """The parsed YAML of catalog.yaml, unvalidated."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"Cannot read the catalog {path}: {error.strerror}. Run from a checkout of the project.") from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise CatalogError(f"{path} is not valid YAML: {str(error).splitlines()[0]}. Fix the syntax.") from None


def load_catalog(path=CATALOG_PATH):
    """The catalog as {id: entry}, checked only for its overall shape.

    Entries are validated where they are used (`get_entry`, `valid_entries`), so one
    unfinished entry does not stop the others; `recipe validate` and the tests check all.

    Raises:
        CatalogError: the file is not a mapping of ids to entries.
    """
    raw = read_catalog(path)
    if not isinstance(raw, dict) or not raw:
        raise CatalogError(f"{path}: expected a mapping of recipe ids to entries. See the header of catalog.yaml.")
    return raw


def get_entry(catalog, recipe_id, recipes_dir=RECIPES_DIR):
    """The validated entry for recipe_id.

    Raises:
        UsageError: unknown id (with 'Did you mean ...?').
        CatalogError: the entry is invalid (the first problem, and how many more there are).
    """
    if recipe_id not in catalog:
        raise unknown_recipe(recipe_id, catalog)
    problems = validate_entry(recipe_id, catalog[recipe_id], recipes_dir)
    if problems:
        more = f" (and {len(problems) - 1} more: run 'recipe validate')" if len(problems) > 1 else ""
        raise CatalogError(problems[0] + more)
    return catalog[recipe_id]


def valid_entries(catalog, recipes_dir=RECIPES_DIR):
    """({id: entry} of the valid entries, [ids of invalid ones]), in catalog order."""
    valid, invalid = {}, []
    for recipe_id, entry in catalog.items():
        if validate_entry(recipe_id, entry, recipes_dir):
            invalid.append(recipe_id)
        else:
            valid[recipe_id] = entry
    return valid, invalid


def matches(recipe_id, entry, pattern=None, family=None, prop=None):
    """True when an entry passes `recipe list` filters (pattern: shell wildcard or substring of id/title)."""
    if pattern:
        wild = any(ch in pattern for ch in "*?[")
        text = f"{recipe_id} {entry['title']}".lower()
        if not (fnmatch.fnmatch(recipe_id, pattern) if wild else pattern.lower() in text):
            return False
    if family and entry["family"] != family:
        return False
    if prop and prop not in entry["properties"]:
        return False
    return True
