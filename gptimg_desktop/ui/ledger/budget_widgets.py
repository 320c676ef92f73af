"""Budget controls shared by the ledger and the projects dialog: a credits/USD limit editor and a usage bar."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDoubleValidator, QIntValidator, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from ...core.budget import WARNING_SHARE
from ..theme.style import SPACING, Colors

LEVEL_COLORS = {
    "ok": Colors.success,
    "warning": Colors.warning,
    "would_exceed": Colors.error,
    "exceeded": Colors.error,
}


def level_for_share(share: float | None) -> str:
    """The colour level of a budget that is ``share`` used (no estimate counted): ok, warning or exceeded."""
    if share is None:
        return "ok"
    if share >= 1.0:
        return "exceeded"
    return "warning" if share >= WARNING_SHARE else "ok"


def level_color(level: str) -> QColor:
    return QColor(LEVEL_COLORS.get(level, Colors.text_muted))


def usage_share(used_credits: float, used_usd: float, credits: int | None, usd: float | None) -> float | None:
    """The fuller of the two limits as a share used (1.0 = all used); None when no limit is set."""
    shares = []
    if credits is not None:
        shares.append(used_credits / credits if credits > 0 else 1.0)
    if usd is not None:
        shares.append(used_usd / usd if usd > 0 else 1.0)
    return max(shares) if shares else None


class BudgetEditor(QWidget):
    """Two fields, credits and USD; empty means "No limit". ``edited`` fires on every change."""

    edited = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.credits_edit = QLineEdit(self)
        self.credits_edit.setObjectName(f"{name}Credits")
        self.credits_edit.setAccessibleName("Budget in credits")
        self.credits_edit.setPlaceholderText("No limit")
        self.credits_edit.setValidator(QIntValidator(0, 2_000_000_000, self))
        self.usd_edit = QLineEdit(self)
        self.usd_edit.setObjectName(f"{name}Usd")
        self.usd_edit.setAccessibleName("Budget in US dollars")
        self.usd_edit.setPlaceholderText("No limit")
        usd_validator = QDoubleValidator(0.0, 1e9, 2, self)
        usd_validator.setNotation(QDoubleValidator.Notation.StandardNotation)
        self.usd_edit.setValidator(usd_validator)
        for edit in (self.credits_edit, self.usd_edit):
            edit.setClearButtonEnabled(True)
            edit.setMinimumWidth(96)
            edit.setMaximumWidth(180)
            edit.textEdited.connect(lambda _t: self.edited.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        credits_label = QLabel("Credits", self)
        credits_label.setBuddy(self.credits_edit)
        usd_label = QLabel("USD  $", self)
        usd_label.setBuddy(self.usd_edit)
        for label in (credits_label, usd_label):
            label.setProperty("role", "hint")
        layout.addWidget(credits_label)
        layout.addWidget(self.credits_edit, 1)
        layout.addSpacing(SPACING)
        layout.addWidget(usd_label)
        layout.addWidget(self.usd_edit, 1)

    def set_values(self, credits: int | None, usd: float | None) -> None:
        self.credits_edit.setText("" if credits is None else str(credits))
        self.usd_edit.setText("" if usd is None else f"{usd:.2f}")

    def save_for_project(self, store, project: str) -> tuple[int | None, float | None]:
        """Store these values as ``project``'s budget and return them; ValueError/LookupError in one sentence."""
        credits, usd = self.values()
        store.set_project_budget(project, credits, usd)
        return credits, usd

    def values(self) -> tuple[int | None, float | None]:
        """(credits, usd), None for "No limit". Raises ValueError with one sentence for a bad amount."""
        credits_text = self.credits_edit.text().strip().replace(",", "").replace(" ", "")
        usd_text = self.usd_edit.text().strip().lstrip("$").replace(",", ".").replace(" ", "")
        try:
            credits = int(credits_text) if credits_text else None
        except ValueError:
            raise ValueError("The credit budget must be a whole number of credits, or empty for no limit.") from None
        try:
            usd = float(usd_text) if usd_text else None
        except ValueError:
            raise ValueError("The USD budget must be an amount like 25 or 12.50, or empty for no limit.") from None
        if (credits is not None and credits < 0) or (usd is not None and (usd < 0 or not math.isfinite(usd))):
            raise ValueError("A budget can't be negative; leave it empty for no limit.")
        return credits, usd


class BudgetBar(QWidget):
    """A slim bar showing how much of a budget is used, coloured by level (amber from 80 %, red when over)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.share: float | None = None
        self.level = "ok"

    def sizeHint(self) -> QSize:
        return QSize(160, 8)

    def set_share(self, share: float | None, level: str | None = None) -> None:
        self.share = share
        self.level = level or level_for_share(share)
        self.setAccessibleDescription("No limit" if share is None else f"{share * 100:.0f} % used")
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        track = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = track.height() / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(Colors.control))
        p.drawRoundedRect(track, radius, radius)
        if self.share is not None and self.share > 0:
            fill = QRectF(track)
            fill.setWidth(max(track.height(), track.width() * min(1.0, self.share)))
            p.setBrush(level_color(self.level))
            p.drawRoundedRect(fill, radius, radius)
        p.end()
