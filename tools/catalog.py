"""catalog.yaml: loading and validation. Imports neither TensorFlow nor Keras.

A recipe's DEFAULT_CONFIG is read from its model.py with `ast` (it must be a literal
dict), so listing, showing and validating the catalog stay instant. catalog.yaml is read
by CatalogLoader, a yaml.SafeLoader that refuses duplicate keys, anchors, aliases and tags
(see `read_catalog`); entries are checked against the field tables ENTRY, PAPER, DATA and
BRIEF (see `validate_entry`).
"""

import ast
import fnmatch
import functools
import re
from collections.abc import Hashable
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
    "convolutional_recurrent": "a convolutional front end feeding recurrent layers, or convolutions inside the recurrent cell",
    "embedding": "a shallow embedding model with no recurrence (word vectors)",
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
    "translation": "translate text from one language to another",
    "word_embedding": "learn word vectors from co-occurrence",
    "image_classification": "one label per image",
    "frame_prediction": "predict the next frames of a video",
}
MODALITIES = ("synthetic", "time_series", "text", "image", "video", "audio", "music", "pen_strokes")
# The statements a course uses to tell RNN architectures apart (Deep Learning book, ch. 10).
PROPERTIES = {
    "output_each_step": "output at each time step of the sequence read",
    "output_after_sequence": "one output after the full input sequence",
    "context_input": "input serves as fixed context or initial state",
    "hidden_recurrence": "recurrent connections between hidden units",
    "output_recurrence": "recurrent connections from the previous output",
    "encoder": "has an encoder (reader): a final state summarises the input",
    "decoder": "has a decoder (writer): writes a sequence from a fixed vector",
    "encoder_decoder": "encoder-decoder (sequence to sequence)",
    "bidirectional": "summary of past and of future",
    "teacher_forcing": "trainable with teacher forcing",
    "parallel_training": "training can be parallelised over time",
    "gated_memory": "gated memory (LSTM/GRU)",
    "convolutional_front_end": "convolutions read the input",
    "attention": "attention over the input",
}
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


@functools.lru_cache(maxsize=128)
def _module_tree(path, mtime_ns):
    """The module's syntax tree, parsed once per version of the file (shared modules are spread into many recipes)."""
    return ast.parse(path.read_text(encoding="utf-8"))


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
    tree = _module_tree(Path(path), Path(path).stat().st_mtime_ns)
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


# --- Validation: one table of field specs, read top to bottom like the catalog's header. ---
# A checker is `check(where, value, ctx)` yielding one-line problems; `where` names the
# entry and field ("catalog entry 'x', field 'family'"), `ctx` holds the entry's `at` and
# the recipe's DEFAULT_CONFIG (None when it cannot be read).


class _Context:
    __slots__ = ("at", "config")

    def __init__(self, at, config):
        self.at, self.config = at, config


def rule(ok, problem):
    """A checker yielding '<where>: <problem>' (formatted with `value`) when ok(value) is false."""

    def check(where, value, ctx):
        if not ok(value):
            yield f"{where}: {problem.format(value=value)}"

    return check


def all_of(*checkers):
    """A checker running each of `checkers` in turn."""

    def check(where, value, ctx):
        for checker in checkers:
            yield from checker(where, value, ctx)

    return check


def one_of(allowed):
    """A checker for a value of a closed list (suggests the closest on a typo)."""

    def check(where, value, ctx):
        if not isinstance(value, Hashable) or value not in allowed:  # a list or mapping is never allowed
            yield f"{where}: '{value}' is not allowed.{did_you_mean(str(value), allowed)} Use one of: {', '.join(allowed)}."

    return check


def list_of(item, expected, hint="", item_where="{where}", unique=None):
    """A checker for a non-empty list whose items pass `item`; `unique` names the item when it may not repeat."""

    def check(where, value, ctx):
        if not isinstance(value, list) or not value:
            yield f"{where}: expected {expected}, got {value!r}.{hint}"
            return
        for n, element in enumerate(value):
            yield from item(item_where.format(where=where, at=ctx.at, n=n), element, ctx)
        if unique and len(set(map(str, value))) != len(value):
            yield f"{where}: {value!r} lists a {unique} twice. List each once."

    return check


