"""What rules need to fix their findings: the fix context, the result type, and helpers that
turn "insert this flag", "append this clean-up" or "drop this command" into exact text edits.

The engine that runs them is :mod:`slimline.dockerfile.fix`.
"""

from slimline.dockerfile.fixes.base import FixContext, FixOptions, FixResult, Unfixable

__all__ = ["FixContext", "FixOptions", "FixResult", "Unfixable"]
