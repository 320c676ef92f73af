"""Settings: provider and API key (kept in the OS keyring), data folder, credits and the price table."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.models import MODELS, TokenPrices
from ...core.pricing import PriceTable
from ...editor.background import run_background
from ...provider.config import ProviderConfig
from ...provider.keys import (
    SESSION_KEYS,
    KeyStorageUnavailable,
    account_for,
    get_api_key,
    keyring_status,
    remember_for_session,
    set_api_key,
)
from ...store.paths import set_data_dir_choice

PROVIDERS = (
    ("demo", "Demo (local server, no key)"),
    ("openai", "OpenAI"),
    ("azure", "Azure OpenAI"),
    ("compatible", "OpenAI-compatible URL"),
)
PRICE_COLUMNS = (("text_in", "Text in"), ("image_in", "Image in"), ("image_out", "Image out"))


class SettingsDialog(QDialog):
    def __init__(self, store, data_dir: Path, prices: PriceTable, parent: QWidget | None = None,
                 env_override: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setAccessibleName("Settings")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(640)
        self.store = store
        self._prices = prices
        self.notice = ""  # something the window should still say after the dialog closes
        saved = dict(store.get_setting("provider", {}) or {})

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        if env_override:
            note = QLabel("OPENAI_API_KEY / OPENAI_BASE_URL are set in the environment; they override these "
                          "provider settings until you unset them.", self)
            note.setWordWrap(True)
            note.setProperty("role", "warning")
            layout.addWidget(note)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(self._provider_group(saved), "Provider")
        self.tabs.addTab(self._data_group(data_dir), "Data")
        self.tabs.addTab(self._cost_group(prices), "Costs")
        layout.addWidget(self.tabs, 1)

        self.error = QLabel(self)
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._kind_changed()

    # ------------------------------------------------------------------ sections
    def _provider_group(self, saved: dict) -> QGroupBox:
        box = QGroupBox(self)
        box.setFlat(True)
        form = QFormLayout(box)
        self.kind = QComboBox(box)
        self.kind.setObjectName("providerCombo")
        self.kind.setAccessibleName("Provider")
        for key, label in PROVIDERS:
            self.kind.addItem(label, key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(saved.get("kind", "demo"))))
        self.base_url = self._line("baseUrlEdit", "Base URL", saved.get("base_url", ""), "https://api.openai.com/v1")
        self.organization = self._line("organizationEdit", "Organization ID", saved.get("organization", ""), "optional")
        self.project = self._line("projectEdit", "Project ID", saved.get("project", ""), "optional")
        self.api_version = self._line("apiVersionEdit", "API version", saved.get("api_version", ""), "2025-04-01-preview")
        self.deployment = self._line("deploymentEdit", "Deployment", saved.get("deployment", ""), "your gpt-image-2 deployment")
        self.insecure = QCheckBox("Allow http:// to another machine (sends the key unencrypted)", box)
        self.insecure.setObjectName("allowInsecureCheck")
        self.insecure.setAccessibleName("Allow insecure HTTP")
        self.insecure.setChecked(bool(saved.get("allow_insecure_http")))
        self.api_key = QLineEdit(box)
        self.api_key.setObjectName("apiKeyEdit")
        self.api_key.setAccessibleName("API key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_status = QLabel(box)
        self.key_status.setObjectName("keyStatusLabel")
        self.key_status.setWordWrap(True)
        self.key_status.setProperty("role", "muted")
        self.test_button = QPushButton("Test connection", box)
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.setAccessibleName("Test connection")
        self.test_result = QLabel(box)
        self.test_result.setObjectName("testConnectionResult")
        self.test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        self.transparent_preview = QCheckBox("Allow transparent backgrounds on gpt-image-2 (preview accounts only)", box)
        self.transparent_preview.setObjectName("transparentPreviewCheck")
        self.transparent_preview.setAccessibleName("Transparent background preview")
        self.transparent_preview.setChecked(bool(self.store.get_setting("transparent_preview", False)))

        form.addRow("Provider", self.kind)
        form.addRow("Base URL", self.base_url)
        form.addRow("Organization", self.organization)
        form.addRow("Project", self.project)
        form.addRow("API version", self.api_version)
        form.addRow("Deployment", self.deployment)
        form.addRow("", self.insecure)
        form.addRow("API key", self.api_key)
        form.addRow("", self.key_status)
        form.addRow("", test_row)
        form.addRow("", self.transparent_preview)
        self._form = form
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.base_url.textChanged.connect(self._update_key_status)
        self.test_button.clicked.connect(self.test_connection)
        return box

    def _line(self, name: str, accessible: str, value: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(value or "", self)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        return edit

    def _data_group(self, data_dir: Path) -> QGroupBox:
        box = QGroupBox(self)
        box.setFlat(True)
        form = QFormLayout(box)
        self.data_dir = QLineEdit(str(data_dir), box)
        self.data_dir.setObjectName("dataDirEdit")
        self.data_dir.setAccessibleName("Data folder")
        self.data_dir.setReadOnly(True)
        choose = QPushButton("Change…", box)
        choose.setObjectName("dataDirChangeButton")
        choose.setAccessibleName("Change data folder")
        reveal = QPushButton("Open", box)
        reveal.setObjectName("dataDirOpenButton")
        reveal.setAccessibleName("Open data folder")
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(choose)
        row.addWidget(reveal)
        self.data_note = QLabel("History, images and the ledger live here (GPTIMG_HOME overrides it). "
                                "A new folder takes effect at the next start.", box)
        self.data_note.setWordWrap(True)
        self.data_note.setProperty("role", "muted")
        form.addRow("Folder", row)
        form.addRow("", self.data_note)
        choose.clicked.connect(self._choose_data_dir)
        reveal.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self.data_dir.text())))
        self._new_data_dir: str | None = None
        return box

    def _cost_group(self, prices: PriceTable) -> QGroupBox:
        box = QGroupBox(self)
        box.setFlat(True)
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.credits = QSpinBox(box)
        self.credits.setObjectName("creditsPerImageSpin")
        self.credits.setAccessibleName("Credits per image")
        self.credits.setRange(0, 100000)
        self.credits.setValue(prices.credits_per_image)
        row.addWidget(QLabel("Credits per image", box))
        row.addWidget(self.credits)
        row.addStretch(1)
        layout.addLayout(row)
        self.price_grid = QTableWidget(len(MODELS), len(PRICE_COLUMNS), box)
        self.price_grid.setObjectName("priceTable")
        self.price_grid.setAccessibleName("Price table, USD per million tokens")
        self.price_grid.setHorizontalHeaderLabels([label + " $/1M" for _, label in PRICE_COLUMNS])
        self.price_grid.setVerticalHeaderLabels([m.name for m in MODELS])
        self.price_grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.price_grid.setMinimumHeight(250)
        for row_index, spec in enumerate(MODELS):
            current = prices.prices(spec.name)
            for col, (attr, _label) in enumerate(PRICE_COLUMNS):
                spin = QDoubleSpinBox(self.price_grid)
                spin.setRange(0, 1000)
                spin.setDecimals(3)
                spin.setValue(getattr(current, attr))
                spin.setAccessibleName(f"{spec.name} {_label} price")
                self.price_grid.setCellWidget(row_index, col, spin)
            if not current.confirmed:
                item = QTableWidgetItem(spec.name + " *")
                item.setToolTip("Not published by OpenAI yet: assumed equal to gpt-image-2. Edit if you know better.")
                self.price_grid.setVerticalHeaderItem(row_index, item)
        layout.addWidget(self.price_grid)
        note = QLabel("* assumed price. Estimates use these prices and the size/quality token figures; "
                      "recorded costs use the usage the provider returns.", box)
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        layout.addWidget(note)
        return box

    # ------------------------------------------------------------------ behaviour
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        show = {
            self.base_url: kind in ("openai", "azure", "compatible"),
            self.organization: kind == "openai",
            self.project: kind == "openai",
            self.api_version: kind == "azure",
            self.deployment: kind == "azure",
            self.insecure: kind == "compatible",
            self.api_key: kind != "demo",
            self.test_button: kind != "demo",
        }
        for widget, visible in show.items():
            widget.setVisible(visible)
            label = self._form.labelForField(widget)
            if label is not None:
                label.setVisible(visible)
        if kind == "openai" and not self.base_url.text():
            self.base_url.setText("https://api.openai.com/v1")
        if kind == "azure":
            self.base_url.setPlaceholderText("https://YOUR-RESOURCE.openai.azure.com")
        self._update_key_status()

    def _account(self) -> str:
        return account_for(self.kind.currentData(), self.base_url.text().strip())

    def _update_key_status(self) -> None:
        if self.kind.currentData() == "demo":
            self.key_status.setText("Demo mode needs no key: images are synthesised by the built-in server.")
            return
        usable, backend = keyring_status()
        key, source = get_api_key(self._account())
        if key and source == "keyring":
            text = "A key is stored in the system keyring. Type a new one to replace it."
        elif key and source == "environment":
            text = "Using the key from the environment (OPENAI_API_KEY)."
        elif key and source == "session":
            text = "A key is kept for this session only (no keyring available)."
        else:
            text = "No key stored yet."
        if not usable:
            text += (" No system keyring is available here, so a key typed now lasts for this session only; "
                     "set OPENAI_API_KEY or install a keyring (e.g. gnome-keyring) to keep it.")
        self.key_status.setText(text)

    def _current_key(self) -> str | None:
        typed = self.api_key.text().strip()
        if typed:
            return typed
        key, _source = get_api_key(self._account())
        return key

    def provider_config(self) -> ProviderConfig | None:
        kind = self.kind.currentData()
        if kind == "demo":
            return None
        return ProviderConfig(
            kind=kind,
            base_url=self.base_url.text().strip() or "https://api.openai.com/v1",
            api_key=self._current_key() or "",
            organization=self.organization.text().strip() or None,
            project=self.project.text().strip() or None,
            api_version=self.api_version.text().strip() or None,
            deployment=self.deployment.text().strip() or None,
            allow_insecure_http=self.insecure.isChecked(),
        )

    def test_connection(self) -> None:
        from ...provider.client import ImagesClient
        from ...provider.errors import ProviderError

        config = self.provider_config()
        if config is None:
            return
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")

        def work() -> str:
            config.check()
            client = ImagesClient(config)
            try:
                return client.check_connection()
            except ProviderError as exc:
                raise RuntimeError(exc.user_message) from None
            finally:
                client.close()

        def done(result, error: str) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText(f"✓ {result}" if not error else f"✗ {error}")
            self.test_result.setProperty("role", "success" if not error else "error")
            self.test_result.style().unpolish(self.test_result)
            self.test_result.style().polish(self.test_result)

        run_background(work, done)

    def _choose_data_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a data folder", self.data_dir.text())
        if path:
            self._new_data_dir = path
            self.data_dir.setText(path)

    def accept(self) -> None:
        self.error.setVisible(False)
        kind = self.kind.currentData()
        config = self.provider_config()
        if config is not None:
            try:
                config.check()
            except Exception as exc:  # ProviderConfigError: say what to fix, keep the dialog open
                self._show_error(str(exc))
                return
        typed = self.api_key.text().strip()
        if typed:
            try:
                set_api_key(self._account(), typed)
                SESSION_KEYS.pop(self._account(), None)
            except KeyStorageUnavailable as exc:
                remember_for_session(self._account(), typed)
                self.notice = f"{exc} The key is kept for this session only."
                self._show_error(self.notice)
        settings = {
            "kind": kind,
            "base_url": self.base_url.text().strip() or None,
            "organization": self.organization.text().strip() or None,
            "project": self.project.text().strip() or None,
            "api_version": self.api_version.text().strip() or None,
            "deployment": self.deployment.text().strip() or None,
            "allow_insecure_http": self.insecure.isChecked() or None,
        }
        self.store.set_setting("provider", {k: v for k, v in settings.items() if v is not None})
        self.store.set_setting("prices", self.price_table_value().to_dict())
        self.store.set_setting("transparent_preview", self.transparent_preview.isChecked())
        if self._new_data_dir and not os.environ.get("GPTIMG_HOME"):
            set_data_dir_choice(Path(self._new_data_dir))  # takes effect at the next start
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    def _price_cell(self, row: int, col: int) -> float:
        spin = self.price_grid.cellWidget(row, col)
        return spin.value() if isinstance(spin, QDoubleSpinBox) else 0.0

    def price_table_value(self) -> PriceTable:
        overrides = {}
        for row, spec in enumerate(MODELS):
            values = {attr: self._price_cell(row, col) for col, (attr, _l) in enumerate(PRICE_COLUMNS)}
            base = spec.prices
            if any(abs(values[a] - getattr(base, a)) > 1e-9 for a in values):
                overrides[spec.name] = TokenPrices(
                    text_in=values["text_in"], text_in_cached=base.text_in_cached, image_in=values["image_in"],
                    image_in_cached=base.image_in_cached, image_out=values["image_out"], text_out=base.text_out,
                    confirmed=True,
                )
        return PriceTable(self.credits.value(), overrides)

    def price_table(self) -> PriceTable:
        return self.price_table_value()

    def transparent_preview_allowed(self) -> bool:
        return self.transparent_preview.isChecked()


__all__ = ["SettingsDialog"]
_ = Qt  # keep the import for enum lookups in subclasses
