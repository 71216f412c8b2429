"""Loading catalog.yaml: mutations of the real catalog are refused at once, in one line that
names the line (and column for syntax), the problem and the fix; the CLI exits 2 on them."""

import subprocess
import sys

import pytest
import yaml

from tools import catalog as cat
from tools import cli, quiet

REAL = cat.CATALOG_PATH.read_text(encoding="utf-8")
IDS = list(cat.read_catalog())
FIRST, SECOND, THIRD = IDS[:3]

BILLION_LAUGHS = 'lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)


def line_at(text, index):
    """1-based line number of character `index` of `text`."""
    return text.count("\n", 0, index) + 1


def line_of(text, fragment, start=0):
    return line_at(text, text.index(fragment, start))


def block(recipe_id):
    """The text of one entry of the real catalog, from 'id:' to the blank line before the next."""
    start = REAL.index(f"\n{recipe_id}:\n") + 1
    end = REAL.find("\n\n", start)
    return REAL[start : end + 1 if end >= 0 else len(REAL)]


def first_line_with(prefix, recipe_id=FIRST):
    """The first line of `recipe_id`'s entry that starts with `prefix` (e.g. '  family:')."""
    text = block(recipe_id)
    start = text.index(prefix)
    return text[start : text.index("\n", start) + 1]


def replace_in_entry(recipe_id, old, new, text=REAL):
    """`text` with the first `old` inside `recipe_id`'s entry replaced by `new`."""
    start = text.index(f"\n{recipe_id}:\n")
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


def write(tmp_path, content):
    """tmp_path/catalog.yaml holding `content` (text as UTF-8, or bytes as they are)."""
    path = tmp_path / "catalog.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def refused(path):
    """The CatalogError message of reading `path`, checked to be one line; and how many YAML events were parsed first.

    The event count is the work done before refusing, measured exactly (a clock would flake on a busy machine).
    """
    events = 0

    def counting_get_event(loader):  # both loaders take their events through _CatalogRules' MRO
        nonlocal events
        events += 1
        return super(cat._CatalogRules, loader).get_event()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cat._CatalogRules, "get_event", counting_get_event, raising=False)
        with pytest.raises(cat.CatalogError) as info:
            cat.read_catalog(path)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message, repr(message)
    return message, events


def events_in(text):
    """How many YAML events parsing all of `text` takes (what a loader without limits would do)."""
    return sum(1 for _ in yaml.parse(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader))


# --- mutations: (name, text of the mutated catalog, fragments the message must contain) ---


def _duplicate_id():
    text = REAL.rstrip("\n") + "\n\n" + block(SECOND)
    second = line_at(text, text.rindex(f"\n{SECOND}:\n") + 1)
    return text, [f"recipe id '{SECOND}' appears twice", f"(lines {line_of(REAL, f'{SECOND}:')} and {second})", "Remove one."]


def _duplicate_nested_key():
    metric = first_line_with("    metric:")
    text = replace_in_entry(FIRST, metric, metric + metric.replace(":", ": also", 1))
    n = line_of(text, metric, text.index(f"\n{FIRST}:\n"))
    return text, [f"key '{FIRST}.brief.metric' appears twice", f"(lines {n} and {n + 1})", "Remove one."]


def _duplicate_key_in_a_list():
    year = first_line_with("      year:")
    text = replace_in_entry(FIRST, year, year + year)
    n = line_of(text, year, text.index(f"\n{FIRST}:\n"))
    return text, [f"key '{FIRST}.papers[0].year' appears twice", f"(lines {n} and {n + 1})", "Remove one."]


def _anchor_and_alias():
    family = first_line_with("  family:")
    text = replace_in_entry(FIRST, family, family.replace(": ", ": &family ", 1))
    text = replace_in_entry(SECOND, first_line_with("  family:", SECOND), "  family: *family\n", text)
    return text, [f"line {line_of(text, '&family')}:", "anchors and aliases (&name, *name) are not allowed", "Write the value out."]


def _alias_alone():
    text = replace_in_entry(SECOND, first_line_with("  task:", SECOND), "  task: *task\n")
    return text, [f"line {line_of(text, '*task')}:", "anchors and aliases", "Write the value out."]


