"""Bad input, as a new user types it: every case is one line on stderr, the right exit code,
no traceback, no training started, and no file of the user's changed.

Cases run in-process through `tools.cli.main` (Keras is imported once for the whole table);
tests/test_cli.py covers the same contract through the installed `recipe` command.
"""

import hashlib
import json
from pathlib import Path

import keras
import pytest

from tools import cli, quiet, runner

quiet.filter_native_logs.active = True  # leave fd 2 to pytest's capture: the CLI's filter is tested in test_quiet.py

RECIPE = "memory_task"
TINY = ["--brief", "--epochs", "1", "--set", "num_train=64", "--set", "num_validation=32", "--set", "num_test=32"]


def tree_hash(folder):
    """{relative path: sha256} of every file below folder."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A real, complete run of RECIPE (one epoch on 64 examples), its weight figures written."""
    root = tmp_path_factory.mktemp("finished")
    assert cli.main(["run", RECIPE, *TINY, "--out", str(root / "run")]) == 0
    assert cli.main(["weights", str(root / "run")]) == 0
    return root / "run"


@pytest.fixture(scope="module")
def odd_runs(tmp_path_factory, finished_run):
    """Run directories a reader must refuse: still running, corrupt model, unsafe model, broken run.json."""
    root = tmp_path_factory.mktemp("odd")

    def clone(name, status="complete"):
        folder = root / name
        folder.mkdir()
        for file in ("config.json", "model.keras"):
            (folder / file).write_bytes((finished_run / file).read_bytes())
        record = json.loads((finished_run / "run.json").read_text())
        (folder / "run.json").write_text(json.dumps({**record, "status": status}))
        return folder

    clone("running", status="running")
    clone("diverged", status="diverged")
    (clone("corrupt") / "model.keras").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (clone("truncated") / "model.keras").write_bytes((finished_run / "model.keras").read_bytes()[:2000])
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(clone("unsafe") / "model.keras")
    (clone("badjson") / "run.json").write_text("{not json")
    (clone("listjson") / "run.json").write_text("[1, 2]")
    (clone("nomodel") / "model.keras").unlink()
    tampered = clone("tampered", status="running")
    config = json.loads((tampered / "config.json").read_text())
    (tampered / "config.json").write_text(json.dumps({**config, "units": 10**9}))
    older = clone("older", status="interrupted")
    (older / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "units"}))
    (root / "plain").mkdir()
    (root / "compare" / "units=8").mkdir(parents=True)
    (root / "afile.txt").write_text("a user's file\n")
    return root


