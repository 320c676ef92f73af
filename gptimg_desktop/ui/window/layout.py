"""The editor window's widgets and where they sit: the canvas over the results grid, the demo banner, the tool
options bar, the docked panels (prompt, output, references, history, jobs) and the status bar.

``build_widgets`` runs once, from ``MainWindow.__init__``; the names it sets on the window are the window's
shape, which the actions, the wiring and the tests rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..canvas.canvas import ImageCanvas
from ..canvas.context_bar import ContextBar
from ..canvas.results_panel import ResultsPanel
from ..common import wheel_guard
from ..common.dock_panel import DockPanel
from ..history.history_panel import HistoryView
from ..jobs.jobs_view import JobsView
from ..prompt.prompt_panel import PromptPanel
from ..references.reference_tray import ReferenceTray
from .workspace import PanelToggle

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_widgets(self: MainWindow, demo: bool, provider_label: str) -> None:
    """Make the window's widgets and put them in place (the actions come after, from actions.py)."""
    wheel_guard.install()  # the wheel scrolls panels; it never changes an unfocused combo, spin or slider
    self.canvas = ImageCanvas(self, document=self.document)
    self.results = ResultsPanel(self)
    self.result_strip = self.results.grid  # the n-results grid (objectName variantGrid)
    self.results.setVisible(False)

    self.banner = QWidget(self)
    self.banner.setObjectName("demoBanner")
    self.banner.setProperty("role", "banner")
    banner_layout = QHBoxLayout(self.banner)
    banner_layout.setContentsMargins(12, 6, 12, 6)
    banner_text = QLabel(
        "<b>Demo mode</b> — images are synthesised locally by the built-in server; nothing is sent to "
        "OpenAI and nothing is billed. Add your API key in Settings to generate for real.",
        self.banner,
    )
    banner_text.setWordWrap(True)
    banner_text.setObjectName("demoBannerText")
    banner_button = QPushButton("Open Settings…", self.banner)
    banner_button.setObjectName("demoBannerSettingsButton")
    banner_button.setAccessibleName("Open settings")
    banner_button.clicked.connect(self.open_settings)
    banner_layout.addWidget(banner_text, 1)
    banner_layout.addWidget(banner_button)
    self.banner.setVisible(demo)

    self.context_bar = ContextBar(self, brush_size=self.canvas.brush_size(),
                                  hardness=round(self.canvas.brush_hardness() * 100),
                                  mask_color=self.canvas.mask_color())

    center = QWidget(self)
    center_layout = QVBoxLayout(center)
    center_layout.setContentsMargins(0, 0, 0, 0)
    center_layout.setSpacing(0)
    center_layout.addWidget(self.banner)
    # The context bar spans the window under the menus, as Photoshop's options bar does.
    self.context_toolbar = QToolBar("Tool Options", self)
    self.context_toolbar.setObjectName("contextToolbar")
    self.context_toolbar.setMovable(False)
    self.context_toolbar.setFloatable(False)
    self.context_toolbar.addWidget(self.context_bar)
    self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.context_toolbar)
    self.canvas_splitter = QSplitter(Qt.Orientation.Vertical, center)
    self.canvas_splitter.setObjectName("canvasSplitter")
    self.canvas_splitter.setChildrenCollapsible(False)
    self.canvas_splitter.addWidget(self.canvas)
    self.canvas_splitter.addWidget(self.results)
    self.canvas_splitter.setStretchFactor(0, 3)
    self.canvas_splitter.setStretchFactor(1, 1)
    center_layout.addWidget(self.canvas_splitter, 1)
    self.setCentralWidget(center)

    # Panels: collapsible, dockable sections whose layout is saved (save_layout).
    self.prompt = PromptPanel(self)
    output = self.prompt.detach_output()
    self.tray = ReferenceTray(self)
    self.tray.set_scratch_dir(str(self.scratch_dir))
    self.jobs_view = JobsView(self)
    self.history = HistoryView(self.store, self)
    self.prompt_dock = DockPanel("Prompt", "promptDock", self.prompt, self)
    self.output_dock = DockPanel("Output", "outputDock", _scrolling(output, "outputScroll"), self)
    self.references_dock = DockPanel("References", "referencesDock", self.tray, self)
    self.history_dock = DockPanel("History", "historyDock", self.history, self)
    self.jobs_dock = DockPanel("Jobs", "jobsDock", self.jobs_view, self)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    for dock in (self.prompt_dock, self.output_dock, self.references_dock):
        self.addDockWidget(right, dock, Qt.Orientation.Vertical)
    self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)
    self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.jobs_dock, Qt.Orientation.Vertical)
    self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    self.panel_toggle = PanelToggle(self)
    for inner_title in (self.jobs_view.title, self.tray.findChild(QLabel, "referenceTitle")):
        if inner_title is not None:
            inner_title.hide()  # the dock's title bar names the panel

    self.provider_label = QLabel(provider_label, self)
    self.provider_label.setObjectName("providerLabel")
    self.totals_label = QLabel(self)
    self.totals_label.setObjectName("totalsLabel")
    self.zoom_label = QLabel("", self)
    self.zoom_label.setObjectName("zoomLabel")
    self.statusBar().addWidget(self.provider_label)
    self.statusBar().addPermanentWidget(self.zoom_label)
    self.statusBar().addPermanentWidget(self.totals_label)


def _scrolling(content: QWidget, name: str) -> QScrollArea:
    """A vertical-only scroll area: a panel narrower than its content wraps or elides, it never scrolls sideways."""
    area = QScrollArea()
    area.setObjectName(name)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setProperty("role", "panel")
    area.setWidget(content)
    return area
