"""The errors a user can cause, and their wording (in one place).

`UsageError` (exit 2): the command or its input was wrong; the message names the fix.
`RunFailed` (exit 1): the work itself failed (training diverged, expectation missed).
Recipes raise `recipes.common.config.ConfigError` for bad config values; the CLI
treats it as a usage error too.
"""

import difflib


class UsageError(ValueError):
    """Something the user asked for cannot be done as asked; exit code 2."""


class RunFailed(RuntimeError):
    """The run happened but failed (diverged, missed its expectation); exit code 1."""


def did_you_mean(word, choices):
    """' Did you mean 'x'?' for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def unknown_recipe(name, known):
    return UsageError(f"Unknown recipe '{name}'.{did_you_mean(name, known)} Run 'recipe list' to see all recipes.")


def unknown_config_key(recipe_id, key, known):
    return UsageError(f"Recipe '{recipe_id}' has no config key '{key}'.{did_you_mean(key, known)} Run 'recipe show {recipe_id}' to see its config.")


_KINDS = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "text"}


def bad_config_value(recipe_id, key, text, expected_type, default):
    return UsageError(
        f"Config key '{key}' of '{recipe_id}' takes {_KINDS.get(expected_type.__name__, expected_type.__name__)} (default {default!r}), "
        f"got '{text}'. Use e.g. --set {key}={default!r}."
    )


def bad_set_syntax(text, flag="--set"):
    example = "units=32,64" if flag == "--grid" else "units=64"
    return UsageError(f"{flag} expects key=value, got '{text}'. Use e.g. {flag} {example}.")


def not_a_run_dir(path, why):
    return UsageError(f"'{path}' is not a usable run directory ({why}). Pass a recipe id or a directory written by 'recipe run'.")


def run_dir_in_use(path):
    return UsageError(f"Run directory '{path}' is in use by another run. Wait for it to finish or choose another --out.")


def unwritable(path, error):
    reason = getattr(error, "strerror", None) or str(error)
    return UsageError(f"Cannot write '{path}': {reason}. Choose a path in a folder you can write to.")


def exists(path, more=0):
    others = f" (and {more} more of the files to write)" if more else ""
    return UsageError(f"'{path}'{others} already exists and this command did not create it. Pass --force to replace it, or choose another --out.")


def corrupt_model(path, error):
    detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
    return UsageError(f"'{path}' is not a loadable Keras model (the file is corrupt or incomplete: {detail}). Train it again with 'recipe run'.")
