"""The details of one version under the history: prompt, settings, lineage, job status, and its cost ledger.

The ledger puts what the app estimated before sending next to what the provider reported, so a designer
sees at a glance whether estimates can be trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core.budget import format_usd
from ..theme.icons import dot_pixmap
from ..theme.style import SPACING, Colors, set_role, status_color
from .history_model import local_time

STATUS_WORDS = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
}


# ---------------------------------------------------------------------------------------------- wording
def _tokens(value: Any) -> str:
    try:
        return f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return "?"


def job_image_count(params: Mapping[str, Any] | None, fallback: int = 1) -> int:
    """How many images the job asked for (its ``n``), for splitting a job's estimate per image."""
    try:
        n = int((params or {}).get("n") or fallback)
    except (TypeError, ValueError):
        n = fallback
    return max(1, n)


def estimate_text(estimate: Mapping[str, Any] | None, images: int = 1) -> str:
    """ "Estimate: ≈ 60 credits · $0.21 (7,024 tokens out)" for one image of a job of ``images``.

    ``estimate`` is the job's stored estimate: {"credits", "cost_usd", "usage": {"output_tokens", …}}."""
    if not estimate:
        return "Estimate: none was recorded for this job."
    images = max(1, images)
    usage = estimate.get("usage") or {}
    try:
        credits = float(estimate.get("credits") or 0) / images
        cost = float(estimate.get("cost_usd") or 0) / images
        out = float(usage.get("output_tokens") or 0) / images
    except (TypeError, ValueError):
        return "Estimate: the recorded estimate could not be read."
    text = f"Estimate: ≈ {round(credits):,} credits · {format_usd(cost)} ({_tokens(out)} tokens out)"
    return text + (f" per image, job of {images}" if images > 1 else "")


def recorded_text(credits: int, cost_usd: float, output_tokens: int, input_tokens: int) -> str:
    """ "Recorded: 60 credits · $0.19 (6,100 out, 300 in)": what the provider reported for this image."""
    if not (credits or cost_usd or output_tokens or input_tokens):
        return "Recorded: nothing was billed for this image."
    return (f"Recorded: {credits:,} credits · {format_usd(cost_usd)} "
            f"({_tokens(output_tokens)} out, {_tokens(input_tokens)} in)")


def difference_text(estimate: Mapping[str, Any] | None, images: int, cost_usd: float) -> str:
    """How far the recorded cost landed from the estimate, e.g. "10 % under the estimate"."""
    if not estimate or not cost_usd:
        return ""
    try:
        expected = float(estimate.get("cost_usd") or 0) / max(1, images)
    except (TypeError, ValueError):
        return ""
    if expected <= 0:
        return ""
    change = (cost_usd - expected) / expected
    if abs(change) < 0.005:
        return "Exactly as estimated."
    return f"{abs(change) * 100:.0f} % {'over' if change > 0 else 'under'} the estimate."


def local_time_text(stamp: str | None) -> str:
    if not stamp:
        return "—"
    try:
        moment = local_time(stamp)
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%B %Y, %H:%M:%S}"


