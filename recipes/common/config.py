"""What each config key accepts, checked before any work, and the wording of config errors.

A recipe's model.py declares, next to DEFAULT_CONFIG, one rule per key:

    CONFIG_RULES = {**COMMON_RULES, "units": integer(1, 4096), "dropout": fraction(), "cell": choice(*CELLS)}

and, where keys constrain each other, an optional `check_config(config)` that raises
through `ordered`/`at_most`/`config_error`. The runner applies both to the whole resolved config
before it generates data or builds a model, so a bad `--set` is one line (exit 2) and
never a traceback, a hang on a huge size, or training on a nonsense value. Upper bounds
keep memory sane on a laptop; they are generous, not tuned.

Every message has one shape, written here once:
    Config key 'units' takes an integer from 1 to 4096, got 0. Use e.g. --set units=64.
"""

import math


class ConfigError(ValueError):
    """A config value a recipe cannot use; the message names the key, the value and the fix."""


class Rule:
    """The values one config key accepts.

    Args:
        allowed: what is allowed, in words ("an integer from 1 to 4096").
        accepts: value -> bool.
        example: a value to suggest when the key's default is not at hand.
    """

    def __init__(self, allowed, accepts, example):
        self.allowed = allowed
        self.accepts = accepts
        self.example = example

    def __repr__(self):
        return f"Rule({self.allowed})"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer(low, high):
    """An int in [low, high]."""
    return Rule(f"an integer from {low:,} to {high:,}", lambda v: _is_int(v) and low <= v <= high, low)


def number(low, high, low_open=False, high_open=False):
    """A finite number in the interval from low to high (open ends excluded)."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def accepts(value):
        if not _is_number(value):
            return False
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return above and below

    return Rule(f"a number in {interval}", accepts, high if not high_open else low)


def positive(high):
    """A finite number in (0, high]: rates, scales, learning rates."""
    return number(0, high, low_open=True)


def fraction():
    """A probability of dropping or keeping something: [0, 1)."""
    return number(0, 1, high_open=True)


def choice(*values):
    """One of `values` (compared with ==, type included for bools)."""
    shown = ", ".join(_show(v) for v in values)
    return Rule(f"one of {shown}", lambda v: any(v == c and type(v) is type(c) for c in values), values[0])


def boolean():
    return choice(True, False)


def text(max_length, min_length=0):
    """Any string of min_length to max_length characters."""
    allowed = f"text of {min_length:,} to {max_length:,} characters" if min_length else f"text of at most {max_length:,} characters"
    return Rule(allowed, lambda v: isinstance(v, str) and min_length <= len(v) <= max_length, "x" * min_length)


# The keys every recipe has (the runner uses them).
COMMON_RULES = {
    "seed": integer(0, 2**32 - 1),
    "epochs": integer(1, 10_000),
    "batch_size": integer(1, 65_536),
    "learning_rate": positive(10.0),
}


def _show(value):
    """A value as it is typed after --set key=."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_error(key, value, allowed, example, recipe=None):
    """The ConfigError for `key`: what it takes, what it got, and a value to use instead."""
    of = f" of '{recipe}'" if recipe else ""
    return ConfigError(f"Config key '{key}'{of} takes {allowed}, got {_show(value)}. Use e.g. --set {key}={_show(example)}.")


def check_rules(config, rules, defaults=None, recipe=None):
    """Raise a ConfigError for the first key of `config` its rule refuses.

    Args:
        config: the resolved config.
        rules: {key: Rule}; every key of config must have one.
        defaults: DEFAULT_CONFIG, whose value is suggested as the fix when it is allowed.
        recipe: recipe id, named in the message.
    """
    for key, value in config.items():
        rule = rules.get(key)
        if rule is None:
            raise ConfigError(f"Config key '{key}'{f' of {recipe!r}' if recipe else ''} has no rule. Add it to CONFIG_RULES in model.py.")
        if not rule.accepts(value):
            default = (defaults or {}).get(key, rule.example)
            raise config_error(key, value, rule.allowed, default if rule.accepts(default) else rule.example, recipe)


def ordered(config, low_key, high_key):
    """Raise a ConfigError unless config[low_key] <= config[high_key] (a min/max pair)."""
    if config[low_key] > config[high_key]:
        raise config_error(low_key, config[low_key], f"a value at most {high_key}={_show(config[high_key])}", config[high_key])


def at_most(config, key, limit, why):
    """Raise a ConfigError unless config[key] <= limit, a bound set by other keys (`why` says which)."""
    if config[key] > limit:
        raise config_error(key, config[key], f"at most {limit:,} {why}", limit)


def check_choice(key, value, choices):
    """Raise a ConfigError unless `value` is one of `choices`."""
    rule = choice(*choices)
    if not rule.accepts(value):
        raise config_error(key, value, rule.allowed, choices[0])
