"""Every value is checked before any work: each recipe's CONFIG_RULES and check_config,
and the rule helpers of recipes/common/config.py that word every message."""

import importlib
import math
import re

import pytest
from conftest import RECIPE_IDS

from recipes.common import ctc, speech, splits
from recipes.common.config import (
    COMMON_RULES,
    ConfigError,
    at_most,
    boolean,
    check_choice,
    check_rules,
    choice,
    config_error,
    fraction,
    integer,
    number,
    ordered,
    positive,
    text,
)
from tools.catalog import RECIPES_DIR, load_catalog, read_default_config
from tools.config import parse_value

_INTEGER = re.compile(r"^an integer from (-?[\d,]+) to (-?[\d,]+)$")
_NUMBER = re.compile(r"^a number in ([\[(])(\S+), (\S+)([\])])$")


def model_module(recipe_id):
    return importlib.import_module(f"recipes.{recipe_id}.model")


def check(module, config, recipe_id=None):
    """What the runner does before any data is made: the rules, then check_config."""
    check_rules(config, module.CONFIG_RULES, module.DEFAULT_CONFIG, recipe_id)
    if hasattr(module, "check_config"):
        module.check_config(config)


# --- (a) every recipe: one rule per key; its defaults and brief overrides pass -----------------


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_one_rule_per_default_config_key(recipe_id):
    module = model_module(recipe_id)
    defaults = read_default_config(RECIPES_DIR / recipe_id)
    assert list(module.DEFAULT_CONFIG) == list(defaults) and defaults == module.DEFAULT_CONFIG
    assert set(module.CONFIG_RULES) == set(defaults)
    assert set(COMMON_RULES) <= set(module.CONFIG_RULES)


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_defaults_and_brief_overrides_pass(recipe_id):
    module = model_module(recipe_id)
    defaults = read_default_config(RECIPES_DIR / recipe_id)
    check(module, defaults, recipe_id)
    overrides = load_catalog()[recipe_id]["brief"]["overrides"]
    check(module, {**defaults, **overrides}, recipe_id)


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_build_model_only_builds_and_prints_nothing(recipe_id, capsys):
    """Progress goes to logging (the runner routes recipes.* INFO logs); build_model writes no output."""
    model_module(recipe_id).build_model(dict(read_default_config(RECIPES_DIR / recipe_id)))
    assert capsys.readouterr().out == ""


def test_shared_rules_cover_the_shared_defaults():
    assert list(speech.SYNTHESIS_RULES) == list(speech.SYNTHESIS_DEFAULTS)
    assert list(speech.FEATURE_RULES) == list(speech.FEATURE_DEFAULTS)
    assert list(ctc.DATA_RULES) == list(ctc.DATA_DEFAULTS)
    for rules, defaults in (
        (speech.SYNTHESIS_RULES, speech.SYNTHESIS_DEFAULTS),
        (speech.FEATURE_RULES, speech.FEATURE_DEFAULTS),
        (ctc.DATA_RULES, ctc.DATA_DEFAULTS),
    ):
        check_rules(defaults, rules)


def test_split_streams_are_defined_once():
    assert splits.SPLIT_STREAMS == {"train": 0, "validation": 1, "test": 2}
    assert speech.SPLIT_STREAMS is splits.SPLIT_STREAMS


# --- (b) every recipe: out-of-range values of every size-like key are refused --------------------


