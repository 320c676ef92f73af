"""The history as a Qt item model: versions as a tree (parent → children) or as a timeline grouped by day.

Built in Python from the store's light rows (HistoryStore.version_index) in one pass, so 10,000 versions lay
out in milliseconds; rows carry only ids and numbers, and thumbnails come from a ThumbnailCache on demand.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from ...core.budget import format_usd

TREE = "tree"
TIMELINE = "timeline"
MODES = (TREE, TIMELINE)

VERSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # "version" or "day"
DEPTH_ROLE = Qt.ItemDataRole.UserRole + 3  # 0 for roots (tree mode) and every timeline row
CHILD_COUNT_ROLE = Qt.ItemDataRole.UserRole + 4  # direct children in the whole filtered history (branches)
STARRED_ROLE = Qt.ItemDataRole.UserRole + 5
META_ROLE = Qt.ItemDataRole.UserRole + 6  # "1536×1024 · high · 60 cr · $0.17"
IMAGE_FILE_ROLE = Qt.ItemDataRole.UserRole + 7  # thumbnail (or image) path relative to the data folder
DAY_SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 8  # "12 versions · 720 cr" on a day header
HAS_PARENT_ROLE = Qt.ItemDataRole.UserRole + 9
TIME_ROLE = Qt.ItemDataRole.UserRole + 10  # "14:32" (or "3 May 14:32" in the tree for other days)
PROOF_ROLE = Qt.ItemDataRole.UserRole + 20  # the text proof's badge: "✓", the number of problems, or None
SET_ITEM_ROLE = Qt.ItemDataRole.UserRole + 21  # "Business card · Visual identity set", or None outside sets

_NO_PARENT = -1
_VERSION_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_TIMELINE_FLAGS = _VERSION_FLAGS | Qt.ItemFlag.ItemNeverHasChildren
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_Index = QModelIndex | QPersistentModelIndex


def first_line(prompt: str) -> str:
    """The prompt's first non-empty line, with runs of spaces folded: what a one-line row shows."""
    for line in prompt.splitlines():
        if line.strip():
            return " ".join(line.split())
    return "(no prompt)"


def meta_text(width: int, height: int, quality: str | None, credits: int, cost_usd: float) -> str:
    return f"{width}×{height} · {quality or 'auto'} · {credits} cr · {format_usd(cost_usd)}"


