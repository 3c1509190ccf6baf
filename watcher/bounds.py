"""Bounds of a kind's number options (`Annotated[int, Bounds(ge=1, le=50)]`), checked by
pydantic when it checks the configuration, as `annotated_types.Interval` would be.

annotated_types builds thirteen dataclasses when imported: about 10 ms of every run's
start-up, for constraints only pydantic reads, and pydantic is loaded only when the
configuration file changed. These bounds hand pydantic the real thing at that moment.
"""

from __future__ import annotations

from typing import Any


class Bounds:
    """A number's bounds: greater than (or equal to) and less than (or equal to)."""

    __slots__ = ("ge", "gt", "le", "lt")

    def __init__(
        self,
        *,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
    ):
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le

    def __repr__(self) -> str:
        bounds = ", ".join(f"{k}={getattr(self, k)}" for k in self.__slots__ if getattr(self, k))
        return f"Bounds({bounds})"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """pydantic's hook: the schema of `source` within these bounds."""
        from typing import Annotated

        from annotated_types import Interval

        interval = Interval(gt=self.gt, ge=self.ge, lt=self.lt, le=self.le)
        return handler.generate_schema(Annotated[source, interval])
