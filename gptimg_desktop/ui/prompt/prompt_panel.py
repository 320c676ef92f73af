"""The prompt panel: prompt, model and output settings, the live cost estimate and the Run button.

Every control is filled from the chosen model's ModelSpec, and Run validates the request with
core.requests before emitting anything, so a request that would be refused never leaves the panel.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RequestRefused
from ...core.models import DEFAULT_MODEL, MODELS, ModelSpec, find_model
from ...core.pricing import PriceTable, estimate
from ...core.requests import ImageInput, ImageRequest
from ...editor.prompt_settings import PromptSettings
from ..common.elided_combo import ElidedComboBox
from ..common.elided_label import ElidedLabel
from ..common.panel_widgets import CollapsibleSection, MessageStrip, divider, hint_label, section_label
from ..theme.icons import icon
from ..theme.style import SPACING, Colors, set_role
from .size_picker import SizePicker

MODES = {
    "generate": ("Generate", "Generate a new image"),
    "edit": ("Edit image", "Edit the whole image"),
    "masked edit": ("Edit masked area", "Edit the masked area"),
}
QUALITY_TIPS = {
    "low": "Low: a fast, cheap draft — good for trying ideas.",
    "medium": "Medium: balanced speed and detail.",
    "high": "High: polished detail; slower and costs more.",
    "xhigh": "Extra high: more detail than high; slower still.",
    "max": "Max: the most detail the model gives; the slowest and most expensive.",
    "auto": "Auto: the model decides (estimated as high).",
}
QUALITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "xhigh": "Extra high", "max": "Max", "auto": "Auto"}
_DATA = Qt.ItemDataRole.UserRole
_HISTORY_MENU_CHARS = 70


class PromptPanel(QWidget):
    """Prompt + output settings + estimate + Run/Cancel/Finalize. See the module docstring."""

    runRequested = Signal()
    cancelRequested = Signal()
    finalizeRequested = Signal()
    cutoutRequested = Signal()
    settingsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptPanel")
        self.setAccessibleName("Prompt and settings")
        self.setMinimumWidth(320)
        set_role(self, "panel")
        self._updating = False
        self._spec: ModelSpec = MODELS[0]
        self._mode = "generate"
        self._price_table = PriceTable()
        self._input_sizes: tuple[tuple[int, int], ...] = ()
        self._transparent_preview_allowed = False
        self._history: list[str] = []
        self._history_index = -1  # -1: the user's own draft; 0.. : history entries, newest first
        self._draft = ""
        self._last_quality: str | None = None
        self._canvas_size: str | None = None  # "WxH" while editing: edits go out at the canvas size

        self._build()
        self._connect()
        self.set_mode("generate")
        self.apply_settings(PromptSettings())

    # ================================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        scroll = QScrollArea()
        scroll.setObjectName("promptPanelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        set_role(scroll, "panel")
        content = QWidget()
        content.setObjectName("promptPanelContent")
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)
        self._scroll = scroll
        self._scroll_content = content
        body = QVBoxLayout(content)
        body.setContentsMargins(2 * SPACING, 2 * SPACING, 2 * SPACING, 2 * SPACING)
        body.setSpacing(SPACING)

        self.mode_label = QLabel()
        self.mode_label.setObjectName("modeLabel")
        set_role(self.mode_label, "title")
        body.addWidget(self.mode_label)
        body.addSpacing(SPACING // 2)
        body.addLayout(self._build_prompt())
        body.addSpacing(SPACING)
        # The output settings are one widget, so the window can dock them as their own panel (detach_output).
        self.output_panel = QWidget(content)
        self.output_panel.setObjectName("outputPanel")
        output = QVBoxLayout(self.output_panel)
        output.setContentsMargins(0, 0, 0, 0)
        output.setSpacing(SPACING)
        self._output_header = section_label("Output", "outputHeader")
        output.addWidget(self._output_header)
        output.addLayout(self._build_output())
        self.transparent_warning = MessageStrip("transparentWarning", "warning", closable=False)
        output.addWidget(self.transparent_warning)
        output.addSpacing(SPACING)
        output.addWidget(section_label("Masked edits", "maskHeader"))
        output.addLayout(self._build_mask())
        output.addSpacing(SPACING)
        self.advanced = CollapsibleSection("Advanced", "advancedSection", expanded=False)
        self._build_advanced(self.advanced.body)
        output.addWidget(self.advanced)
        output.addStretch(1)
        body.addWidget(self.output_panel)
        body.addStretch(1)
        self._body = body
        outer.addWidget(self._build_action_bar())

    def detach_output(self) -> QWidget:
        """Take the output settings (model, size, quality, masked edits, advanced) out of this panel, for the
        window to show as their own dock; the panel keeps owning and reading them."""
        self._body.removeWidget(self.output_panel)
        self._output_header.hide()  # the dock's title says "Output"
        # The dock's title says "Prompt": the mode ("Edit the masked area") takes the header's place.
        self._prompt_header.hide()
        self._body.removeWidget(self.mode_label)
        self._prompt_head.insertWidget(0, self.mode_label, 1)
        self._body.setContentsMargins(2 * SPACING, SPACING, 2 * SPACING, SPACING)
        margin = 2 * SPACING
        self.output_panel.setContentsMargins(margin, SPACING, margin, margin)
        self.prompt_edit.setMaximumHeight(16777215)  # the prompt dock is the prompt's own room now
        # The prompt itself never scrolls out of sight: the dock's minimum is the prompt plus the action bar
        # (an error shown there makes the dock taller, taking room from the panels below, not from the prompt).
        self._scroll_content.installEventFilter(self)
        self._fit_prompt_room()
        return self.output_panel

    def _fit_prompt_room(self) -> None:
        self._scroll.setMinimumHeight(self._scroll_content.minimumSizeHint().height())

    def _build_prompt(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(SPACING)
        head = QHBoxLayout()
        self._prompt_header = section_label("Prompt", "promptHeader")
        self._prompt_head = head
        head.addWidget(self._prompt_header)
        head.addStretch(1)
        self.recent_button = QToolButton()
        self.recent_button.setObjectName("recentPromptsButton")
        self.recent_button.setAccessibleName("Recent prompts")
        self.recent_button.setText("Recent")
        self.recent_button.setIcon(icon("history", Colors.text_muted, 14))
        self.recent_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_button.setProperty("flat", True)
        self.recent_button.setToolTip("Earlier prompts (Ctrl+Up / Ctrl+Down in the prompt)")
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.setObjectName("recentPromptsMenu")
        self.recent_button.setMenu(self.recent_menu)
        head.addWidget(self.recent_button)
        box.addLayout(head)

        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setAccessibleDescription("Ctrl+Enter runs; Ctrl+Up and Ctrl+Down recall earlier prompts.")
        self.prompt_edit.setPlaceholderText("Describe the image, or the change to the masked area…")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setMinimumHeight(110)
        self.prompt_edit.setMaximumHeight(150)
        self.prompt_edit.installEventFilter(self)
        box.addWidget(self.prompt_edit)
        # One line that elides: a wrapping label would make the scroll area size the prompt by its preferred
        # height (height-for-width) and scroll it, instead of fitting the prompt to the dock.
        tip = ElidedLabel("Ctrl+Enter runs · Ctrl+↑/↓ earlier prompts")
        tip.setObjectName("promptShortcutHint")
        set_role(tip, "hint")
        box.addWidget(tip)
        return box

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(SPACING + 4)
        form.setVerticalSpacing(SPACING)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        return form

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        label.setMinimumWidth(84)
        label.setStyleSheet(f"color: {Colors.text_muted};")
        return label

    def _combo(self, name: str, accessible: str) -> QComboBox:
        combo = ElidedComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        return combo

    def _spinbox(self, name: str, accessible: str, low: int, high: int, suffix: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setObjectName(name)
        spin.setAccessibleName(accessible)
        spin.setRange(low, high)
        spin.setSuffix(suffix)
        return spin

    def _build_output(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(SPACING)
        form = self._form()
        self.model_combo = self._combo("modelCombo", "Model")
        self.model_combo.view().setMinimumWidth(260)
        for spec in MODELS:
            self.model_combo.addItem(spec.label, spec.name)
            tip = " ".join(filter(None, (spec.notes, spec.lifecycle_note())))
            self.model_combo.setItemData(self.model_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            if spec.is_shut_down():  # listed so old versions make sense, but no longer selectable
                model = self.model_combo.model()
                item = model.item(self.model_combo.count() - 1) if isinstance(model, QStandardItemModel) else None
                if item is not None:
                    item.setEnabled(False)
        form.addRow(self._label("Model", self.model_combo), self.model_combo)
        self.model_note = hint_label("modelNoteLabel", role="warning")
        self.model_note.hide()
        form.addRow("", self.model_note)

        self.size_picker = SizePicker()
        self.size_picker.setObjectName("sizePicker")
        self.size_combo = self.size_picker.size_combo
        self.width_spin = self.size_picker.width_spin
        self.height_spin = self.size_picker.height_spin
        self.size_hint_label = self.size_picker.hint
        self.experimental_badge = self.size_picker.experimental_badge
        form.addRow(self._label("Size", self.size_combo), self.size_picker)

        self.quality_combo = self._combo("qualityCombo", "Quality")
        form.addRow(self._label("Quality", self.quality_combo), self.quality_combo)
        self.count_spin = self._spinbox("countSpin", "Image count", 1, 10)
        self.count_spin.setToolTip("How many images one run makes; each one is billed.")
        form.addRow(self._label("Images", self.count_spin), self.count_spin)
        self.background_combo = self._combo("backgroundCombo", "Background")
        for value, text in (("auto", "Auto"), ("opaque", "Opaque"), ("transparent", "Transparent")):
            self.background_combo.addItem(text, value)
        self.background_combo.setToolTip("Transparent needs PNG or WebP output and a model that supports it.")
        form.addRow(self._label("Background", self.background_combo), self.background_combo)
        box.addLayout(form)
        return box

    def _build_mask(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(SPACING)
        self.keep_outside_check = QCheckBox("Keep everything outside the mask")
        self.keep_outside_check.setObjectName("keepOutsideCheck")
        self.keep_outside_check.setAccessibleName("Keep outside mask")
        self.keep_outside_check.setToolTip(
            "The model treats a mask as guidance and may change pixels outside it. With this on, the result "
            "is blended back through the feathered mask, so nothing outside the masked area changes."
        )
        box.addWidget(self.keep_outside_check)
        form = self._form()
        self.feather_spin = self._spinbox("featherSpin", "Feather", 0, 128, " px")
        self.feather_spin.setToolTip("Softens the mask edge when blending back, so the seam does not show.")
        form.addRow(self._label("Feather", self.feather_spin), self.feather_spin)
        box.addLayout(form)
        return box

    def _build_advanced(self, host: QWidget) -> None:
        form = self._form()
        host.setLayout(form)
        self.format_combo = self._combo("formatCombo", "Output format")
        form.addRow(self._label("Format", self.format_combo), self.format_combo)
        self.compression_spin = self._spinbox("compressionSpin", "Compression", 0, 100, " %")
        self.compression_spin.setValue(100)  # the API's default: no visible loss
        self.compression_spin.setToolTip("JPEG and WebP only: 100 keeps the most detail, lower makes smaller files.")
        form.addRow(self._label("Compression", self.compression_spin), self.compression_spin)
        self.moderation_combo = self._combo("moderationCombo", "Moderation")
        self.moderation_combo.setToolTip("Low is less strict content filtering; auto is the default.")
        form.addRow(self._label("Moderation", self.moderation_combo), self.moderation_combo)
        self.stream_check = QCheckBox("Stream previews while it draws")
        self.stream_check.setObjectName("streamCheck")
        self.stream_check.setAccessibleName("Streaming")
        self.stream_check.setToolTip("Show rough previews as the image is made, then the final image.")
        form.addRow(self.stream_check)
        self.partial_spin = self._spinbox("partialSpin", "Preview images", 0, 3)
        self.partial_spin.setToolTip("Rough previews before the final image; each adds about 100 output tokens.")
        form.addRow(self._label("Previews", self.partial_spin), self.partial_spin)

    def _build_action_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("promptActionBar")
        set_role(bar, "panel")
        box = QVBoxLayout(bar)
        box.setContentsMargins(2 * SPACING, 0, 2 * SPACING, 2 * SPACING)
        box.setSpacing(SPACING)
        box.addWidget(divider())
        self.error_strip = MessageStrip("errorStrip", "error")
        box.addWidget(self.error_strip)
        self.estimate_label = QLabel()
        self.estimate_label.setObjectName("estimateLabel")
        self.estimate_label.setAccessibleName("Estimated cost")
        set_role(self.estimate_label, "estimate")
        self.last_cost_label = hint_label("lastCostLabel")
        self.last_cost_label.setAccessibleName("Cost of the last run")
        self.last_cost_label.hide()
        box.addWidget(self.estimate_label)
        box.addWidget(self.last_cost_label)

        buttons = QHBoxLayout()
        buttons.setSpacing(SPACING)
        self.run_button = QPushButton("Generate")
        self.run_button.setObjectName("runButton")
        self.run_button.setAccessibleName("Run")
        self.run_button.setProperty("accent", True)
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Run (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setToolTip("Cancel the running job")
        self.cancel_button.setEnabled(False)
        self.reference_count_label = QLabel("No references")
        self.reference_count_label.setObjectName("referenceCount")
        self.reference_count_label.setAccessibleName("References sent with the next run")
        set_role(self.reference_count_label, "hint")
        self.reference_count_label.hide()
        # Its own line: beside Run it took the room "Edit masked area" needs in a narrow dock.
        box.addWidget(self.reference_count_label)
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        box.addLayout(buttons)
        self.finalize_button = QPushButton("Finalize at high")
        self.finalize_button.setObjectName("finalizeButton")
        self.finalize_button.setAccessibleName("Finalize at high quality")
        self.finalize_button.setToolTip(
            "Run the draft's own request again at high quality, as a sibling version; the estimate is shown first."
        )
        self.finalize_button.setEnabled(False)
        box.addWidget(self.finalize_button)
        return bar

    def _connect(self) -> None:
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.size_picker.sizeChanged.connect(self._changed)
        for combo in (self.quality_combo, self.background_combo, self.format_combo, self.moderation_combo):
            combo.currentIndexChanged.connect(self._changed)
        for spin in (self.count_spin, self.compression_spin, self.partial_spin, self.feather_spin):
            spin.valueChanged.connect(self._changed)
        for check in (self.stream_check, self.keep_outside_check):
            check.toggled.connect(self._changed)
        self.prompt_edit.textChanged.connect(self._changed)
        self.prompt_edit.textChanged.connect(self._typed)
        self.transparent_warning.actionTriggered.connect(self._use_cutout)
        self.run_button.clicked.connect(self.request_run)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.finalize_button.clicked.connect(self.finalizeRequested)

    # ================================================================== model-driven filling
    def _on_model_changed(self, _index: int = -1) -> None:
        if self._updating:
            return
        self._fill_for_model(self.settings())
        self._changed()

    def _fill_for_model(self, keep: PromptSettings) -> None:
        """Refill every model-dependent control from the chosen spec, keeping ``keep`` where allowed."""
        name = self.model_combo.currentData(_DATA) or DEFAULT_MODEL
        spec = find_model(name) or MODELS[0]
        self._spec = spec
        was_updating, self._updating = self._updating, True
        try:
            self.model_combo.setToolTip(" ".join(filter(None, (spec.notes, spec.lifecycle_note()))))
            note = spec.lifecycle_note()
            self.model_note.setText(note)
            self.model_note.setVisible(bool(note))

            self.size_picker.set_model(spec)
            self.size_picker.set_size(keep.size)

            _refill(self.quality_combo, spec.qualities, keep.quality, fallback="auto",
                    labels=QUALITY_LABELS, tips=QUALITY_TIPS)
            self.count_spin.setMaximum(spec.max_n)
            self.count_spin.setValue(min(max(1, keep.n), spec.max_n))
            _refill(self.format_combo, spec.output_formats, keep.output_format, fallback="png",
                    labels={"png": "PNG", "jpeg": "JPEG", "webp": "WebP"})
            _refill(self.moderation_combo, spec.moderations, keep.moderation, fallback="auto")
            self.stream_check.setEnabled(spec.streaming)
            self.stream_check.setChecked(keep.stream and spec.streaming)
            self.partial_spin.setMaximum(spec.max_partial_images)
            self.partial_spin.setValue(min(keep.partial_images, spec.max_partial_images))
            index = self.background_combo.findData(keep.background)
            self.background_combo.setCurrentIndex(max(0, index))
        finally:
            self._updating = was_updating
        self._sync_dependent()

    def _sync_dependent(self) -> None:
        """Enablement, warnings and the estimate: everything that follows from the other controls."""
        fmt = self.format_combo.currentData(_DATA)
        self.compression_spin.setEnabled(fmt in ("jpeg", "webp"))
        self.partial_spin.setEnabled(self.stream_check.isChecked())
        quality_tip = QUALITY_TIPS.get(self.quality_combo.currentData(_DATA) or "", "")
        self.quality_combo.setToolTip(quality_tip + "\nLow = fast draft, high = polished.")
        self._update_transparent_warning()
        self._update_estimate()

    def _update_transparent_warning(self) -> None:
        spec = self._spec
        strip = self.transparent_warning
        if self.background_combo.currentData(_DATA) != "transparent":
            strip.dismiss()
            return
        if spec.transparent == "no" or (spec.transparent == "preview" and not self._transparent_preview_allowed):
            hint = ", or enable the preview in Settings." if spec.transparent == "preview" else "."
            strip.set_kind("warning")
            strip.show_message(
                f"{spec.label} can't make transparent backgrounds. Use Cutout after the result arrives{hint}",
                action="Use local cutout instead",
            )
        elif self.format_combo.currentData(_DATA) == "jpeg":
            strip.set_kind("warning")
            strip.show_message("JPEG has no transparency: choose PNG or WebP under Advanced → Format.")
        elif spec.transparent == "preview":
            strip.set_kind("info")
            strip.show_message(f"Transparent backgrounds are a preview on {spec.label}; some accounts get an error.")
        else:
            strip.dismiss()

    def _typed(self) -> None:
        # The designer is rewriting the prompt: the message about the last attempt has been read ("The prompt is
        # empty" would otherwise stay up over the words that fix it). Text set by code leaves it alone.
        if self.prompt_edit.hasFocus():
            self.set_error(None)

    def _use_cutout(self) -> None:
        self.background_combo.setCurrentIndex(max(0, self.background_combo.findData("auto")))
        self.cutoutRequested.emit()

    def _changed(self, *_args: object) -> None:
        if self._updating:
            return
        self._sync_dependent()
        self.settingsChanged.emit()

    # ================================================================== estimate and cost
    def set_price_table(self, table: PriceTable) -> None:
        self._price_table = table
        self._update_estimate()

    def set_input_sizes(self, sizes: Sequence[tuple[int, int]]) -> None:
        """The canvas image and reference sizes an edit sends; they change the input-token estimate."""
        self._input_sizes = tuple((int(w), int(h)) for w, h in sizes)
        self._update_estimate()

    def _update_estimate(self) -> None:
        s = self.settings()
        est = estimate(
            self._price_table, s.model, s.prompt or " ", self._canvas_size or s.size, s.quality, s.n,
            s.partial_images if s.stream else 0, self._input_sizes,
        )
        images = f"{est.images} image" + ("s" if est.images != 1 else "")
        self.estimate_label.setText(f"≈ {est.credits} credits · {_usd(est.cost_usd)} · {images}")
        assumed = "" if self._price_table.prices(s.model).confirmed else " Prices for this model are not published yet."
        self.estimate_label.setToolTip(
            f"Estimate: about {est.usage.output_tokens:,} output and {est.usage.input_tokens:,} input tokens."
            f"{assumed} The recorded cost comes from the usage the API reports."
        )

    def estimate_text(self) -> str:
        return self.estimate_label.text()

    def show_actual_cost(self, credits: int, usd: float) -> None:
        self.last_cost_label.setText(f"Last run: {credits} credits · {_usd(usd)}")
        self.last_cost_label.show()

    # ================================================================== mode, busy, finalize, errors
    def set_mode(self, mode: str) -> None:
        """"generate", "edit" or "masked edit": changes the Run button's words and the title."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        self._mode = mode
        button, title = MODES[mode]
        self.run_button.setText(button)
        self.mode_label.setText(title)

    def mode(self) -> str:
        return self._mode

    def set_busy(self, busy: bool) -> None:
        """A job is running: Cancel becomes available. Run stays enabled; further runs queue."""
        self.cancel_button.setEnabled(busy)
        self.run_button.setToolTip("Add to the queue (Ctrl+Enter)" if busy else "Run (Ctrl+Enter)")

    def set_last_run_quality(self, quality: str | None) -> None:
        """After a result arrives: a low-quality draft can be finalized at high."""
        self._last_quality = quality
        self.finalize_button.setEnabled(quality == "low" and "high" in self._spec.qualities)

    def set_error(self, text: str | None) -> None:
        if text:
            self.error_strip.show_message(text)
        else:
            self.error_strip.dismiss()

    def error_text(self) -> str:
        return self.error_strip.message()

    def set_transparent_preview_allowed(self, allowed: bool) -> None:
        self._transparent_preview_allowed = bool(allowed)
        self._update_transparent_warning()

    # ================================================================== run
    def request_run(self) -> bool:
        """Validate and emit runRequested; on a refused request show why inline. Returns whether it ran.

        While editing, the canvas size is the document's to check (the window offers to crop or pad it)."""
        try:
            request = self.to_request()
            if self._canvas_size is not None:
                request = request.with_changes(size="auto")
            request.validate()
        except RequestRefused as refused:
            self.set_error(refused.message)
            self._focus_param(refused.param)
            return False
        self.set_error(None)
        self.runRequested.emit()
        return True

    def _focus_param(self, param: str | None) -> None:
        targets: dict[str, QWidget] = {
            "prompt": self.prompt_edit,
            "model": self.model_combo,
            "size": self.width_spin if self.size_picker.is_custom() else self.size_combo,
            "quality": self.quality_combo,
            "n": self.count_spin,
            "background": self.background_combo,
            "output_format": self.format_combo,
            "output_compression": self.compression_spin,
            "moderation": self.moderation_combo,
            "stream": self.stream_check,
            "partial_images": self.partial_spin,
        }
        target = targets.get(param or "")
        if target is None:
            return
        if self.advanced.body.isAncestorOf(target):
            self.advanced.set_expanded(True)
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def to_request(
        self, images: Sequence[ImageInput] = (), mask: ImageInput | None = None, prompt_suffix: str = ""
    ) -> ImageRequest:
        """The request these settings make. ``prompt_suffix`` (e.g. reference-role wording) is appended.

        While editing, the size is the canvas's (the chosen size applies only to generation)."""
        request = self.settings().to_request(
            prompt_suffix, size=self._canvas_size, allow_transparent_preview=self._transparent_preview_allowed
        )
        return request.with_changes(images=tuple(images), mask=mask) if images or mask else request

    def set_canvas_size(self, size: tuple[int, int] | None, problem: str | None = None) -> None:
        """Editing an image of this size (None: generating). The Size control shows it while editing, and
        ``problem`` says before anything is sent when the model can't edit at that size."""
        self._canvas_size = f"{size[0]}x{size[1]}" if size else None
        self.size_picker.show_canvas_size(size, problem)
        self._update_estimate()

    def set_reference_count(self, count: int, text: str) -> None:
        """How many references go with the next run, beside Run (e.g. "+2 references")."""
        self.reference_count_label.setText(text)
        self.reference_count_label.setVisible(count > 0)
        self.reference_count_label.setToolTip(
            f"{count} reference image(s) from the tray are sent with the next run." if count else "")

    def canvas_size(self) -> str | None:
        return self._canvas_size

    # ================================================================== settings in and out
    def settings(self) -> PromptSettings:
        fmt = self.format_combo.currentData(_DATA) or "png"
        stream = self.stream_check.isChecked()
        return PromptSettings(
            prompt=self.prompt_edit.toPlainText(),
            model=self.model_combo.currentData(_DATA) or DEFAULT_MODEL,
            size=self.size_picker.size_text(),
            quality=self.quality_combo.currentData(_DATA) or "auto",
            n=self.count_spin.value(),
            output_format=fmt,
            output_compression=None if fmt == "png" else self.compression_spin.value(),
            background=self.background_combo.currentData(_DATA) or "auto",
            moderation=self.moderation_combo.currentData(_DATA) or "auto",
            stream=stream,
            partial_images=self.partial_spin.value() if stream else 0,
            keep_outside_mask=self.keep_outside_check.isChecked(),
            feather_px=self.feather_spin.value(),
        )

    def apply_settings(self, s: PromptSettings) -> None:
        """Restore every input from ``s`` (e.g. from a history version); emits settingsChanged once."""
        self._updating = True
        try:
            if self.prompt_edit.toPlainText() != s.prompt:
                self.prompt_edit.setPlainText(s.prompt)
            index = self.model_combo.findData(s.model)
            if index < 0 and (spec := find_model(s.model)) is not None:
                index = self.model_combo.findData(spec.name)  # a snapshot name restores its alias
            self.model_combo.setCurrentIndex(max(0, index))
            if s.output_compression is not None:
                self.compression_spin.setValue(s.output_compression)
            self.keep_outside_check.setChecked(s.keep_outside_mask)
            self.feather_spin.setValue(s.feather_px)
            self._fill_for_model(s)
        finally:
            self._updating = False
        self._sync_dependent()
        self.settingsChanged.emit()

    def set_prompt(self, text: str) -> None:
        self.prompt_edit.setPlainText(text)
        cursor = self.prompt_edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.prompt_edit.setTextCursor(cursor)

    def prompt(self) -> str:
        return self.prompt_edit.toPlainText()

    # ================================================================== prompt history
    def set_prompt_history(self, prompts: Sequence[str]) -> None:
        """Earlier prompts, newest first; Ctrl+Up walks back through them, the Recent menu lists them."""
        seen: set[str] = set()
        self._history = []
        for p in prompts:
            if p and p.strip() and p not in seen:
                seen.add(p)
                self._history.append(p)
        self._history_index = -1
        self.recent_menu.clear()
        for p in self._history[:20]:
            one_line = " ".join(p.split())
            text = one_line if len(one_line) <= _HISTORY_MENU_CHARS else one_line[: _HISTORY_MENU_CHARS - 1] + "…"
            action = self.recent_menu.addAction(text.replace("&", "&&"))
            action.setToolTip(p)
            action.triggered.connect(lambda _checked=False, prompt=p: self._recall(prompt))
        self.recent_button.setEnabled(bool(self._history))

    def prompt_history(self) -> list[str]:
        return list(self._history)

    def _recall(self, prompt: str) -> None:
        self._history_index = -1
        self.set_prompt(prompt)
        self.prompt_edit.setFocus()

    def recall_older(self) -> None:
        if self._history_index + 1 >= len(self._history):
            return
        if self._history_index == -1:
            self._draft = self.prompt_edit.toPlainText()
        self._history_index += 1
        self.set_prompt(self._history[self._history_index])

    def recall_newer(self) -> None:
        if self._history_index < 0:
            return
        self._history_index -= 1
        self.set_prompt(self._draft if self._history_index == -1 else self._history[self._history_index])

    # ================================================================== keys
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.prompt_edit and event.type() == QEvent.Type.KeyPress and self._handle_key(event):  # type: ignore[arg-type]
            return True
        if watched is self._scroll_content and event.type() == QEvent.Type.LayoutRequest:
            self._fit_prompt_room()  # the styles or the mode's title changed what the prompt's part needs
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Ctrl+Enter from any control in the panel that did not use the key itself.
        if not self._handle_key(event):
            super().keyPressEvent(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        key = event.key()
        if ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.request_run()
            return True
        if ctrl and key == Qt.Key.Key_Up:
            self.recall_older()
            return True
        if ctrl and key == Qt.Key.Key_Down:
            self.recall_newer()
            return True
        return False


def _usd(value: float) -> str:
    # Drafts cost fractions of a cent; two decimals would show them as free.
    return f"${value:.2f}" if value >= 0.095 else f"${value:.3f}"


def _refill(
    combo: QComboBox,
    values: Sequence[str],
    keep: str,
    fallback: str,
    labels: dict[str, str] | None = None,
    tips: dict[str, str] | None = None,
) -> None:
    """Replace ``combo``'s items with ``values``, selecting ``keep`` or else ``fallback`` or the first."""
    combo.clear()
    for value in values:
        combo.addItem((labels or {}).get(value, value.capitalize()), value)
        if tips and value in tips:
            combo.setItemData(combo.count() - 1, tips[value], Qt.ItemDataRole.ToolTipRole)
    for choice in (keep, fallback):
        index = combo.findData(choice)
        if index >= 0:
            combo.setCurrentIndex(index)
            return
    combo.setCurrentIndex(0)