def fields(spec, field_where="{where}, field '{key}'", optional=()):
    """A checker for a mapping with the keys of `spec` (those in `optional` may be left out), each checked by spec[key]."""
    allowed = tuple(spec)

    def check(where, value, ctx):
        if not isinstance(value, dict):
            yield f"{where}: expected a mapping, got {value!r}. Write it as 'key: value' lines."
            return
        for key in value:
            if key not in spec:
                yield f"{where}: unknown field '{key}'.{did_you_mean(str(key), allowed)} Allowed: {', '.join(allowed)}."
        for key in allowed:
            if key not in value and key not in optional:
                yield f"{where}: missing field '{key}'. Add it (fields: {', '.join(allowed)})."
        for key, checker in spec.items():
            if key in value:
                yield from checker(field_where.format(where=where, key=key, at=ctx.at), value[key], ctx)

    return check


def _overrides(where, value, ctx):
    """brief.overrides: a mapping of DEFAULT_CONFIG keys to values of the same type."""
    if not isinstance(value, dict):
        yield f"{where}: expected a mapping of config keys, got {value!r}."
        return
    config = ctx.config
    for key, new in value.items() if config is not None else ():
        if key not in config:
            yield f"{where}.{key}: no such key in DEFAULT_CONFIG.{did_you_mean(str(key), config)} Override existing keys only."
        elif not same_type(config[key], new):
            yield (
                f"{where}.{key}: {new!r} is a {type(new).__name__} but DEFAULT_CONFIG has {config[key]!r} "
                f"({type(config[key]).__name__}). Use a value of the same type."
            )


def _anything(where, value, ctx):
    return ()


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TEXT = rule(lambda v: isinstance(v, str) and v.strip(), "expected non-empty text, got {value!r}.")
SENTENCE = rule(lambda v: not isinstance(v, str) or v.rstrip().endswith("."), "write one sentence ending with a full stop, got {value!r}.")
YEAR = rule(lambda v: isinstance(v, int) and 1900 < v < 2100, "expected a year like 1997, got {value!r}.")
LINK = rule(lambda v: str(v).startswith(("https://", "http://")), "expected an http(s) link, got {value!r}.")
BOUND = rule(
    lambda v: isinstance(v, dict) and len(v) == 1 and set(v) <= {"min", "max"} and _is_number(*v.values()),
    "expected {{min: number}} or {{max: number}}, got {value!r}.",
)
SECONDS = rule(lambda v: _is_int(v) and v > 0, "expected a positive int of seconds, got {value!r}.")

PAPER = {"title": _anything, "authors": _anything, "year": YEAR, "url": LINK}
DATA = {"source": _anything, "licence": _anything}
BRIEF = {"overrides": _overrides, "metric": TEXT, "expect": BOUND, "budget_seconds": SECONDS}
# Optional: the metrics.json key of a baseline the recipe's evaluate measures on the same split, and its name.
BASELINE = {"metric": TEXT, "label": TEXT}
# The Keras backends a recipe may run on. Optional `backends:` lists only those it cannot run on, each
# with the reason in one sentence (`recipe run --backend` refuses them with it); the aim is that none needs it.
BACKENDS = ("tensorflow", "jax", "torch")
UNSUPPORTED_BACKENDS = rule(
    lambda v: isinstance(v, dict) and v and set(v) <= set(BACKENDS) and all(isinstance(r, str) and r.rstrip().endswith(".") for r in v.values()),
    "expected the backends it cannot run on (" + ", ".join(BACKENDS) + "), each with its reason in one sentence, got {value!r}.",
)
ENTRY = {
    "title": TEXT,
    "summary": all_of(TEXT, SENTENCE),
    "family": one_of(FAMILIES),
    "task": one_of(TASKS),
    "modality": one_of(MODALITIES),
    "properties": list_of(one_of(PROPERTIES), "a non-empty list", hint=" Write e.g. [output_each_step].", unique="property"),
    "papers": list_of(fields(PAPER), "a non-empty list of title/authors/year/url", item_where="{at}, papers[{n}]"),
    "data": fields(DATA),
    "brief": fields(BRIEF, field_where="{at}, brief.{key}"),
    "baseline": fields(BASELINE, field_where="{at}, baseline.{key}"),
    "backends": UNSUPPORTED_BACKENDS,
}
OPTIONAL_FIELDS = ("baseline", "backends")
FIELDS, PAPER_FIELDS, DATA_FIELDS, BRIEF_FIELDS = tuple(ENTRY), tuple(PAPER), tuple(DATA), tuple(BRIEF)
_check_entry = fields(ENTRY, optional=OPTIONAL_FIELDS)


