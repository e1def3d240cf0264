"""The one style of the commands' configurations: a pydantic model refusing in one line.

Every command's configuration (``train``'s, ``reproduce``'s, ``search``'s...) is a
:class:`CommandConfig`: a pydantic ``BaseModel`` as the environment's settings are
(:class:`tnf_env.settings.EnvConfig`), whose fields hold their defaults and one-line
meanings (the flags and ``--help``: :mod:`agents.cli.model_flags`), refusing unknown
keys. pydantic gathers the refusals of its validators into a multi-line
``ValidationError``; a configuration raises its own :attr:`CommandConfig.error` with the
first one's line instead, when built and when copied with changes
(:meth:`CommandConfig.model_copy`, which validates them).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError


def first_error(exc: ValidationError) -> str:
    """The first error of ``exc`` as one line: a validator's own message, else the field,
    the value given and what pydantic expected of it."""
    err = exc.errors()[0]
    raised = (err.get("ctx") or {}).get("error")
    if isinstance(raised, Exception):
        return str(raised)
    name = ".".join(str(part) for part in err["loc"]) or "?"
    return f"invalid {name}={err['input']!r}: {err['msg'][:1].lower()}{err['msg'][1:]}"


class CommandConfig(BaseModel):
    """A command's configuration: fields with defaults and ``description`` (the flag's
    help), validated when built; a bad value raises :attr:`error` with one line.

    Subclasses set :attr:`error` to their command's exception (a ``ValueError``).
    """

    # Not frozen: TrainConfig.env is read (and may be amended) as a mapping in place.
    model_config = ConfigDict(extra="forbid")

    #: The exception a refused value raises (its message: :func:`first_error`).
    error: ClassVar[type[Exception]] = ValueError

    def __init__(self, *args: Any, **data: Any) -> None:
        """:param args: the first fields' values, in the fields' order (as a dataclass).
        :param data: field values by name."""
        names = list(type(self).model_fields)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional "
                            f"values (its fields), got {len(args)}")
        twice = sorted(set(names[:len(args)]) & set(data))
        if twice:
            raise TypeError(f"{type(self).__name__} got {twice} by position and by name")
        data = {**dict(zip(names[:len(args)], args, strict=True)), **data}
        # pydantic builds through __init__ (model_validate too): the one place to refuse
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise self.error(self.refusal(exc, data)) from None

    @classmethod
    def refusal(cls, exc: ValidationError, data: Mapping[str, Any]) -> str:
        """The one-line message of a refused ``data``: :func:`first_error`.

        :param exc: pydantic's error.
        :param data: the values given.
        """
        return first_error(exc)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, built again from the fields so that every value (the
        changed ones, and the rules between fields) is validated: a configuration never
        holds a value its validators refuse.

        :param update: field values that replace the copy's.
        :param deep: copy the values too (without ``update``).
        :raises error: a changed value that is refused.
        """
        if not update:
            return super().model_copy(deep=deep)
        data = {**{k: getattr(self, k) for k in type(self).model_fields}, **update}
        token = _KEPT.set(self._kept(update))
        try:
            return type(self)(**data)
        finally:
            _KEPT.reset(token)

    def _kept(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """What a copy changing ``update`` may reuse of what was validated (read by the
        validators through :func:`kept`): nothing here."""
        return {}

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Every field, in order: ``name``, ``default`` and ``meaning``."""
        return [
            {"name": name, "default": f.get_default(call_default_factory=True),
             "meaning": f.description}
            for name, f in cls.model_fields.items()
        ]


def kept() -> dict[str, Any]:
    """Inside a validator: what the configuration being copied lets its copy reuse
    (:meth:`CommandConfig._kept`; empty outside a copy)."""
    return _KEPT.get() or {}


# What a copy reuses, for the validators run while it is built (__init__ takes no context).
_KEPT: ContextVar[dict[str, Any] | None] = ContextVar("kept", default=None)
