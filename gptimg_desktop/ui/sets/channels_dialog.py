"""Channels…: re-render one version for the ticked channel sizes (and custom ones), delivered at exact pixels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.channels import CHANNEL_PRESETS, ChannelPlan, ChannelPreset, custom_preset
from ...core.errors import RequestRefused
from ...core.pricing import PriceTable
from ...jobs.channels import ChannelResult, estimate_channels, plan_channels
from ...jobs.set_queue import SetQueue
from ...store.history import HistoryStore, Version
from ..theme.style import Colors, set_role


def role_label(label: QLabel, role: str) -> QLabel:
    set_role(label, role)
    return label


ICON = 150


def _framed(image: QImage) -> QPixmap:
    """The result centred in a square tile, so tall, wide and failed results line up in the list."""
    pixmap = QPixmap(ICON, ICON)
    pixmap.fill(QColor(Colors.panel))
    if not image.isNull():
        scaled = image.scaled(ICON - 8, ICON - 8, Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        painter = QPainter(pixmap)
        painter.drawImage((ICON - scaled.width()) // 2, (ICON - scaled.height()) // 2, scaled)
        painter.end()
    return pixmap


class ChannelsDialog(QDialog):
    def __init__(self, store: HistoryStore, queue: SetQueue, version: Version, prices: Callable[[], PriceTable],
                 out_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChannelsDialog")
        self.setWindowTitle("Channels")
        self.store = store
        self.queue = queue
        self.version = version
        self._prices = prices
        self.plans: list[ChannelPlan] = []
        self.results: list[ChannelResult] = []
        self.running = False
        self.boxes: dict[str, QCheckBox] = {}
        self._build(out_dir)
        queue.channelFinished.connect(self._channel_finished)
        queue.channelsFinished.connect(self._all_finished)
        queue.failed.connect(self._failed)
        self.replan()
        self.resize(860, 640)

    def _build(self, out_dir: Path) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        title = role_label(QLabel(f"Re-render version {self.version.id[:8]} ({self.version.size}) for each channel. "
                                "Each is an edit at the nearest valid size of the same shape, then delivered at "
                                "exactly the channel's pixels.", self), "hint")
        title.setWordWrap(True)
        layout.addWidget(title)
        grid = QGridLayout()
        for index, preset in enumerate(CHANNEL_PRESETS):
            box = QCheckBox(f"{preset.name}  {preset.width}x{preset.height}", self)
            box.setObjectName(f"channel_{preset.name}")
            box.toggled.connect(self.replan)
            self.boxes[preset.name] = box
            grid.addWidget(box, index // 3, index % 3)
        layout.addLayout(grid)
        custom_row = QHBoxLayout()
        custom_row.addWidget(QLabel("Custom sizes"))
        self.custom = QLineEdit(self)
        self.custom.setObjectName("channelCustomSize")
        self.custom.setPlaceholderText("e.g. 1200x628, 600x200")
        self.custom.textChanged.connect(self.replan)
        custom_row.addWidget(self.custom, 1)
        layout.addLayout(custom_row)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Deliver to"))
        self.out = QLineEdit(str(out_dir), self)
        self.out.setObjectName("channelOut")
        out_row.addWidget(self.out, 1)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        out_row.addWidget(browse)
        layout.addLayout(out_row)
        self.plan_label = role_label(QLabel(self), "estimate")
        self.plan_label.setObjectName("channelPlan")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.plan_label)
        self.results_list = QListWidget(self)
        self.results_list.setObjectName("channelResults")
        self.results_list.setViewMode(QListView.ViewMode.IconMode)
        self.results_list.setIconSize(QSize(ICON, ICON))
        self.results_list.setGridSize(QSize(ICON + 30, ICON + 56))
        self.results_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.results_list.setMovement(QListView.Movement.Static)
        self.results_list.setWordWrap(True)
        layout.addWidget(self.results_list, 1)
        buttons = QHBoxLayout()
        self.status = role_label(QLabel(self), "hint")
        self.status.setObjectName("channelStatus")
        self.status.setWordWrap(True)
        buttons.addWidget(self.status, 1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.queue.cancel)
        self.cancel_button.setEnabled(False)
        self.run_button = QPushButton("Render channels", self)
        self.run_button.setObjectName("channelRun")
        self.run_button.setProperty("kind", "primary")
        self.run_button.clicked.connect(self.run)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        for b in (self.cancel_button, self.run_button, close):
            buttons.addWidget(b)
        layout.addLayout(buttons)

    def check(self, *names: str) -> None:
        for name in names:
            self.boxes[name].setChecked(True)

    def presets(self) -> list[ChannelPreset]:
        chosen = [p for p in CHANNEL_PRESETS if self.boxes[p.name].isChecked()]
        for text in self.custom.text().replace(";", ",").split(","):
            if text.strip():
                chosen.append(custom_preset(text))
        return chosen

    def replan(self, *_args: object) -> None:
        try:
            self.plans = plan_channels(self.version, self.presets())
        except RequestRefused as exc:
            self.plans = []
            self.plan_label.setText(str(exc))
            self.run_button.setEnabled(False)
            return
        if not self.plans:
            self.plan_label.setText("Tick at least one channel.")
            self.run_button.setEnabled(False)
            return
        credits, usd = estimate_channels(self.version, self.plans, self._prices())
        status = self.store.budget_status(self.version.project, credits, usd)
        lines = [f"{p.preset.name}: {p.target} (made at {p.api_size})" + (" - cropped from 3:1" if p.ratio_clamped
                                                                          else "") for p in self.plans]
        lines.append(f"About {credits:,} credits · ${usd:.2f}" + (f" · {status.message}" if status.level != "ok"
                                                                  else ""))
        self.plan_label.setText("\n".join(lines))
        self.run_button.setEnabled(not self.running)

    def run(self) -> None:
        if not self.plans or self.running:
            return
        self.running = True
        self.results = []
        self.results_list.clear()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Rendering {len(self.plans)} channel(s)…")
        self.queue.run_channels(self.version, self.plans, Path(self.out.text()).expanduser())

    def _channel_finished(self, result: ChannelResult, image: QImage) -> None:
        if not self.running:
            return
        self.results.append(result)
        text = (f"{result.plan.preset.name}\n{result.plan.target} exact" if result.ok
                else f"{result.plan.preset.name}\nfailed")
        cell = QListWidgetItem(text)
        cell.setIcon(QIcon(_framed(image)))
        cell.setToolTip(result.files[0] if result.files else (result.error or ""))
        self.results_list.addItem(cell)

    def _all_finished(self, results: list[ChannelResult]) -> None:
        if not self.running:
            return
        self.running = False
        self.cancel_button.setEnabled(False)
        self.run_button.setEnabled(True)
        failed = [r for r in results if not r.ok]
        message = f"Delivered {len(results) - len(failed)} file(s) to {self.out.text()}."
        if failed:
            message += " " + " ".join(f"{r.plan.preset.name}: {r.error}" for r in failed)
        self.status.setText(message)

    def _failed(self, message: str) -> None:
        if self.running:
            self.running = False
            self.cancel_button.setEnabled(False)
            self.run_button.setEnabled(True)
            self.status.setText(message)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Deliver channel files to", self.out.text())
        if path:
            self.out.setText(path)
