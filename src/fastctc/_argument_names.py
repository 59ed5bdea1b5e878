"""fastctc's argument errors, worded in a framework adapter's own argument names.

The adapters pass their arguments through fastctc's checks (_api.py) unchanged, so
every error already names the index and the value; this only swaps fastctc's
argument names (``labels``) for the framework's (``targets``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping

# fastctc's argument names as its messages use them: "blank" only where it names
# the argument (blank=3, blank must, <= blank <), not the blank class.
_ARGUMENT = re.compile(r"\b(?:inputs|labels|input_lengths|label_lengths)\b|\bblank\b(?==| must| <)")


@contextlib.contextmanager
def argument_names(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raises ValueError and TypeError with fastctc's argument names renamed."""
    try:
        yield
    except (ValueError, TypeError) as error:
        message = _ARGUMENT.sub(lambda match: names.get(match[0], match[0]), str(error))
        raise type(error)(message).with_traceback(error.__traceback__) from None
