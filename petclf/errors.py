"""The errors a user can cause, as the one-line messages they will read.

Library code raises these; only the CLI (``cli/_app.py``) turns them into exit codes, so every
module stays usable as a library (no ``sys.exit`` below the CLI).
"""

from __future__ import annotations

from pathlib import Path


class PetclfError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message."""

    exit_code = 1


class UsageError(PetclfError):
    """The command line itself is wrong: an option value, a path, a refusal to overwrite."""

    exit_code = 2


class DataError(PetclfError):
    """An input file exists but its contents cannot be used."""

    def __init__(self, path: Path | str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class Interrupted(PetclfError):
    """Ctrl-C, after which the message says what was kept."""

    exit_code = 130


class Diverged(PetclfError):
    """The loss became NaN or infinite: whatever training went on to save would be no model.

    Raised inside fastai callbacks, which reword the ``args`` of what passes through them
    ("Exception occured in ..."); the message is kept apart so the user reads it as written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class WriteError(PetclfError):
    """An output that could not be written (disk full, permissions): the user's to fix."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: could not be written ({reason})")
        self.path, self.reason = Path(path), reason