def bad_values(rule, default):
    """Values `rule` must refuse, from the bounds written in its `allowed` text."""
    values = []
    integer_bounds = _INTEGER.match(rule.allowed)
    number_bounds = _NUMBER.match(rule.allowed)
    if integer_bounds:
        low, high = (int(v.replace(",", "")) for v in integer_bounds.groups())
        values += [high + 1, low - 1, float(default), str(default), True] + ([10**9] if high < 10**9 else [])
        if low >= 1:
            values.append(0)
    elif number_bounds:
        opening, low, high, closing = number_bounds.groups()
        low, high = float(low), float(high)
        values += [math.nan, math.inf, -math.inf, str(default), True, 1e12]
        values.append(low if opening == "(" else low - max(abs(low) * 0.01, 1e-9))
        values.append(high if closing == ")" else high + max(abs(high) * 0.01, 1e-9))
    elif rule.allowed.startswith("one of "):
        values += ["no_such_value", None]
        values += [1] if isinstance(default, bool) else []
    elif rule.allowed.startswith("text of"):
        values += [None, 3, "x" * 100_000]
    return values


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_out_of_range_values_are_refused(recipe_id):
    module = model_module(recipe_id)
    defaults = module.DEFAULT_CONFIG
    for key, rule in module.CONFIG_RULES.items():
        assert rule.accepts(defaults[key]), (key, rule)
        values = bad_values(rule, defaults[key])
        assert values, f"{recipe_id}: no generic bad values for {key!r} ({rule.allowed})"
        for value in values:
            with pytest.raises(ConfigError, match=f"Config key '{re.escape(key)}' of '{recipe_id}' takes "):
                check_rules({**defaults, key: value}, module.CONFIG_RULES, defaults, recipe_id)


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_sizes_have_upper_bounds_a_laptop_can_hold(recipe_id):
    """Every integer rule has a finite upper bound, and the sizes below are never unbounded."""
    module = model_module(recipe_id)
    for key, rule in module.CONFIG_RULES.items():
        bounds = _INTEGER.match(rule.allowed)
        if bounds and key not in ("seed",):
            assert int(bounds.group(2).replace(",", "")) <= 1_000_000, (key, rule)
        if key in ("units", "embedding_dim", "channels", "rnn_units", "lstm_units"):
            assert not rule.accepts(8193), key
        if key.startswith("num_") and key.endswith("layers"):
            assert not rule.accepts(33), key


@pytest.mark.parametrize("recipe_id", RECIPE_IDS)
def test_the_suggested_fix_is_accepted(recipe_id):
    """The value after 'Use e.g. --set key=' in the message of a refused value, typed back, passes the rule."""
    module = model_module(recipe_id)
    defaults = module.DEFAULT_CONFIG
    for key, rule in module.CONFIG_RULES.items():
        with pytest.raises(ConfigError) as refused:
            check_rules({**defaults, key: bad_values(rule, defaults[key])[0]}, module.CONFIG_RULES, defaults, recipe_id)
        suggested = re.search(rf"Use e\.g\. --set {re.escape(key)}=(.*)\.$", str(refused.value), re.DOTALL).group(1)
        assert rule.accepts(parse_value(recipe_id, key, suggested, defaults[key])), (key, suggested)


# --- (c) the helpers and the one shape of every message -----------------------------------------


def test_message_shape():
    with pytest.raises(ConfigError) as error:
        check_rules({"units": 0}, {"units": integer(1, 4096)}, {"units": 64})
    assert str(error.value) == "Config key 'units' takes an integer from 1 to 4,096, got 0. Use e.g. --set units=64."
    with pytest.raises(ConfigError) as error:
        check_rules({"units": 10**9}, {"units": integer(1, 4096)}, {"units": 64}, "memory_task")
    assert str(error.value) == "Config key 'units' of 'memory_task' takes an integer from 1 to 4,096, got 1000000000. Use e.g. --set units=64."


def test_the_example_falls_back_to_the_rule_when_the_default_is_refused():
    with pytest.raises(ConfigError, match=r"got 0\. Use e\.g\. --set units=1\.$"):
        check_rules({"units": 0}, {"units": integer(1, 4096)}, {"units": 0})
    with pytest.raises(ConfigError, match=r"Use e\.g\. --set units=1\.$"):
        check_rules({"units": 0}, {"units": integer(1, 4096)})


def test_a_key_without_a_rule_is_refused():
    with pytest.raises(ConfigError, match="Config key 'unitz' of 'x' has no rule. Add it to CONFIG_RULES"):
        check_rules({"unitz": 3}, {"units": integer(1, 4096)}, recipe="x")


