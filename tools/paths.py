"""Where verbs may write: never over a file this invocation did not create (unless --force), never somewhere unwritable.

Checked before any work, so a bad --out costs nothing and changes nothing.
"""

import os
from pathlib import Path

from tools import errors


def _writable_folder(folder, target):
    """Raise a UsageError unless `folder` exists as a writable directory or can be created."""
    ancestor = Path(folder).absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise errors.unwritable(target, OSError(f"'{ancestor}' is a file, not a folder"))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise errors.unwritable(target, PermissionError(13, "Permission denied"))


def output_file(path, force=False):
    """`path` checked as a new file to write.

    Raises:
        UsageError: it is a folder, it exists (unless force), or its folder cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise errors.UsageError(f"--out '{path}' is a folder; give a file name, e.g. --out {path / 'figure.svg'}.")
    if path.exists() and not force:
        raise errors.exists(path)
    _writable_folder(path.parent, path)
    return path


def output_dir(folder, files, force=False):
    """`folder`, created, checked to receive `files` (paths inside it) without replacing any unless force.

    Raises:
        UsageError: it is a file, one of `files` exists (unless force), or it cannot be created or written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise errors.UsageError(f"--out '{folder}' is a file, not a folder. Choose another --out.")
    _writable_folder(folder, folder)
    taken = [path for path in files if path.exists()]
    if taken and not force:
        raise errors.exists(taken[0], more=len(taken) - 1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.unwritable(folder, error) from None
    return folder
