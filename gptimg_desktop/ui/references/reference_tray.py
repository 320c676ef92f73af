"""The reference tray: images that guide an edit, each with a role, in the order they are sent.

Files are opened and thumbnailed in worker threads (Pillow), and pasted or dropped image data is
written to the scratch folder there too; results come back through queued signals. A file that is
not a usable image is refused with its name and the reason, and the other references stay.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ...core.prompt_roles import normalise_role, role_wording
from ...editor.references import reference_count_text
from ..common.panel_widgets import MessageStrip, hint_label
from ..theme.icons import icon
from ..theme.style import SPACING, Colors, set_role
from .reference_card import REORDER_MIME, ReferenceCard, ReferenceEntry
from .reference_loading import LoadedReference, LoadSignals, LoadTask, Reference, ReferenceSource

__all__ = ["MAX_IMAGES_PER_EDIT", "Reference", "ReferenceCard", "ReferenceTray"]

MAX_IMAGES_PER_EDIT = 16
_IMAGE_EXTENSIONS = "*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff"


class ReferenceTray(QWidget):
    """Reference cards with drop, paste, reorder and roles; loading happens off the UI thread."""

    changed = Signal()
    refused = Signal(str)
    useCurrentRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The pool is created before the signal object: children are destroyed in creation order,
        # so the pool waits for running loads while their signal object still exists.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = LoadSignals(self)
        self._signals.finished.connect(self._on_loaded, Qt.ConnectionType.QueuedConnection)
        self._tokens = itertools.count(1)
        self._entries: list[ReferenceEntry] = []
        self._limit = MAX_IMAGES_PER_EDIT
        self._canvas_counts = False
        self._scratch_dir: str | None = None
        self._refusals: list[str] = []
        self._refusal_count = 0

        self.setObjectName("referenceTray")
        self.setAccessibleName("Reference images")
        self.setAcceptDrops(True)
        self.setMinimumWidth(280)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        set_role(self, "panel")
        self._build()
        self._refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2 * SPACING, 2 * SPACING, 2 * SPACING, 2 * SPACING)
        layout.setSpacing(SPACING)
        head = QHBoxLayout()
        title = QLabel("References")
        title.setObjectName("referenceTitle")
        set_role(title, "title")
        head.addWidget(title)
        head.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("referenceCount")
        set_role(self.count_label, "hint")
        head.addWidget(self.count_label)
        layout.addLayout(head)
        self.limit_hint = hint_label("referenceLimitHint")
        layout.addWidget(self.limit_hint)

        buttons = QHBoxLayout()
        buttons.setSpacing(SPACING)
        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("addReferencesButton")
        self.add_button.setAccessibleName("Add reference images")
        self.add_button.setToolTip("Choose image files to add as references")
        self.add_button.clicked.connect(self._choose_files)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setObjectName("pasteReferenceButton")
        self.paste_button.setAccessibleName("Paste reference image")
        self.paste_button.setIcon(icon("paste", Colors.text, 14))
        self.paste_button.setToolTip("Paste an image from the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste_from_clipboard)
        buttons.addWidget(self.add_button, 1)
        buttons.addWidget(self.paste_button, 1)
        layout.addLayout(buttons)
        self.use_current_button = QPushButton("Use current version as a reference")
        self.use_current_button.setObjectName("useCurrentAsReferenceButton")
        self.use_current_button.setAccessibleName("Use current version as a reference")
        self.use_current_button.setToolTip("Add the image on the canvas, as it is now, to the references")
        self.use_current_button.clicked.connect(self.useCurrentRequested)
        layout.addWidget(self.use_current_button)

        self.message_strip = MessageStrip("referenceMessage", "error")
        self.message_strip.closed.connect(self._refusals.clear)
        layout.addWidget(self.message_strip)

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("referenceScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        set_role(self.scroll_area, "panel")
        holder = QWidget()
        self._cards_layout = QVBoxLayout(holder)
        self._cards_layout.setContentsMargins(0, 0, 0, 0)
        self._cards_layout.setSpacing(SPACING)
        self.empty_hint = QLabel(
            "Drop images here, paste with Ctrl+V, or choose Add…\n\n"
            "Give each one a role — subject, style, palette, layout or text/logo — "
            "and it is written into the prompt for you."
        )
        self.empty_hint.setObjectName("referenceEmptyHint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setMinimumHeight(120)
        self.empty_hint.setStyleSheet(
            f"color: {Colors.text_muted}; border: 1px dashed #50545c; border-radius: 6px; padding: 16px;"
        )
        self._cards_layout.addWidget(self.empty_hint)
        self._cards_layout.addStretch(1)
        self.scroll_area.setWidget(holder)
        layout.addWidget(self.scroll_area, 1)

    # ------------------------------------------------------------------ configuration
    def set_limit(self, n: int, canvas_counts: bool | None = None) -> None:
        """How many references fit: 15 when the canvas image goes first, 16 otherwise."""
        self._limit = max(0, int(n))
        self._canvas_counts = self._limit < MAX_IMAGES_PER_EDIT if canvas_counts is None else canvas_counts
        self._refresh()

    def limit(self) -> int:
        return self._limit

    def first_image_number(self) -> int:
        """The image number of the first reference: 2 when the canvas image is image 1."""
        return 2 if self._canvas_counts else 1

    def set_scratch_dir(self, path: str | os.PathLike[str]) -> None:
        self._scratch_dir = os.fspath(path)

    def scratch_dir(self) -> str:
        return self._scratch_dir or os.path.join(tempfile.gettempdir(), "gptimg-scratch")

    # ------------------------------------------------------------------ reading
    def references(self) -> list[Reference]:
        return [replace(e.reference, role=e.role, pinned=e.pinned) for e in self._entries if e.reference is not None]

    def count(self) -> int:
        return sum(1 for e in self._entries if e.reference is not None)

    def is_loading(self) -> bool:
        return any(e.loading for e in self._entries)

    def role_wording(self) -> str:
        """The prompt sentences for the current roles, numbered from first_image_number()."""
        return role_wording(self.references(), self.first_image_number())

    def header_text(self) -> str:
        """E.g. "References (3 of 15 — with the canvas image, at most 16)"."""
        n = len(self._entries)
        if self._canvas_counts:
            return f"References ({n} of {self._limit} — with the canvas image, at most {self._limit + 1})"
        return f"References ({n} of {self._limit})"

    def message(self) -> str:
        return self.message_strip.message()

    def cards(self) -> list[ReferenceCard]:
        return [e.card for e in self._entries if e.card is not None]

    def wait_for_loads(self, msecs: int = 10_000) -> bool:
        """Block until queued loads finish (tests, shutdown). Results still arrive as queued signals."""
        return self._pool.waitForDone(msecs)

    # ------------------------------------------------------------------ adding
    def add_files(self, paths: list[str] | tuple[str, ...], roles: list[str | None] | None = None) -> int:
        """Queue image files; returns how many were queued (the rest were refused)."""
        queued = 0
        for i, path in enumerate(paths):
            path = os.fspath(path)
            role = roles[i] if roles and i < len(roles) else None
            if any(e.reference is not None and e.reference.path == path for e in self._entries):
                self._refuse(f"{os.path.basename(path)} is already in the references.")
                continue
            if self._queue(ReferenceSource(label=os.path.basename(path), path=path), role):
                queued += 1
        return queued

    def add_image_file(self, path: str | os.PathLike[str], role: str | None = None) -> bool:
        return self.add_files([os.fspath(path)], [role]) == 1

    def add_image(self, image: QImage, label: str = "Pasted image") -> bool:
        """Queue image pixels (pasted or dropped); they are written to a PNG in the scratch folder."""
        if image.isNull():
            self._refuse(f"{label} was not added: the clipboard image is empty.")
            return False
        return self._queue(ReferenceSource(label=label, image=image.copy()), None)

    def set_references(self, references: list[Reference]) -> None:
        """Restore a saved tray (e.g. from a history version): cards appear at once, thumbnails follow."""
        self.clear()
        for ref in references[: self._limit]:
            self._queue(ReferenceSource(label=ref.name, path=ref.path), normalise_role(ref.role), known=ref)
        if len(references) > self._limit:
            self._refuse(f"{len(references) - self._limit} saved references did not fit and were left out.")
        self.changed.emit()

    def _queue(self, source: ReferenceSource, role: str | None, known: Reference | None = None) -> bool:
        if len(self._entries) >= self._limit:
            self._refuse(self._limit_message(source.label))
            return False
        entry = ReferenceEntry(next(self._tokens), source.label, normalise_role(role), reference=known)
        self._add_card(entry)
        self._entries.append(entry)
        self._refresh()
        self._pool.start(LoadTask(entry.token, source, self.scratch_dir(), self._signals))
        return True

    def _limit_message(self, label: str) -> str:
        if self._canvas_counts:
            total = self._limit + 1
            return (
                f"At most {total} images per edit, counting the canvas image; "
                f"remove one first ({label} was not added)."
            )
        return f"At most {self._limit} images per edit; remove one first ({label} was not added)."

    def _on_loaded(self, token: int, result: object) -> None:
        entry = next((e for e in self._entries if e.token == token), None)
        if entry is None:
            return  # removed or cleared while loading
        if isinstance(result, LoadedReference):
            entry.loading = False
            entry.reference = result.reference
            if entry.card is not None:
                entry.card.set_thumbnail(result.thumbnail)
            self._refresh()
            self.changed.emit()
        else:
            had_reference = entry.reference is not None
            self._drop_entry(entry)
            self._refuse(str(result))
            if had_reference:
                self.changed.emit()

    def _refuse(self, message: str) -> None:
        self._refusal_count += 1
        self._refusals = (self._refusals + [message])[-3:]
        self.message_strip.show_message("\n".join(self._refusals))
        self.refused.emit(message)

    # ------------------------------------------------------------------ editing
    def remove(self, index: int) -> None:
        if 0 <= index < len(self._entries):
            entry = self._entries[index]
            had_reference = entry.reference is not None
            self._drop_entry(entry)
            if had_reference:
                self.changed.emit()

    def move_reference(self, from_index: int, to_index: int) -> None:
        n = len(self._entries)
        if not (0 <= from_index < n):
            return
        to_index = max(0, min(to_index, n - 1))
        if to_index == from_index:
            return
        entry = self._entries.pop(from_index)
        self._entries.insert(to_index, entry)
        self._refresh()
        self.changed.emit()

    def set_role(self, index: int, role: str | None) -> None:
        if 0 <= index < len(self._entries):
            self._entries[index].role = normalise_role(role)
            self._refresh()
            self.changed.emit()

    def set_pinned(self, index: int, pinned: bool) -> None:
        """A pinned reference stays when another image is opened."""
        if 0 <= index < len(self._entries) and self._entries[index].pinned != bool(pinned):
            self._entries[index].pinned = bool(pinned)
            self._refresh()
            self.changed.emit()

    def show_references(self, references: list[Reference]) -> None:
        """Follow the document: keep the cards it still has (in its order), load the ones it gained."""
        if references == self.references():
            return
        by_path = {e.reference.path: e for e in self._entries if e.reference is not None}
        if all(r.path in by_path for r in references):
            keep = [by_path[r.path] for r in references]
            for entry in list(self._entries):
                if entry not in keep:
                    self._drop_entry(entry, refresh=False)
            for entry, ref in zip(keep, references, strict=True):
                entry.role, entry.pinned = normalise_role(ref.role), ref.pinned
            self._entries = keep
            self._refresh()
            self.changed.emit()
            return
        self.set_references(references)

    def clear(self) -> None:
        had = self.count() > 0
        for entry in list(self._entries):
            self._drop_entry(entry, refresh=False)
        self._refusals.clear()
        self.message_strip.dismiss()
        self._refresh()
        if had:
            self.changed.emit()

    def _drop_entry(self, entry: ReferenceEntry, refresh: bool = True) -> None:
        if entry in self._entries:
            self._entries.remove(entry)
        if entry.card is not None:
            entry.card.hide()
            entry.card.deleteLater()
            entry.card = None
        if refresh:
            self._refresh()

    # ------------------------------------------------------------------ cards
    def _add_card(self, entry: ReferenceEntry) -> None:
        card = ReferenceCard(entry)
        card.roleChanged.connect(self._on_card_role)
        card.removeRequested.connect(lambda c: self.remove(self._index_of(c)))
        card.pinChanged.connect(lambda c, on: self.set_pinned(self._index_of(c), on))
        card.moveRequested.connect(lambda c, to: self.move_reference(self._index_of(c), to))
        entry.card = card

    def _index_of(self, card: ReferenceCard) -> int:
        return next((i for i, e in enumerate(self._entries) if e.card is card), -1)

    def _on_card_role(self, card: ReferenceCard, role: str | None) -> None:
        index = self._index_of(card)
        if index >= 0:
            self._entries[index].role = role
            self.changed.emit()

    def _refresh(self) -> None:
        """Lay the cards out in entry order and update numbers, header and buttons."""
        start = self.first_image_number()
        for i, entry in enumerate(self._entries):
            card = entry.card
            if card is None:
                continue
            if self._cards_layout.indexOf(card) != i + 1:
                self._cards_layout.removeWidget(card)
                self._cards_layout.insertWidget(i + 1, card)  # slot 0 is the empty hint
            card.setProperty("trayIndex", i)
            card.index = start + i
            card.refresh()
            card.show()
        self.empty_hint.setVisible(not self._entries)
        n = len(self._entries)
        # The tray and the label beside Run say the same thing: how many references go with the next run.
        self.count_label.setText(reference_count_text(self.count()))
        self.count_label.setToolTip(f"{n} of {self._limit} places used")
        self.setAccessibleDescription(self.header_text())
        canvas_note = f"With the canvas image, at most {self._limit + 1} images go into one edit."
        full = n >= self._limit
        if full:
            self.limit_hint.setText("The tray is full: remove a reference to add another.")
        else:
            self.limit_hint.setText(canvas_note if self._canvas_counts else "")
        self.limit_hint.setVisible(bool(self.limit_hint.text()))
        for button in (self.add_button, self.paste_button, self.use_current_button):
            button.setEnabled(not full)

    # ------------------------------------------------------------------ paste and drop
    def paste_from_clipboard(self) -> int:
        """Add what the clipboard holds: image data, copied files or a data: URL. Returns 1 if queued."""
        mime = QGuiApplication.clipboard().mimeData()
        refusals_before = self._refusal_count
        if mime is not None and self._add_from_mime(mime, "Pasted image"):
            return 1
        if self._refusal_count == refusals_before:  # nothing usable, and nothing said yet
            self._refuse("The clipboard has no image: copy an image or an image file, then paste.")
        return 0

    def _add_from_mime(self, mime: QMimeData, label: str) -> bool:
        urls = mime.urls() if mime.hasUrls() else []
        local = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if local:
            return self.add_files(local) > 0
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QPixmap):
                image = image.toImage()
            if isinstance(image, QImage) and not image.isNull():
                return self.add_image(image, label)
        texts = [u.toString() for u in urls]
        if not texts and mime.hasText():
            texts = [t.strip() for t in mime.text().splitlines() if t.strip()]
        queued = False
        for text in texts:
            if text.startswith("data:"):
                queued = self._queue(ReferenceSource(label="the dropped image", data_url=text), None) or queued
            elif text.startswith(("http://", "https://", "ftp://")):
                name = os.path.basename(QUrl(text).path()) or QUrl(text).host()
                self._refuse(
                    f"{name} is a link to an image on the web, and the app doesn't download it. "
                    "Drag the image itself, or save it first."
                )
        return queued

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        # Plain text is only taken when it is a data: URL (decoded) or a web link (refused with a reason).
        link = mime.hasText() and mime.text().lstrip().startswith(("data:", "http://", "https://"))
        if mime.hasFormat(REORDER_MIME) or mime.hasUrls() or mime.hasImage() or link:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(REORDER_MIME):
            from_index = int(mime.data(REORDER_MIME).toStdString() or -1)
            slot = self._drop_index(event.position().toPoint())
            # ``slot`` counts the dragged card itself; once it is taken out, later slots shift up by one.
            self.move_reference(from_index, slot - 1 if slot > from_index else slot)
            event.acceptProposedAction()
            return
        self._add_from_mime(mime, "Dropped image")
        event.acceptProposedAction()

    def _drop_index(self, pos: QPoint) -> int:
        """The card slot under ``pos`` (tray coordinates): before the first card whose middle is below it."""
        for i, card in enumerate(self.cards()):
            middle = card.mapTo(self, card.rect().center())
            if pos.y() < middle.y():
                return i
        return len(self._entries)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste_from_clipboard()
            return
        super().keyPressEvent(event)

    def _choose_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Add reference images", str(Path.home()), f"Images ({_IMAGE_EXTENSIONS});;All files (*)"
        )
        if paths:
            self.add_files(paths)
