"""A run configuration's refusal: one line naming the field, the value and what is allowed.

The configurations of the commands are pydantic dataclasses whose field validators raise
``ValueError`` with that line. pydantic gathers them into a multi-line ``ValidationError``;
:func:`refusing` makes the class raise its own error with the first one's line instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

T = TypeVar("T", bound=type)


def first_error(exc: ValidationError) -> str:
    """The first error of ``exc`` as one line: a validator's own message, else the field,
    the value given and what pydantic expected of it."""
    err = exc.errors()[0]
    raised = (err.get("ctx") or {}).get("error")
    if isinstance(raised, Exception):
        return str(raised)
    name = ".".join(str(part) for part in err["loc"]) or "?"
    return f"invalid {name}={err['input']!r}: {err['msg'][:1].lower()}{err['msg'][1:]}"


def refusing(error: Callable[[str], Exception]) -> Callable[[T], T]:
    """Class decorator (outside ``@pydantic.dataclasses.dataclass``): building the class,
    directly or by ``dataclasses.replace``, raises ``error(first_error(...))``."""

    def wrap(cls: T) -> T:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                init(self, *args, **kwargs)
            except ValidationError as exc:
                raise error(first_error(exc)) from None

        cls.__init__ = __init__  # type: ignore[misc]
        return cls

    return wrap