def test_integer_is_an_int_in_range():
    rule = integer(1, 4096)
    assert rule.allowed == "an integer from 1 to 4,096"
    assert rule.accepts(1) and rule.accepts(4096)
    for value in (0, 4097, 2.0, True, "3", None):
        assert not rule.accepts(value), value


def test_number_is_finite_with_open_and_closed_ends():
    closed = number(0, 1)
    assert closed.allowed == "a number in [0, 1]" and closed.accepts(0) and closed.accepts(1) and closed.accepts(1.0)
    half_open = number(0, 1, low_open=True, high_open=True)
    assert half_open.allowed == "a number in (0, 1)" and not half_open.accepts(0) and not half_open.accepts(1)
    for value in (math.nan, math.inf, -math.inf, True, "0.5", None):
        assert not closed.accepts(value), value
    assert not positive(10).accepts(0) and positive(10).accepts(10) and not positive(10).accepts(10.5)
    assert fraction().accepts(0) and fraction().accepts(0.99) and not fraction().accepts(1.0)
    assert fraction().allowed == "a number in [0, 1)"


def test_choice_boolean_and_text():
    rule = choice("lstm", "gru")
    assert rule.allowed == "one of lstm, gru" and rule.accepts("gru") and not rule.accepts("GRU")
    flag = boolean()
    assert flag.allowed == "one of true, false"
    assert flag.accepts(True) and flag.accepts(False) and not flag.accepts(1) and not flag.accepts(0)
    assert text(3).accepts("") and text(3).accepts("abc") and not text(3).accepts("abcd") and not text(3).accepts(3)
    assert not text(3, min_length=1).accepts("") and text(3, min_length=1).allowed == "text of 1 to 3 characters"


def test_config_error_shows_values_as_typed_after_set():
    assert str(config_error("dropout", 1.5, "a number in [0, 1)", 0.1)) == (
        "Config key 'dropout' takes a number in [0, 1), got 1.5. Use e.g. --set dropout=0.1."
    )
    assert str(config_error("noisy", "yes", "one of true, false", False)).endswith("got yes. Use e.g. --set noisy=false.")


def test_ordered_and_at_most():
    ordered({"min_period": 20.0, "max_period": 20.0}, "min_period", "max_period")
    with pytest.raises(ConfigError) as error:
        ordered({"min_period": 80.0, "max_period": 60.0}, "min_period", "max_period")
    assert str(error.value) == "Config key 'min_period' takes a value at most max_period=60, got 80. Use e.g. --set min_period=60."
    at_most({"num_train": 10}, "num_train", 10, "sequences")
    with pytest.raises(ConfigError) as error:
        at_most({"num_train": 20_000}, "num_train", 10_000, "sequences of 2,000 steps")
    assert str(error.value) == "Config key 'num_train' takes at most 10,000 sequences of 2,000 steps, got 20000. Use e.g. --set num_train=10000."


def test_check_choice():
    check_choice("cell", "lstm", ("lstm", "gru"))
    with pytest.raises(ConfigError, match=r"^Config key 'cell' takes one of lstm, gru, got lstn\. Use e\.g\. --set cell=lstm\.$"):
        check_choice("cell", "lstn", ("lstm", "gru"))


def test_common_rules():
    assert set(COMMON_RULES) == {"seed", "epochs", "batch_size", "learning_rate"}
    check_rules({"seed": 0, "epochs": 1, "batch_size": 1, "learning_rate": 1e-4}, COMMON_RULES)
    for key, value in (
        ("seed", -1),
        ("seed", 2**32),
        ("epochs", 0),
        ("epochs", 10**8),
        ("batch_size", 0),
        ("learning_rate", 0.0),
        ("learning_rate", math.inf),
    ):
        with pytest.raises(ConfigError, match=f"'{key}'"):
            check_rules({"seed": 0, "epochs": 1, "batch_size": 1, "learning_rate": 1e-4, key: value}, COMMON_RULES)
