"""Tables the reliability tests fill in, one row per cell, printed in pytest's terminal summary (conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    columns: tuple[str, ...]
    order: int  # tables are printed by it
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        assert len(cells) == len(self.columns), (cells, self.columns)
        self.rows.append(tuple(str(cell) for cell in cells))

    def lines(self) -> list[str]:
        widths = [max(len(text) for text in column) for column in zip(self.columns, *self.rows, strict=True)]

        def line(cells: tuple[str, ...]) -> str:
            return "| " + " | ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)) + " |"

        return [line(self.columns), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, self.rows)]


TABLES: dict[str, Table] = {}


def table(title: str, *columns: str, order: int) -> Table:
    """The table of that title (created on first use)."""
    return TABLES.setdefault(title, Table(title, columns, order))
