"""Immutable plain data: the containers the course's records hold, frozen all the way down.

``freeze`` turns dicts into ``FrozenDict``, lists into ``FrozenList``, sets into frozensets
and freezes what tuples hold. The frozen containers are a dict and a list that refuse every
change, so that what reads them sees what it saw before they were frozen: the same
``repr`` (a parameter's list renders as ``[1, 2]`` in a prompt and in a solution's
``x = [1, 2]``), the same JSON, equality with plain dicts and lists, ``isinstance(x, list)``.
Unlike a dict or a list they are hashable (so is a record that holds them), and copying one
returns it. ``thaw`` gives a mutable deep copy, for code that may change what it is given.
Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TypeVar, cast

T = TypeVar("T")


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is immutable")


class FrozenList(list[Any]):
    """A list that cannot change (its items are frozen too); hashable like a tuple."""

    __slots__ = ()

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(freeze(v) for v in items)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse


class FrozenDict(dict[Any, Any]):
    """A dict that cannot change (its values are frozen too); hashable by its items."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__((k, freeze(v)) for k, v in dict(*args, **kwargs).items())

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse


_FROZEN = frozenset(
    {FrozenDict, FrozenList, str, bytes, int, float, bool, complex, type(None), frozenset}
)


def freeze(value: T) -> T:
    """``value`` with every dict, list and set in it (at any depth) made immutable; records
    (frozen dataclasses) and scalars are returned as they are."""
    kind = type(value)
    if kind in _FROZEN or hasattr(kind, "__dataclass_fields__"):  # records freeze themselves
        return value
    if isinstance(value, tuple):
        items = [freeze(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value  # already frozen: the same tuple (or namedtuple)
        return cast(T, tuple(items) if kind is tuple else kind(*items))
    if isinstance(value, Mapping):  # a dict, or a read-only view of one
        return cast(T, FrozenDict(value))
    if isinstance(value, list):
        return cast(T, FrozenList(value))
    if isinstance(value, set):
        return cast(T, frozenset(value))  # its items are hashable: immutable already
    return value


def freeze_fields(record: object, *names: str) -> None:
    """Freeze these fields of a frozen dataclass, in its ``__post_init__`` (so that every
    way of making the record makes it frozen); a list given for a field becomes a tuple."""
    for name in names:
        value = getattr(record, name)
        frozen = tuple(freeze(v) for v in value) if isinstance(value, list) else freeze(value)
        if frozen is not value:
            object.__setattr__(record, name, frozen)


def thaw(value: Any) -> Any:
    """A mutable deep copy of plain data: frozen or not, dicts and lists come back as plain
    dicts and lists (tuples and frozensets stay what they are)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if type(value) is tuple:
        return tuple(thaw(v) for v in value)
    if isinstance(value, set):
        return {thaw(v) for v in value}
    return value