# ---------------------------------------------------------------------------------------------- widget
class VersionDetails(QScrollArea):
    """Shows one version (``show_version``) read from the store; ``parentActivated(id)`` when the parent
    link is clicked."""

    parentActivated = Signal(str)

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versionDetails")
        self.setAccessibleName("Version details")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._store = store
        self.version_id: str | None = None
        self._parent_id: str | None = None

        body = QWidget(self)
        body.setObjectName("versionDetailsBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(SPACING + 4, SPACING, SPACING + 4, SPACING)
        layout.setSpacing(SPACING)

        self.empty = QLabel("Select a version to see its prompt, settings and cost.", body)
        self.empty.setObjectName("detailsEmpty")
        self.empty.setWordWrap(True)
        set_role(self.empty, "hint")
        layout.addWidget(self.empty)

        self.content = QWidget(body)
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(SPACING)

        head = QHBoxLayout()
        head.setSpacing(SPACING)
        self.status_dot = QLabel(self.content)
        self.status_dot.setObjectName("detailsStatusDot")
        self.title = QLabel(self.content)
        self.title.setObjectName("detailsTitle")
        set_role(self.title, "section")
        head.addWidget(self.status_dot)
        head.addWidget(self.title, 1)
        content.addLayout(head)

        self.prompt = QLabel(self.content)
        self.prompt.setObjectName("detailsPrompt")
        self.prompt.setAccessibleName("Prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.prompt.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.prompt.setStyleSheet(
            f"background: {Colors.control}; border: 1px solid {Colors.border}; border-radius: 6px; padding: 6px 8px;"
        )
        content.addWidget(self.prompt)

        grid = QGridLayout()
        grid.setHorizontalSpacing(SPACING * 2)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        self._values: dict[str, QLabel] = {}
        rows = ("Model", "Size", "Quality", "Parent", "Created", "Job", "Request ids")
        for r, name in enumerate(rows):
            key = QLabel(name, self.content)
            set_role(key, "hint")
            grid.addWidget(key, r, 0, Qt.AlignmentFlag.AlignTop)
            if name == "Parent":
                self.parent_button = QPushButton(self.content)
                self.parent_button.setObjectName("detailsParent")
                self.parent_button.setProperty("link", True)
                self.parent_button.setAccessibleName("Show parent version")
                self.parent_button.setCursor(Qt.CursorShape.PointingHandCursor)
                self.parent_button.clicked.connect(self._parent_clicked)
                self.parent_none = QLabel("— (made from text)", self.content)
                holder = QHBoxLayout()
                holder.setContentsMargins(0, 0, 0, 0)
                holder.addWidget(self.parent_button)
                holder.addWidget(self.parent_none)
                holder.addStretch(1)
                grid.addLayout(holder, r, 1)
                continue
            value = QLabel(self.content)
            value.setObjectName(f"details{name.replace(' ', '')}")
            value.setWordWrap(True)
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(value, r, 1)
            self._values[name] = value
        content.addLayout(grid)

        ledger_title = QLabel("COST", self.content)
        set_role(ledger_title, "section")
        content.addWidget(ledger_title)
        ledger = QFrame(self.content)
        ledger.setObjectName("detailsLedger")
        set_role(ledger, "card")
        ledger_layout = QVBoxLayout(ledger)
        ledger_layout.setContentsMargins(SPACING + 2, SPACING, SPACING + 2, SPACING)
        ledger_layout.setSpacing(4)
        self.estimate = QLabel(ledger)
        self.estimate.setObjectName("detailsEstimate")
        self.estimate.setWordWrap(True)
        self.estimate.setStyleSheet(f"color: {Colors.text_muted};")
        self.recorded = QLabel(ledger)
        self.recorded.setObjectName("detailsRecorded")
        self.recorded.setWordWrap(True)
        self.recorded.setStyleSheet("font-weight: bold;")
        self.difference = QLabel(ledger)
        self.difference.setObjectName("detailsCostDifference")
        set_role(self.difference, "hint")
        for label in (self.estimate, self.recorded, self.difference):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            ledger_layout.addWidget(label)
        content.addWidget(ledger)
        content.addStretch(1)

        layout.addWidget(self.content)
        layout.addStretch(1)
        self.setWidget(body)
        self.content.hide()

    # ------------------------------------------------------------------ data
    def show_version(self, version_id: str | None) -> None:
        """Show ``version_id`` (None, or one that no longer exists, shows the empty hint)."""
        version = self._store.get_version(version_id) if version_id else None
        self.version_id = version.id if version else None
        self.content.setVisible(version is not None)
        self.empty.setVisible(version is None)
        if version is None:
            return
        job = self._store.get_job(version.job_id)
        self.title.setText(f"VERSION {version.id.upper()}")
        status = version.job_status or (job.status if job else None) or "succeeded"
        self.status_dot.setPixmap(dot_pixmap(status_color(status), 8))
        self.status_dot.setToolTip(f"Job {STATUS_WORDS.get(status, status).lower()}")
        self.prompt.setText(version.prompt or "(no prompt)")
        self._values["Model"].setText(version.model)
        self._values["Size"].setText(f"{version.width}×{version.height} px · {version.format.upper()}")
        self._values["Quality"].setText(version.quality or "auto")
        self._parent_id = version.parent_id
        self.parent_button.setVisible(bool(version.parent_id))
        self.parent_none.setVisible(not version.parent_id)
        if version.parent_id:
            self.parent_button.setText(version.parent_id)
            self.parent_button.setToolTip("Select the version this one was made from")
        self._values["Created"].setText(local_time_text(version.created_at))
        kind = "Edit" if version.kind == "edit" else "Generation"
        job_text = f"{kind} · {STATUS_WORDS.get(status, status)}"
        if job is not None and job.error:
            job_text += f" — {job.error}"
        self._values["Job"].setText(job_text)
        ids = job.request_ids if job else ()
        self._values["Request ids"].setText("\n".join(ids) if ids else "—")
        images = job_image_count(job.params if job else None, fallback=len(self._store.versions_for_job(version.job_id)))
        estimate = job.estimate if job else None
        self.estimate.setText(estimate_text(estimate, images))
        self.recorded.setText(recorded_text(version.credits, version.cost_usd, version.output_tokens,
                                            version.input_tokens))
        self.difference.setText(difference_text(estimate, images, version.cost_usd))
        self.difference.setVisible(bool(self.difference.text()))

    def refresh(self) -> None:
        self.show_version(self.version_id)

    def _parent_clicked(self) -> None:
        if self._parent_id:
            self.parentActivated.emit(self._parent_id)
