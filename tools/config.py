"""A run's config: DEFAULT_CONFIG < catalog brief overrides (with --brief) < --set / --epochs / --seed.

Keras-free, so `recipe show` and argument errors answer instantly.
"""

from tools import errors
from tools.catalog import RECIPES_DIR, read_default_config, same_type

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_value(recipe_id, key, text, default):
    """Parse the --set text for `key` as the type of its default.

    Args:
        recipe_id: named in errors.
        key: the config key.
        text: the text after '='.
        default: DEFAULT_CONFIG[key]; its type decides the parse.

    Returns:
        The value, of the default's type.

    Raises:
        UsageError: the text does not parse as that type.
    """
    kind = type(default)
    try:
        if kind is bool:
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
            if value != value:  # NaN is never a useful config value
                raise ValueError(text)
            return value
        return text
    except ValueError:
        raise errors.bad_config_value(recipe_id, key, text, kind, default) from None


def parse_sets(pairs, flag="--set"):
    """['units=64', ...] -> [('units', '64'), ...] (order kept; later pairs win)."""
    parsed = []
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise errors.bad_set_syntax(pair, flag)
        parsed.append((key.strip(), text.strip()))
    return parsed


def resolve_config(recipe_id, entry, brief=False, sets=(), epochs=None, seed=None, recipes_dir=RECIPES_DIR):
    """The config of a run and the list of what changed from DEFAULT_CONFIG.

    Args:
        recipe_id: the recipe.
        entry: its catalog entry.
        brief: apply the catalog's brief overrides.
        sets: 'key=value' strings from --set.
        epochs, seed: shortcuts for --set epochs=N / seed=N (win over --set).

    Returns:
        (config, changes): the flat config dict and a list of (key, old, new, source) tuples.
    """
    default = read_default_config(recipes_dir / recipe_id)
    config = dict(default)
    layers = []
    if brief:
        layers += [(key, value, "brief") for key, value in entry["brief"]["overrides"].items()]
    for key, text in parse_sets(sets):
        if key not in default:
            raise errors.unknown_config_key(recipe_id, key, default)
        layers.append((key, parse_value(recipe_id, key, text, default[key]), "--set"))
    for key, value in (("epochs", epochs), ("seed", seed)):
        if value is not None:
            layers.append((key, value, f"--{key}"))
    for key, value, _ in layers:
        if not same_type(default[key], value):
            raise errors.bad_config_value(recipe_id, key, str(value), type(default[key]), default[key])
        config[key] = float(value) if isinstance(default[key], float) else value
    changes = [(key, default[key], config[key], source) for key, _, source in layers]
    # Report each key once, with the layer that set it last.
    latest = {key: (key, old, new, source) for key, old, new, source in changes}
    return config, [change for change in latest.values() if change[1] != change[2]]