def local_time(created_at: str) -> _dt.datetime:
    """A stored timestamp (ISO-8601, "Z" or an offset; naive means UTC) in the local time zone."""
    moment = _dt.datetime.fromisoformat(created_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone()


def local_day(created_at: str) -> _dt.date:
    """The local calendar day of a stored UTC timestamp (ISO-8601, with Z or an offset)."""
    return local_time(created_at).date()


def time_label(created_at: str, today: _dt.date, with_day: bool) -> str:
    """ "14:32" for today (or always when ``with_day`` is False), else "3 May", or "3 May 2025" in another year."""
    try:
        moment = local_time(created_at)
    except ValueError:
        return ""
    if not with_day or moment.date() == today:
        return f"{moment:%H:%M}"
    return f"{moment.day} {moment:%b}" if moment.year == today.year else f"{moment.day} {moment:%b %Y}"


def day_label(day: _dt.date, today: _dt.date) -> str:
    if day == today:
        return "Today"
    if day == today - _dt.timedelta(days=1):
        return "Yesterday"
    text = f"{day:%A} {day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"


class HistoryModel(QAbstractItemModel):
    """Read-only model over a list of VersionIndexRow (newest first, as the store returns them).

    Tree mode: roots newest first, children oldest first under their parent (a version whose parent is
    filtered out becomes a root). Timeline mode: flat, newest first, a day header before each local day.
    Node numbers are positions in the row list; an index's internalId is its node (day headers in the
    timeline use ``len(rows) + header number``).
    """

    def __init__(self, parent=None, today: Callable[[], _dt.date] | None = None) -> None:
        super().__init__(parent)
        self._today = today or _dt.date.today
        self._mode = TREE
        self._rows: list[Any] = []
        self._proof_badges: dict[str, str] = {}  # by version id; kept across reloads
        self._pos: dict[str, int] = {}
        self._parent: list[int] = []
        self._children: list[list[int]] = []
        self._row_in_parent: list[int] = []
        self._depth: list[int] = []
        self._roots: list[int] = []
        # Timeline: top-level entries; a value >= len(rows) is a day header (value - len(rows) indexes _days).
        self._flat: list[int] = []
        self._flat_row: dict[int, int] = {}
        self._days: list[tuple[str, str]] = []  # (label, summary)

    # ------------------------------------------------------------------ loading
    def mode(self) -> str:
        return self._mode

    def load(self, rows: Sequence[Any], mode: str = TREE) -> None:
        """Replace everything with ``rows`` (newest first) shown in ``mode``."""
        if mode not in MODES:
            raise ValueError(f"The history shows a {' or a '.join(MODES)}, not '{mode}'.")
        self.beginResetModel()
        self._mode = mode
        self._rows = list(rows)
        self._build_tree()
        self._build_timeline() if mode == TIMELINE else self._clear_timeline()
        self.endResetModel()

    def _build_tree(self) -> None:
        rows = self._rows
        n = len(rows)
        pos = {row[0]: i for i, row in enumerate(rows)}
        parent = [_NO_PARENT] * n
        children: list[list[int]] = [[] for _ in range(n)]
        roots = []
        # Oldest first, so children lists come out oldest first; roots are reversed to newest first below.
        for i in range(n - 1, -1, -1):
            p = pos.get(rows[i][1]) if rows[i][1] else None
            if p is None or p == i:
                roots.append(i)
            else:
                parent[i] = p
                children[p].append(i)
        roots.reverse()
        row_in_parent = [0] * n
        for r, i in enumerate(roots):
            row_in_parent[i] = r
        for kids in children:
            for r, i in enumerate(kids):
                row_in_parent[i] = r
        # Depths top-down with an explicit stack: edit chains can be deeper than Python's recursion limit.
        # A cycle (impossible through the app, possible in a hand-edited database) leaves its nodes unreached;
        # they become roots so every version stays visible.
        depth = [-1] * n
        stack = [(i, 0) for i in roots]
        while stack:
            i, d = stack.pop()
            depth[i] = d
            stack.extend((c, d + 1) for c in children[i])
        for i in range(n):
            if depth[i] < 0:
                p = parent[i]
                children[p].remove(i)
                for r, c in enumerate(children[p]):
                    row_in_parent[c] = r
                parent[i] = _NO_PARENT
                row_in_parent[i] = len(roots)
                roots.append(i)
                stack = [(i, 0)]
                while stack:
                    j, d = stack.pop()
                    depth[j] = d
                    stack.extend((c, d + 1) for c in children[j] if depth[c] < 0)
        self._pos, self._parent, self._children = pos, parent, children
        self._row_in_parent, self._depth, self._roots = row_in_parent, depth, roots

    def _build_timeline(self) -> None:
        rows = self._rows
        n = len(rows)
        today = self._today()
        flat: list[int] = []
        days: list[tuple[str, str]] = []
        current = None
        count = credits = 0

        def close_day() -> None:
            if current is not None:
                days[-1] = (days[-1][0], f"{count:,} version{'s' if count != 1 else ''} · {credits:,} cr")

        days_of: dict[str, _dt.date] = {}  # per minute: rows of one minute share a local day in every zone
        for i, row in enumerate(rows):
            stamp = row[9]
            key = stamp[:16] + (stamp[-6:] if stamp[-6:-5] in ("+", "-") else stamp[-1:])  # minute + zone
            day = days_of.get(key)
            if day is None:
                day = days_of[key] = local_day(stamp)
            if day != current:
                close_day()
                current, count, credits = day, 0, 0
                days.append((day_label(day, today), ""))
                flat.append(n + len(days) - 1)
            flat.append(i)
            count += 1
            credits += row[6] or 0
        close_day()
        self._flat, self._days = flat, days
        self._flat_row = {node: r for r, node in enumerate(flat)}

    def _clear_timeline(self) -> None:
        self._flat, self._days, self._flat_row = [], [], {}

    # ------------------------------------------------------------------ lookups
    def version_count(self) -> int:
        return len(self._rows)

    def version_ids(self) -> list[str]:
        """Every version in the model, newest first."""
        return [row[0] for row in self._rows]

    def row_for(self, index: _Index) -> Any | None:
        """The VersionIndexRow behind ``index``, or None for a day header or an invalid index."""
        node = self._node(index)
        return self._rows[node] if 0 <= node < len(self._rows) else None

    def version_id(self, index: _Index) -> str | None:
        row = self.row_for(index)
        return row[0] if row is not None else None

    def parent_id(self, version_id: str) -> str | None:
        """The parent of ``version_id`` as stored (even when the parent is filtered out of the view)."""
        pos = self._pos.get(version_id)
        return self._rows[pos][1] if pos is not None else None

    def children_ids(self, version_id: str) -> list[str]:
        pos = self._pos.get(version_id)
        return [self._rows[c][0] for c in self._children[pos]] if pos is not None else []

    def tree_lines(self, index: _Index) -> list[bool]:
        """For a tree row at depth d: for each level 1..d, whether a line continues below this row at that
        level's column (the ancestor there, or the row itself at level d, has a later sibling)."""
        node = self._node(index)
        if self._mode != TREE or not 0 <= node < len(self._rows):
            return []
        lines = [False] * self._depth[node]
        level = len(lines)
        while level > 0 and node != _NO_PARENT:
            parent = self._parent[node]
            siblings = self._children[parent] if parent != _NO_PARENT else self._roots
            lines[level - 1] = self._row_in_parent[node] < len(siblings) - 1
            node, level = parent, level - 1
        return lines

    def index_for(self, version_id: str) -> QModelIndex:
        node = self._pos.get(version_id)
        if node is None:
            return QModelIndex()
        if self._mode == TIMELINE:
            return self.createIndex(self._flat_row[node], 0, node)
        return self.createIndex(self._row_in_parent[node], 0, node)

    def set_starred(self, version_id: str, starred: bool) -> None:
        pos = self._pos.get(version_id)
        if pos is None:
            return
        self._rows[pos] = self._rows[pos]._replace(starred=int(starred))
        index = self.index_for(version_id)
        self.dataChanged.emit(index, index, [STARRED_ROLE, Qt.ItemDataRole.AccessibleTextRole])

    def set_proof_badges(self, badges: dict[str, str]) -> None:
        """Show proof badges ("✓" or a count) on these versions' rows."""
        self._proof_badges.update(badges)
        for version_id in badges:
            index = self.index_for(version_id)
            if index.isValid():
                self.dataChanged.emit(index, index, [PROOF_ROLE])

    def _node(self, index: _Index) -> int:
        return index.internalId() if index.isValid() else -1

    # ------------------------------------------------------------------ QAbstractItemModel
    def index(self, row: int, column: int = 0, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if self._mode == TIMELINE:
            if parent.isValid() or row >= len(self._flat):
                return QModelIndex()
            return self.createIndex(row, 0, self._flat[row])
        siblings = self._children[parent.internalId()] if parent.isValid() else self._roots
        if row >= len(siblings):
            return QModelIndex()
        return self.createIndex(row, 0, siblings[row])

    # PySide's parent() is also QObject.parent(); only the model's overload is meant here.
    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008  # pyright: ignore[reportIncompatibleMethodOverride]
        if not index.isValid() or self._mode == TIMELINE:
            return QModelIndex()
        p = self._parent[index.internalId()]
        if p == _NO_PARENT:
            return QModelIndex()
        return self.createIndex(self._row_in_parent[p], 0, p)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if self._mode == TIMELINE:
            return 0 if parent.isValid() else len(self._flat)
        if not parent.isValid():
            return len(self._roots)
        if parent.column() != 0:
            return 0
        return len(self._children[parent.internalId()])

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: _Index) -> Qt.ItemFlag:
        node = index.internalId() if index.isValid() else -1
        if node < 0 or node >= len(self._rows):
            return _NO_FLAGS  # day headers: not selectable, and keyboard moves skip them
        return _TIMELINE_FLAGS if self._mode == TIMELINE else _VERSION_FLAGS

    def is_day(self, index: _Index) -> bool:
        """True for a timeline day header."""
        return index.isValid() and index.internalId() >= len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node < 0:
            return None
        n = len(self._rows)
        if node >= n:
            label, summary = self._days[node - n]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return label if role == Qt.ItemDataRole.DisplayRole else f"{label}: {summary}"
            if role == KIND_ROLE:
                return "day"
            if role == DAY_SUMMARY_ROLE:
                return summary
            return None
        row = self._rows[node]
        if role == Qt.ItemDataRole.DisplayRole:
            return first_line(row[2])
        if role == VERSION_ID_ROLE:
            return row[0]
        if role == KIND_ROLE:
            return "version"
        if role == STARRED_ROLE:
            return bool(row[8])
        if role == PROOF_ROLE:
            return self._proof_badges.get(row[0])
        if role == SET_ITEM_ROLE:
            return row[11] if len(row) > 11 else None
        if role == META_ROLE:
            return meta_text(row[3], row[4], row[5], row[6], row[7])
        if role == DEPTH_ROLE:
            return self._depth[node] if self._mode == TREE else 0
        if role == CHILD_COUNT_ROLE:
            return len(self._children[node])
        if role == IMAGE_FILE_ROLE:
            return row[10]
        if role == HAS_PARENT_ROLE:
            return bool(row[1])
        if role == TIME_ROLE:
            return time_label(row[9], self._today(), with_day=self._mode == TREE)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row[2]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            star = ", starred" if row[8] else ""
            return f"{first_line(row[2])}. {meta_text(row[3], row[4], row[5], row[6], row[7])}{star}"
        return None