def _check_folder(at, recipe_id, recipes_dir):
    """(problems, DEFAULT_CONFIG or None) of recipes/<id>/: model.py with the keys the runner needs, data.py."""
    folder = Path(recipes_dir) / recipe_id
    if not folder.is_dir():
        return [f"{at}: folder recipes/{recipe_id}/ is missing. Create it (model.py, data.py) or remove the entry."], None
    problems = [] if (folder / "data.py").is_file() else [f"{at}: recipes/{recipe_id}/data.py is missing. Add it with load_data(config)."]
    try:
        config = read_default_config(folder)
    except CatalogError as error:
        return problems + [str(error)], None
    problems += [
        f"{at}: DEFAULT_CONFIG needs '{key}' ({kind.__name__}); the runner and CLI use it. Add it to recipes/{recipe_id}/model.py."
        for key, kind in REQUIRED_CONFIG.items()
        if not (key in config and same_type(kind(), config[key]))
    ]
    return problems, config


def validate_entry(recipe_id, entry, recipes_dir=RECIPES_DIR):
    """Problems with one catalog entry, each naming the entry, the field, the bad value and the fix.

    The rules are the tables above (ENTRY, PAPER, DATA, BRIEF), then the recipe folder.

    Args:
        recipe_id: the top-level key.
        entry: its parsed YAML value.
        recipes_dir: folder holding recipes/<id>/.

    Returns:
        A list of one-line problem strings (empty when the entry is valid).
    """
    at = f"catalog entry '{recipe_id}'"
    if not isinstance(recipe_id, str) or not _ID.match(recipe_id):
        return [f"{at}: the id must be lower_snake_case (it names the folder recipes/<id>/)."]
    if not isinstance(entry, dict):
        return list(_check_entry(at, entry, _Context(at, None)))
    folder_problems, config = _check_folder(at, recipe_id, recipes_dir)
    return list(_check_entry(at, entry, _Context(at, config))) + folder_problems


def recipe_folders(recipes_dir=RECIPES_DIR):
    """Names of the recipe folders under recipes_dir (not common/, not private or cache folders)."""
    return sorted(p.name for p in Path(recipes_dir).iterdir() if p.is_dir() and p.name != "common" and not p.name.startswith(("_", ".")))


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


# --- Loading: a strict, small subset of YAML, every failure one line naming the line. ---
MAX_CATALOG_BYTES = 1_000_000  # the real catalog is ~27 KB; PyYAML reads 1 MB in well under a second
MAX_NODES = 20_000  # values, keys and lists; the real catalog has ~1,300, and each costs ~20 us to parse
MAX_DEPTH = 32  # the catalog nests 4 deep (id, papers, [n], title); deeper is refused before Python's recursion limit
_STANDARD_TAG = "tag:yaml.org,2002:"


