"""Config checks recipes use in `build_model` / `load_data`.

A `ConfigError` is something the user caused with a config value (a `--set`); the CLI
prints its message as one line and exits with code 2.
"""


class ConfigError(ValueError):
    """A config value a recipe cannot use; the message names the key, the value and the fix."""


def check_choice(key, value, choices):
    """Raise ConfigError unless `value` is one of `choices`.

    Args:
        key: config key, named in the message.
        value: the value given.
        choices: the allowed values.
    """
    if value not in choices:
        raise ConfigError(
            f"Config {key}={value!r} is not one of {', '.join(map(str, choices))}. "
            f"Use e.g. --set {key}={choices[0]}."
        )


def check_positive(config, *keys):
    """Raise ConfigError unless every `config[key]` is > 0."""
    for key in keys:
        if config[key] <= 0:
            raise ConfigError(f"Config {key}={config[key]!r} must be > 0. Use e.g. --set {key}=1.")