# (argv with {RUN}, {ODD} and {CWD} placeholders, exit code, fragment of the one-line message)
CASES = {
    "values": [
        (["run", RECIPE, "--set", "units=0"], 2, "takes an integer from 1 to"),
        (["run", RECIPE, "--set", "units=-3"], 2, "got -3"),
        (["run", RECIPE, "--set", "units=1000000000"], 2, "got 1000000000"),
        (["run", RECIPE, "--set", "batch_size=0"], 2, "'batch_size'"),
        (["run", RECIPE, "--set", "batch_size=100000000"], 2, "'batch_size'"),
        (["run", RECIPE, "--set", "learning_rate=-1"], 2, "'learning_rate'"),
        (["run", RECIPE, "--set", "learning_rate=0"], 2, "'learning_rate'"),
        (["run", RECIPE, "--set", "learning_rate=inf"], 2, "'learning_rate'"),
        (["run", RECIPE, "--set", "learning_rate=nan"], 2, "takes a number"),
        (["run", RECIPE, "--set", "learning_rate=1e400"], 2, "'learning_rate'"),
        (["run", RECIPE, "--set", "global_clipnorm=-1"], 2, "'global_clipnorm'"),
        (["run", RECIPE, "--set", "cell=transformer"], 2, "one of"),
        (["run", RECIPE, "--set", "cell="], 2, "'cell'"),
        (["run", RECIPE, "--set", "match_params=maybe"], 2, "true or false"),
        (["run", RECIPE, "--set", "num_digits=0"], 2, "'num_digits'"),
        (["run", RECIPE, "--set", "blank_separation=-1"], 2, "'blank_separation'"),
        (["run", RECIPE, "--set", "num_train=0"], 2, "'num_train'"),
        (["run", RECIPE, "--set", "num_train=10000000000"], 2, "'num_train'"),
        (["run", RECIPE, "--set", "units=3.5"], 2, "takes an integer"),
        (["run", RECIPE, "--set", "units=1e9"], 2, "takes an integer"),
        (["run", RECIPE, "--set", "units="], 2, "takes an integer"),
        (["run", RECIPE, "--set", "=5"], 2, "--set expects key=value"),
        (["run", RECIPE, "--set", "units"], 2, "--set expects key=value"),
        (["run", RECIPE, "--set", "UNITS=3"], 2, "has no config key 'UNITS'"),
        (["run", RECIPE, "--epochs", "0"], 2, "'epochs'"),
        (["run", RECIPE, "--epochs", "-2"], 2, "'epochs'"),
        (["run", RECIPE, "--epochs", "100000000"], 2, "'epochs'"),
        (["run", RECIPE, "--epochs", "1.5"], 2, "invalid int value"),
        (["run", RECIPE, "--seed", "-1"], 2, "'seed'"),
        (["run", RECIPE, "--seed", "99999999999999"], 2, "'seed'"),
        (["run", "char_rnn", "--set", "dropout=1.5"], 2, "'dropout'"),
        (["run", "char_rnn", "--set", "sequence_length=0"], 2, "'sequence_length'"),
        (["run", "deepspeech2_ctc", "--set", "min_digits=6"], 2, "'min_digits'"),
        (["run", "deepspeech2_ctc", "--set", "sample_rate=0"], 2, "'sample_rate'"),
        (["run", "wavenet", "--set", "snr_min_db=nan"], 2, "takes a number"),
        (["run", "echo_state_network", "--set", "sparsity=1.0"], 2, "'sparsity'"),
        (["plot", RECIPE, "--set", "units=0", "--out", "{CWD}/g.svg"], 2, "'units'"),
        (["weights", RECIPE, "--set", "units=1000000000", "--out", "{CWD}/w"], 2, "'units'"),
        (["compare", RECIPE, "--grid", "units=8,0", "--out", "{CWD}/c"], 2, "'units'"),
    ],
    "overwrite": [
        (["plot", RECIPE, "--out", "{RUN}/model.keras"], 2, "already exists"),
        (["plot", RECIPE, "--out", "{RUN}/config.json", "--format", "svg"], 2, "already exists"),
        (["plot", RECIPE, "--out", "{ODD}/new.json"], 2, "ends in .json, which is not a graph format"),
        (["plot", RECIPE, "--out", "{RUN}/loss.png"], 2, "already exists"),
        (["plot", RECIPE, "--out", "{ODD}/afile.txt", "--format", "svg"], 2, "already exists"),
        (["plot", RECIPE, "--out", "{ODD}/new.txt", "--format", "svg"], 2, "ends in .txt but --format is svg"),
        (["plot", RECIPE, "--out", "{RUN}"], 2, "is a folder"),
        (["run", RECIPE, "--out", "{RUN}"], 2, "already exists and is not empty"),
        (["run", RECIPE, "--out", "{ODD}/afile.txt"], 2, "is a file"),
        (["weights", "{RUN}"], 2, "already exists"),
        (["weights", "{RUN}", "--out", "{RUN}/weights"], 2, "already exists"),
        (["weights", "{RUN}", "--out", "{ODD}/afile.txt"], 2, "is a file"),
        (["weights", "{RUN}", "--set", "units=8"], 2, "Drop --set"),
        (["compare", RECIPE, "--grid", "units=8", "--out", "{ODD}/compare"], 2, "already exists"),
        (["diagram", RECIPE, "--out", "{RUN}/loss.png"], 2, "already exists"),
        (["diagram", "{RUN}", "--set", "units=8"], 2, "Drop --set"),
        (["atlas", "--out", "{RUN}/loss.png"], 2, "already exists"),
    ],
    "unwritable": [
        (["plot", RECIPE, "--out", "{ODD}/afile.txt/graph.svg"], 2, "Cannot write"),
        (["run", RECIPE, *TINY, "--out", "{ODD}/afile.txt/run"], 2, "Cannot write"),
        (["weights", "{RUN}", "--out", "{ODD}/afile.txt/w"], 2, "Cannot write"),
        (["compare", RECIPE, "--grid", "units=8", "--out", "{ODD}/afile.txt/c"], 2, "Cannot write"),
    ],
    "run directories": [
        (["weights", "{ODD}/plain"], 2, "not a usable run directory"),
        (["weights", "{ODD}/missing"], 2, "no such directory"),
        (["weights", "{ODD}/afile.txt"], 2, "not a directory"),
        (["weights", "{ODD}/running"], 2, "--resume"),
        (["weights", "{ODD}/diverged"], 2, "status is 'diverged'"),
        (["weights", "{ODD}/corrupt"], 2, "corrupt or incomplete"),
        (["weights", "{ODD}/truncated"], 2, "corrupt or incomplete"),
        (["weights", "{ODD}/unsafe"], 2, "safe mode refuses"),
        (["weights", "{ODD}/badjson"], 2, "no readable run.json"),
        (["weights", "{ODD}/listjson"], 2, "not a run's record"),
        (["weights", "{ODD}/nomodel"], 2, "model.keras is missing"),
        (["diagram", "{ODD}/corrupt"], 2, "corrupt or incomplete"),
        (["diagram", "{ODD}/running", "--view", "cell"], 2, "--resume"),
        (["diagram", "{ODD}/missing"], 2, "no such directory"),
        (["transcribe", "{RUN}", "{ODD}/afile.txt"], 2, "does not transcribe speech"),
        (["transcribe", "{ODD}/corrupt", "{ODD}/afile.txt"], 2, "does not transcribe speech"),
    ],
    "resume": [
        (["run", "--resume", "{RUN}"], 2, "it is complete"),
        (["run", "--resume", "{ODD}/missing"], 2, "no such directory"),
        (["run", "--resume", "{ODD}/plain"], 2, "no readable run.json"),
        (["run", "--resume", "{ODD}/diverged"], 2, "status is 'diverged'"),
        (["run", "--resume", "{ODD}/tampered"], 2, "'units' of 'memory_task' takes an integer"),
        (["run", "--resume", "{ODD}/older"], 2, "config.json lacks units"),
        (["run", "--resume", "{ODD}/afile.txt"], 2, "not a directory"),
        (["run", RECIPE, "--resume", "{RUN}"], 2, "drop ID"),
        (["run", "--resume", "{RUN}", "--epochs", "3"], 2, "drop --epochs"),
        (["run"], 2, "needs a recipe id"),
    ],
    "flags": [
        (["compare", RECIPE, "--grid", "units"], 2, "--grid expects key=value"),
        (["compare", RECIPE, "--grid", "=1"], 2, "--grid expects key=value"),
        (["run", RECIPE, "--out", ""], 2, "--out is empty"),
        (["plot", RECIPE, "--out", ""], 2, "--out is empty"),
        (["weights", "{RUN}", "--out", ""], 2, "--out is empty"),
        (["run", "--resume", ""], 2, "--resume is empty"),
        (["run", RECIPE, "--set", "units=8=9"], 2, "got '8=9'"),
        (["run", RECIPE, "--set", "cell=LSTM"], 2, "Use e.g. --set cell=lstm"),
        (["compare", RECIPE, "--grid", "units="], 2, "--grid takes one or two keys"),
        (["compare", RECIPE, "--grid", "units=8,8"], 2, "lists a value twice"),
        (["compare", RECIPE, "--grid", "units=8", "--grid", "units=16"], 2, "names 'units' twice"),
        (["compare", RECIPE, "--grid", "units=8", "--grid", "cell=lstm", "--grid", "num_digits=2"], 2, "one or two keys"),
        (["compare", RECIPE, "--grid", "unitz=8"], 2, "Did you mean 'units'"),
        (["compare", RECIPE, "--grid", "units=" + ",".join(map(str, range(1, 80)))], 2, "at most 64"),
        (["compare", RECIPE, "--grid", "units=8", "--set", "units=4"], 2, "--set fixes it"),
        (["compare", RECIPE, "--grid", "units=8", "--metric", "recal_accuracy"], 2, "Did you mean 'recall_accuracy'"),
        (["compare", RECIPE, "--grid", "units=8", "--metric", ","], 2, "--metric takes metric names"),
        (["compare", RECIPE, "--grid", "units=8,16", "--grid", "cell=lstm", "--metric", "loss,recall_accuracy"], 2, "single --grid key"),
        (["plot", RECIPE, "--format", "gif"], 2, "invalid choice"),
        (["plot", RECIPE, "--out", "{CWD}/graph.gif"], 2, "not a graph format"),
        (["plot", RECIPE, "--out", "{CWD}/graph.png", "--format", "svg"], 2, "ends in .png but --format is svg"),
        (["plot", RECIPE, "--rankdir", "XX"], 2, "invalid choice"),
        (["transcribe", "{RUN}"], 2, "required"),
        (["list", "--property", "teacher_forced"], 2, "Did you mean 'teacher_forcing'"),
        (["list", "--family", "transformer"], 2, "Use one of"),
        (["show", "memory_tsak"], 2, "Did you mean 'memory_task'"),
        (["run", "../memory_task"], 2, "Unknown recipe"),
        (["plot", "memory_task/"], 2, "Unknown recipe"),
        (["weights", "memory_tsak"], 2, "Unknown recipe"),
        (["fly"], 2, "invalid choice"),
    ],
}