class _CatalogRules:
    """What CatalogLoader refuses, for any loader built on PyYAML's Python Composer and SafeConstructor."""

    def _start(self, name):
        self.catalog_name = name
        self.root_line = 1
        self._depth = self._nodes = 0

    def _refuse(self, mark, message):
        raise CatalogError(f"{self.catalog_name} line {mark.line + 1}: {message}")

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            self._refuse(event.start_mark, "YAML anchors and aliases (&name, *name) are not allowed. Write the value out.")
        if isinstance(event, yaml.ScalarEvent) and event.style in ("'", '"') and event.end_mark.line != event.start_mark.line:
            self._refuse(
                event.start_mark,
                f"the quoted value runs on to line {event.end_mark.line + 1} (an unclosed quote?). Close the quote on the line it opens.",
            )
        if event.tag is not None:
            tag = "!!" + event.tag[len(_STANDARD_TAG) :] if event.tag.startswith(_STANDARD_TAG) else event.tag
            self._refuse(
                event.start_mark, f"the YAML tag '{tag}' is not allowed (tags can build arbitrary objects). Remove it and write a plain value."
            )
        self._depth, self._nodes = self._depth + 1, self._nodes + 1
        if self._nodes > MAX_NODES:
            self._refuse(
                event.start_mark,
                f"more than {MAX_NODES:,} values; a catalog that big is refused so 'recipe list' stays instant. Keep only recipe entries in it.",
            )
        if self._depth > MAX_DEPTH:
            self._refuse(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels is not allowed. Flatten the value.")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node):
        self.root_line = node.start_mark.line + 1
        self._check_duplicates(node, "")
        return super().construct_document(node)

    def _check_duplicates(self, node, path):
        """Refuse a key that appears twice in one mapping (any level), naming its path and both lines."""
        if isinstance(node, yaml.SequenceNode):
            for n, item in enumerate(node.value):
                self._check_duplicates(item, f"{path}[{n}]")
        if not isinstance(node, yaml.MappingNode):
            return
        first_line = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STANDARD_TAG + "merge":
                self._refuse(key_node.start_mark, "YAML merge keys (<<) are not allowed. Write the fields out.")
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: SafeConstructor reports it as unhashable
            key, line = self.construct_object(key_node), key_node.start_mark.line + 1
            here = f"{path}.{key}" if path else str(key)
            if key in first_line:
                what = f"key '{here}'" if path else f"recipe id '{key}'"
                lines = f"lines {first_line[key]} and {line}" if first_line[key] != line else f"both on line {line}"
                raise CatalogError(f"{self.catalog_name}: {what} appears twice ({lines}). Remove one.")
            first_line[key] = line
            self._check_duplicates(value_node, here)


class CatalogLoader(_CatalogRules, yaml.SafeLoader):
    """yaml.SafeLoader for catalog.yaml that refuses what a registry of recipes never needs.

    Refused, each with a one-line CatalogError naming the line: duplicate mapping keys at any
    level (PyYAML would keep the last silently), anchors and aliases (no "billion laughs"),
    merge keys (<<), explicit tags (`!!python/...`, `!!str`, `!custom`), quoted values that run
    over several lines (mostly an unclosed quote), nesting deeper than MAX_DEPTH and more than
    MAX_NODES values. Everything else is SafeLoader's: str/int/float/bool/null, lists, mappings.
    """

    def __init__(self, stream, name="catalog.yaml"):
        super().__init__(stream)
        self._start(name)


if yaml.__with_libyaml__:

    class _FastCatalogLoader(_CatalogRules, yaml.composer.Composer, yaml._yaml.CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """CatalogLoader's rules over libyaml's events: the same result ~6x faster (5 ms, not 30, for the catalog).

        Only the scanning and parsing are libyaml's; composing (where the rules are) and constructing
        are PyYAML's Python code, as in CatalogLoader. read_catalog re-reads with CatalogLoader when
        libyaml finds a syntax error, so messages have PyYAML's wording whichever is installed.
        """

        def __init__(self, stream, name="catalog.yaml"):
            yaml._yaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start(name)

else:  # pragma: no cover - PyYAML without libyaml
    _FastCatalogLoader = CatalogLoader


def _parse(loader_class, text, name):
    loader = loader_class(text, name)
    try:
        return loader.get_single_data(), loader.root_line
    finally:
        loader.dispose()


def _display(path):
    """`path` as the user knows it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _line_column(text, index):
    """1-based (line, column) of character `index` of `text`."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _one_line(text):
    return " ".join(str(text).split())


def _syntax_error(name, error):
    """One line for a PyYAML error: where, what, and the construct it was inside (with its line when elsewhere)."""
    mark = error.problem_mark or error.context_mark
    where = f"{name} line {mark.line + 1}, column {mark.column + 1}" if mark else name
    if error.context == "expected a single document in the stream":
        return f"{where}: a second YAML document ('---') is not allowed. Keep one document of recipe entries."
    problem = _one_line(error.problem or error.context or "unreadable YAML")
    if "'\\t'" in problem:
        return f"{where}: not valid YAML: a tab character cannot start a token (YAML indents with spaces). Replace the tab with spaces."
    if error.problem and error.context:
        start = error.context_mark
        elsewhere = f" that starts on line {start.line + 1}" if start and mark and start.line != mark.line else ""
        problem += f" ({_one_line(error.context)}{elsewhere})"
    return f"{where}: not valid YAML: {problem}. Fix the syntax."


def read_catalog(path=None):
    """The parsed catalog.yaml (default CATALOG_PATH, read when called): a non-empty mapping, entries unvalidated.

    Raises:
        CatalogError: the file cannot be read, is too big, is not UTF-8, is not valid YAML, uses
            what CatalogLoader refuses (duplicate keys, anchors, aliases, tags), or is not a mapping.
    """
    path = Path(CATALOG_PATH if path is None else path)
    name = _display(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CATALOG_BYTES + 1)  # bounded even for a device or a growing file
    except OSError as error:
        raise CatalogError(f"Cannot read the catalog {path}: {error.strerror}. Run from a checkout of the project.") from None
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError(
            f"{name} is over {MAX_CATALOG_BYTES // 1_000_000} MB; a catalog that big is refused so 'recipe list' stays instant. "
            "Keep only recipe entries in it (the real one is about 30 KB)."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = data.count(b"\n", 0, error.start) + 1, error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise CatalogError(f"{name} line {line}, column {column}: byte 0x{data[error.start]:02x} is not UTF-8. Save the file as UTF-8.") from None
    try:
        try:
            raw, root_line = _parse(_FastCatalogLoader, text, name)
        except yaml.YAMLError:  # say it in PyYAML's words (Python's reader also checks the characters first)
            raw, root_line = _parse(CatalogLoader, text, name)
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text, error.position)
        raise CatalogError(
            f"{name} line {line}, column {column}: the control character U+{error.character:04X} is not allowed in YAML. Remove it."
        ) from None
    except yaml.MarkedYAMLError as error:
        raise CatalogError(_syntax_error(name, error)) from None
    except yaml.YAMLError as error:
        raise CatalogError(f"{name}: not valid YAML: {_one_line(error)}. Fix the syntax.") from None
    if raw is None:
        raise CatalogError(f"{name} is empty. Add recipe entries ('<id>:' lines with their fields; see the header of catalog.yaml).")
    if not isinstance(raw, dict) or not raw:
        kinds = {"list": "a list", "dict": "an empty mapping", "str": "text", "bool": "true or false", "int": "a number", "float": "a number"}
        got = kinds.get(type(raw).__name__, "a single value")
        got = "an empty list" if raw == [] else got
        raise CatalogError(f"{name} line {root_line}: expected a mapping of recipe ids to entries, got {got}. See the header of catalog.yaml.")
    return raw


def load_catalog(path=None):
    """The catalog as {id: entry} (default CATALOG_PATH, read when called), checked only for its overall shape.

    Entries are validated where they are used (`get_entry`, `valid_entries`), so one
    unfinished entry does not stop the others; `recipe validate` and the tests check all.

    Raises:
        CatalogError: the file is not a mapping of ids to entries (see `read_catalog`).
    """
    return read_catalog(path)


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


def check_backend(recipe_id, entry, backend):
    """Raise UsageError, with the catalog's reason and the backends that work, when the recipe cannot run on `backend`."""
    reason = entry.get("backends", {}).get(backend)
    if reason:
        others = [name for name in BACKENDS if name not in entry["backends"]]
        raise UsageError(f"{recipe_id} does not run on the {backend} backend: {reason} Use --backend {' or '.join(others)}.")


def brief_check(entry):
    """The catalog's brief expectation in words: 'recall_accuracy ≥ 0.9 in ≤ 90 s' (on a 2-core CPU)."""
    brief = entry["brief"]
    ((kind, bound),) = brief["expect"].items()
    return f"{brief['metric']} {'≥' if kind == 'min' else '≤'} {bound:g} in ≤ {brief['budget_seconds']} s"


def matches(recipe_id, entry, pattern=None, family=None, prop=None):
    """True when an entry passes `recipe list` filters (pattern: shell wildcard or substring of id/title)."""
    if pattern:
        wild = any(ch in pattern for ch in "*?[")
        text = f"{recipe_id} {entry['title']}".lower()
        if not (fnmatch.fnmatch(recipe_id, pattern) if wild else pattern.lower() in text):
            return False
    if family and entry["family"] != family:
        return False
    return not (prop and prop not in entry["properties"])