def _anchor_alone():
    text = replace_in_entry(FIRST, "  data:\n", "  data: &data\n")
    return text, [f"line {line_of(text, '&data')}:", "anchors and aliases", "Write the value out."]


def _merge_key():
    text = replace_in_entry(FIRST, "  data:\n", "  data:\n    <<: {source: x}\n")
    return text, [f"line {line_of(text, '<<:')}:", "merge keys (<<) are not allowed", "Write the fields out."]


def _tag(tag):
    def mutation():
        family = first_line_with("  family:")
        text = replace_in_entry(FIRST, family, family.replace(": ", f": {tag} ", 1))
        return text, [f"line {line_of(text, tag)}:", f"the YAML tag '{tag}' is not allowed", "Remove it and write a plain value."]

    return mutation


def _broken_indentation():
    task = first_line_with("  task:")
    text = replace_in_entry(FIRST, task, " " + task)
    n = line_of(text, " " + task)
    return text, [f"line {n}, column {task.index(':') + 2}:", "mapping values are not allowed here", "Fix the syntax."]


def _dedented_field():
    task = first_line_with("  task:")
    text = replace_in_entry(FIRST, task, task[1:])
    return text, [f"line {line_of(text, chr(10) + task[1:]) + 1}, column 2:", "expected <block end>", "Fix the syntax."]


def _tab():
    task = first_line_with("  task:")
    text = replace_in_entry(FIRST, task, "\t" + task[2:])
    return text, [f"line {line_of(text, chr(9))}, column 1:", "tab", "Replace the tab with spaces."]


def _unterminated_quote_mid_file():
    title = first_line_with("  title:", SECOND)
    text = replace_in_entry(SECOND, title, title.replace(": ", ': "', 1))
    opened = line_of(text, ': "')
    return text, [f"line {opened}:", "quoted value runs on to line", "Close the quote on the line it opens."]


def _unterminated_quote_at_end():
    text = REAL.rstrip("\n") + '\n\nlast_recipe:\n  title: "no closing quote\n'
    return text, [
        f"line {text.count(chr(10)) + 1}, column 1:",
        "found unexpected end of stream",
        f"quoted scalar that starts on line {line_of(text, 'no closing quote')}",
        "Fix the syntax.",
    ]


def _billion_laughs_in_the_catalog():
    text = REAL.rstrip("\n") + "\n\n" + BILLION_LAUGHS
    return text, [f"line {line_of(text, '&a0')}:", "anchors and aliases", "Write the value out."]


def _second_document():
    text = REAL.rstrip("\n") + "\n---\n" + block(FIRST)
    return text, [f"line {line_of(text, chr(10) + '---') + 1}, column 1:", "a second YAML document", "Keep one document"]


def _control_character():
    text = replace_in_entry(FIRST, "  family:", "  family:\x07")
    return text, [f"line {line_of(text, chr(7))}, column 10:", "control character U+0007", "Remove it."]


def _top_level_list():
    text = "# a catalog written as a list\n\n" + "".join(f"- {rid}\n" for rid in IDS)
    return text, ["line 3:", "expected a mapping of recipe ids to entries, got a list", "See the header"]


def _too_many_values():
    entry = block(FIRST)
    copies = "".join(entry.replace(f"{FIRST}:", f"{FIRST}_{n}:", 1) + "\n" for n in range(400))
    text = REAL.rstrip("\n") + "\n\n" + copies
    assert len(text.encode()) < cat.MAX_CATALOG_BYTES
    return text, [f"more than {cat.MAX_NODES:,} values", "Keep only recipe entries"]


def _too_deep():
    text = REAL.rstrip("\n") + "\n\nnested: " + "[" * 200 + "]" * 200 + "\n"
    return text, [f"line {line_of(text, 'nested:')}:", f"deeper than {cat.MAX_DEPTH} levels", "Flatten the value."]