def expand(argv, run_dir, odd, cwd):
    return [a.replace("{RUN}", str(run_dir)).replace("{ODD}", str(odd)).replace("{CWD}", str(cwd)) for a in argv]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a run gets as far as generating data or training."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started for a bad input")

    monkeypatch.setattr(runner, "execute", refuse)
    monkeypatch.setattr(keras.Model, "fit", refuse)


def call(argv):
    """cli.main's exit code (argparse's errors leave through SystemExit)."""
    try:
        return cli.main(argv)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize(
    "argv, code, fragment",
    [case for cases in CASES.values() for case in cases],
    ids=[f"{kind}:{' '.join(c[0])}"[:90] for kind, cases in CASES.items() for c in cases],
)
def test_bad_input_is_one_line_and_changes_nothing(argv, code, fragment, finished_run, odd_runs, tmp_path, monkeypatch, capfd, no_training):
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{RECIPE}.svg").write_text("a figure the user keeps\n")
    before = {folder: tree_hash(folder) for folder in (finished_run.parent, odd_runs, tmp_path)}
    capfd.readouterr()
    returned = call(expand(argv, finished_run, odd_runs, tmp_path))
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert returned == code and len(lines) == 1 and fragment in lines[0] and not out.strip(), (returned, out, err)
    assert "Traceback" not in err
    assert {folder: tree_hash(folder) for folder in before} == before


