"""What can stop `slimline slim`: one error type whose message is a single line for the user."""

from __future__ import annotations


class SlimError(Exception):
    """The image cannot be slimmed as asked; ``str()`` is one line fit for the command line."""