MUTATIONS = {
    "duplicate recipe id": _duplicate_id,
    "duplicate nested key": _duplicate_nested_key,
    "duplicate key in a list item": _duplicate_key_in_a_list,
    "anchor and alias": _anchor_and_alias,
    "alias alone": _alias_alone,
    "anchor alone": _anchor_alone,
    "merge key": _merge_key,
    "python tag": _tag("!!python/object/apply:os.system"),
    "str tag": _tag("!!str"),
    "custom tag": _tag("!custom"),
    "broken indentation": _broken_indentation,
    "dedented field": _dedented_field,
    "tab": _tab,
    "unterminated quote mid-file": _unterminated_quote_mid_file,
    "unterminated quote at the end": _unterminated_quote_at_end,
    "billion laughs in the catalog": _billion_laughs_in_the_catalog,
    "second document": _second_document,
    "control character": _control_character,
    "top-level list": _top_level_list,
    "too many values": _too_many_values,
    "too deep": _too_deep,
}


def test_the_real_catalog_loads_and_is_what_safe_load_reads():
    assert cat.read_catalog() == yaml.safe_load(REAL)
    assert cat.load_catalog() == yaml.safe_load(REAL)


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutated_catalog_is_refused_in_one_line(tmp_path, name):
    text, fragments = MUTATIONS[name]()
    assert text != REAL
    message, events = refused(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert message.startswith("catalog.yaml") or str(tmp_path) in message
    assert events <= 2 * cat.MAX_NODES + 2 * cat.MAX_DEPTH + 10, events  # a node is at most a start and an end event


@pytest.mark.parametrize("name", MUTATIONS)
def test_pure_python_loader_agrees(tmp_path, monkeypatch, name):
    """The libyaml fast path and the yaml.SafeLoader subclass refuse each mutation with the same message."""
    path = write(tmp_path, MUTATIONS[name]()[0])
    fast, _ = refused(path)
    monkeypatch.setattr(cat, "_FastCatalogLoader", cat.CatalogLoader)
    assert refused(path)[0] == fast


def test_catalog_loader_is_a_safe_loader():
    assert issubclass(cat.CatalogLoader, yaml.SafeLoader)
    assert cat.CatalogLoader(REAL).get_single_data() == yaml.safe_load(REAL)


def test_billion_laughs_fails_at_once(tmp_path):
    message, events = refused(write(tmp_path, BILLION_LAUGHS))
    assert message.endswith("line 1: YAML anchors and aliases (&name, *name) are not allowed. Write the value out.")
    assert events <= 5, events  # stream, document and mapping start, the key: refused at the first anchor, nothing expanded


def test_too_many_values_stops_at_the_limit(tmp_path):
    """The node limit refuses part-way through a file of 5x the limit's values, not after parsing them all."""
    text = REAL.rstrip("\n") + "\n\nbig: [" + "1, " * (5 * cat.MAX_NODES) + "]\n"
    message, events = refused(write(tmp_path, text))
    assert f"more than {cat.MAX_NODES:,} values" in message
    assert cat.MAX_NODES < events < events_in(text) / 4, (events, events_in(text))


def test_python_tag_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    family = first_line_with("  family:")
    text = replace_in_entry(FIRST, family, f"  family: !!python/object/apply:os.system ['touch {marker}']\n")
    message, _ = refused(write(tmp_path, text))
    assert "'!!python/object/apply:os.system'" in message
    assert not marker.exists()


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "~\n"])
def test_empty_catalog(tmp_path, content):
    message, _ = refused(write(tmp_path, content))
    assert "is empty" in message and "Add recipe entries" in message


@pytest.mark.parametrize(
    "content, got",
    [("{}\n", "an empty mapping"), ("[]\n", "an empty list"), ("just text\n", "text"), ("42\n", "a number"), ("yes\n", "true or false")],
)
def test_catalog_that_is_not_a_mapping(tmp_path, content, got):
    message, _ = refused(write(tmp_path, content))
    assert f"line 1: expected a mapping of recipe ids to entries, got {got}." in message


def test_non_utf8_byte(tmp_path):
    data = REAL.encode("utf-8")
    at = data.index(f"\n{SECOND}:\n".encode()) + 3  # inside the second id, column 3
    message, _ = refused(write(tmp_path, data[:at] + b"\xff" + data[at:]))
    assert f"line {line_of(REAL, f'{SECOND}:')}, column 3: byte 0xff is not UTF-8. Save the file as UTF-8." in message