def test_plot_default_path_is_not_overwritten_and_force_replaces_it(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{RECIPE}.svg").write_text("mine\n")
    assert cli.main(["plot", RECIPE]) == 2
    assert (tmp_path / f"{RECIPE}.svg").read_text() == "mine\n"
    assert cli.main(["plot", RECIPE, "--force"]) == 0
    assert (tmp_path / f"{RECIPE}.svg").read_bytes().startswith(b"<?xml")
    assert cli.main(["plot", RECIPE, "--out", "g.png"]) == 0 and (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_weights_force_replaces_only_when_asked(finished_run, capfd):
    figures = sorted((finished_run / "weights").iterdir())
    assert figures
    assert cli.main(["weights", str(finished_run)]) == 2
    assert cli.main(["weights", str(finished_run), "--force"]) == 0
    assert sorted((finished_run / "weights").iterdir()) == figures


def test_diagram_of_a_run_directory(finished_run, tmp_path):
    """A trained run draws like its recipe: the architecture, not the weights, makes the figure."""
    for view in ("circuit", "unrolled", "cell", "layers"):
        assert cli.main(["diagram", str(finished_run), "--view", view, "--out", str(tmp_path / f"{view}.svg")]) == 0
        assert (tmp_path / f"{view}.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert cli.main(["diagram", RECIPE, "--set", "num_train=64", "--out", str(tmp_path / "untrained.svg")]) == 0
    assert (tmp_path / "untrained.svg").read_bytes() == (tmp_path / "circuit.svg").read_bytes()