@pytest.mark.parametrize("size", [cat.MAX_CATALOG_BYTES + 1, 20 * cat.MAX_CATALOG_BYTES])
def test_huge_catalog_is_refused_unread(tmp_path, monkeypatch, size):
    text = REAL + "#" * (size - len(REAL.encode()))
    path = write(tmp_path, text)
    sizes = []

    class Recording:
        """open() for read_catalog, recording the size of each read."""

        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs

        def __enter__(self):
            self.file = open(*self.args, **self.kwargs)  # noqa: SIM115 - closed in __exit__
            return self

        def __exit__(self, *exc):
            self.file.close()

        def read(self, n=-1):
            sizes.append(n)
            return self.file.read(n)

    monkeypatch.setattr(cat, "open", Recording, raising=False)
    message, events = refused(path)
    assert "is over 1 MB" in message and "Keep only recipe entries" in message
    assert events == 0 and sizes == [cat.MAX_CATALOG_BYTES + 1]  # one bounded read, nothing parsed


def test_missing_catalog(tmp_path):
    message, _ = refused(tmp_path / "nowhere.yaml")
    assert "Cannot read the catalog" in message and "No such file" in message


def test_syntax_error_names_line_and_column(tmp_path):
    text = "a: 1\nb: c: d\n"
    message, _ = refused(write(tmp_path, text))
    assert message.endswith("line 2, column 5: not valid YAML: mapping values are not allowed here. Fix the syntax.")


def test_unhashable_key(tmp_path):
    message, _ = refused(write(tmp_path, REAL + "? [a, b]\n: 1\n"))
    assert "found unhashable key" in message and "Fix the syntax." in message


def test_message_names_the_catalog_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message, _ = refused(write(tmp_path, "a: &x 1\n"))
    assert message == "catalog.yaml line 1: YAML anchors and aliases (&name, *name) are not allowed. Write the value out."


# --- through the CLI: CATALOG_PATH is read at call time, so patching it points `recipe` elsewhere ---


@pytest.fixture
def cli_on(tmp_path, monkeypatch, capsys):
    """Run tools.cli.main on a catalog text; returns (exit code, stdout, stderr lines)."""
    # `validate` routes fd 2 through a filter thread for the rest of the process: not inside pytest.
    monkeypatch.setattr(quiet.filter_native_logs, "active", True, raising=False)

    def run(text, *argv):
        monkeypatch.setattr(cat, "CATALOG_PATH", write(tmp_path, text))
        capsys.readouterr()
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err.strip().splitlines()

    return run


@pytest.mark.parametrize("argv", [["list"], ["list", "--json"], ["show", FIRST], ["validate"]], ids=" ".join)
@pytest.mark.parametrize("name", ["duplicate recipe id", "duplicate nested key", "anchor and alias", "python tag", "tab", "top-level list"])
def test_cli_exits_2_with_one_line(cli_on, argv, name):
    text, fragments = MUTATIONS[name]()
    code, out, err = cli_on(text, *argv)
    assert code == 2, (code, out, err)
    assert len(err) == 1, err
    assert err[0].startswith("recipe: error: ")
    for fragment in fragments:
        assert fragment in err[0]
    assert out == ""


def test_cli_on_an_unchanged_copy_lists_every_recipe(cli_on):
    code, out, err = cli_on(REAL, "list")
    assert code == 0 and err == []
    assert [line.split()[0] for line in out.splitlines()] == IDS


def test_duplicate_recipe_id_no_longer_passes_validate(tmp_path):
    """The old loader kept the second entry silently, so `recipe validate` passed; now it is a usage error."""
    path = write(tmp_path, _duplicate_id()[0])
    code = (
        "import sys; from pathlib import Path; import tools.catalog as c\n"
        f"c.CATALOG_PATH = Path({str(path)!r})\n"
        "from tools.cli import main; sys.exit(main(['validate']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"recipe id '{SECOND}' appears twice" in lines[0], result.stderr
    assert "keras" not in result.stderr.lower() and result.stdout == ""
