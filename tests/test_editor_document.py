"""The editor document without a window: what it sends, what opening an image does, finalize, restore, autosave.

Real images, a real history folder and real HTTP to the local dev server; no MainWindow.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

from gptimg_desktop.core.errors import RequestRefused
from gptimg_desktop.editor.autosave import SessionAutosave
from gptimg_desktop.editor.document import EditMode, EditorDocument, ImageSource
from gptimg_desktop.editor.images import ImageController
from gptimg_desktop.editor.jobs import JobStatus
from gptimg_desktop.editor.prompt_settings import PromptSettings
from gptimg_desktop.editor.references import Reference, reference_count_text
from gptimg_desktop.editor.versions import VersionController
from gptimg_desktop.jobs.pipeline import JobPipeline, prepare
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store.history import HistoryStore

TIMEOUT_MS = 20_000


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def pipeline(store, dev_server):
    client = ImagesClient(ProviderConfig(kind="compatible", base_url=dev_server.url, api_key="sk-test-document"),
                          sleep=lambda s: None)
    yield JobPipeline(store, client)
    client.close()


def _photo(path, size=(1536, 1024), colour=(40, 90, 160)) -> str:
    Image.new("RGB", size, colour).save(path)
    return str(path)


def _qimage(size=(1536, 1024), colour: QColor | None = None) -> QImage:
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    image.fill(colour or QColor(40, 90, 160))
    return image


def _paint(doc: EditorDocument, rect: QRect) -> None:
    """What the canvas does for a rectangle selection: paint into the document's mask, then commit the step."""
    assert doc.mask is not None
    before = doc.mask.array()
    dirty = doc.mask.fill_rect(rect, subtract=False)
    r = dirty
    doc.commit_mask_edit(r.left(), r.top(), before[r.top(): r.bottom() + 1, r.left(): r.right() + 1],
                         doc.mask.read_rect(r), "Add selection")


def _open(qtbot, doc: EditorDocument, images: ImageController, path: str) -> None:
    with qtbot.waitSignal(images.idle, timeout=TIMEOUT_MS):
        images.open_file(path)


def test_open_paint_and_run_builds_the_edit_at_the_canvas_size(qapp, qtbot, tmp_path, store, pipeline, dev_server):
    doc = EditorDocument()
    images = ImageController(doc, store)
    # The generation size chosen earlier (a tall poster) must not leak into an edit of a wide photo.
    doc.set_settings(PromptSettings(prompt="a red kite in the sky", size="1024x1536", quality="low"))
    _open(qtbot, doc, images, _photo(tmp_path / "photo.png"))
    original = store.get_version(doc.source.version_id)
    assert original is not None and original.kind == "original" and original.cost_usd == 0
    _paint(doc, QRect(100, 100, 300, 200))
    assert doc.mode() == EditMode.MASKED_EDIT

    spec = doc.build_spec()
    assert spec.request.size == "1536x1024"
    assert spec.canvas_image and spec.images[0] == str(tmp_path / "photo.png")
    assert spec.mask is not None and spec.mask.shape == (1024, 1536) and spec.mask[150, 150] == 255
    assert spec.parent_version_id == original.id
    prepare(spec).request.validate()  # the request the pipeline would send is valid as built

    outcome = pipeline.run(spec)
    assert outcome.status == "succeeded"
    sent = dev_server.requests[-1]
    assert sent.path.endswith("/images/edits") and sent.fields["size"] == "1536x1024"
    assert outcome.versions[0].parent_id == original.id
    assert (outcome.versions[0].width, outcome.versions[0].height) == (1536, 1024)


def test_a_canvas_size_the_model_refuses_is_said_before_sending_and_crop_or_pad_fixes_it(qapp):
    doc = EditorDocument()
    doc.open_image(_qimage((1000, 750)), ImageSource())
    problem = doc.edit_size_problem()
    assert problem and "1000x750" in problem and "multiples of 16" in problem
    with pytest.raises(RequestRefused, match="Crop or pad"):
        doc.build_spec()
    assert str(doc.fit_canvas("crop")) == "992x736"
    assert doc.build_spec().request.size == "992x736"
    doc.undo()  # the crop is one undo step
    assert doc.canvas_size() == (1000, 750)
    padded = doc.fit_canvas("pad")
    assert padded.width >= 1000 and padded.height >= 750 and doc.edit_size_problem() is None


def test_opening_another_image_clears_the_mask_undoably_and_keeps_only_pinned_references(qapp, tmp_path):
    doc = EditorDocument()
    doc.open_image(_qimage(), ImageSource(path="first.png"))
    doc.expand_canvas(0, 0, 288, 0)  # Expand Canvas masks the new strip
    assert doc.has_mask() and doc.canvas_size() == (1824, 1024)
    doc.set_references([Reference(_photo(tmp_path / "style.png", (512, 512)), "style", 512, 512, pinned=True),
                        Reference(_photo(tmp_path / "product.png", (512, 512)), None, 512, 512)])

    doc.open_image(_qimage((1024, 1024)), ImageSource(path="second.png"))
    assert not doc.has_mask() and doc.mode() == EditMode.EDIT
    assert [r.name for r in doc.references()] == ["style.png"]
    assert reference_count_text(len(doc.references())) == "+1 reference"
    spec = doc.build_spec()
    assert spec.mask is None and spec.request.size == "1024x1024"

    doc.undo()  # Ctrl+Z brings back the expanded first image with its mask
    assert doc.canvas_size() == (1824, 1024) and doc.has_mask() and doc.source.path == "first.png"
    assert [r.name for r in doc.references()] == ["style.png", "product.png"]  # nothing the user added is lost
    doc.undo()  # and then takes back the expansion itself
    assert doc.canvas_size() == (1536, 1024) and not doc.has_mask()


def test_finalize_reruns_the_versions_own_request_at_high_as_a_sibling(qapp, qtbot, tmp_path, store, pipeline):
    doc = EditorDocument()
    images = ImageController(doc, store)
    versions = VersionController(doc, store, images)
    doc.set_settings(PromptSettings(prompt="a lighthouse at dusk", size="1536x1024", quality="low", stream=False, partial_images=0))
    draft = pipeline.run(doc.build_spec()).versions[0]

    spec = versions.finalize_spec(draft.id)
    assert spec.request.quality == "high" and spec.request.kind == "generate"
    assert spec.request.prompt == "a lighthouse at dusk" and spec.request.size == "1536x1024"
    assert spec.parent_version_id is None and not spec.images  # a generation stays a generation
    final = pipeline.run(spec).versions[0]
    assert final.quality == "high" and final.parent_id == draft.parent_id

    # An edit stays an edit: same canvas input and mask, same parent (a sibling of the draft edit).
    _open(qtbot, doc, images, _photo(tmp_path / "photo.png"))
    _paint(doc, QRect(0, 0, 400, 400))
    doc.set_settings(PromptSettings(prompt="add a boat", quality="low", stream=False, partial_images=0))
    edit = pipeline.run(doc.build_spec()).versions[0]
    spec = versions.finalize_spec(edit.id)
    assert spec.request.quality == "high" and spec.canvas_image and spec.mask is not None
    assert spec.request.size == "1536x1024" and spec.parent_version_id == edit.parent_id
    with pytest.raises(RequestRefused):
        versions.finalize_spec(doc.source.version_id or "")  # an opened original has no request


def test_restore_inputs_round_trips(qapp, qtbot, tmp_path, store, pipeline):
    doc = EditorDocument()
    images = ImageController(doc, store)
    _open(qtbot, doc, images, _photo(tmp_path / "photo.png"))
    _paint(doc, QRect(200, 100, 300, 300))
    ref = _photo(tmp_path / "ref.png", (640, 640), (200, 30, 30))
    doc.set_references([Reference(ref, "style", 640, 640)])
    doc.set_settings(PromptSettings(prompt="paint it like the reference", quality="medium", stream=False, partial_images=0))
    sent = doc.build_spec()
    version = pipeline.run(sent).versions[0]

    fresh = EditorDocument()
    fresh_images = ImageController(fresh, store)
    controller = VersionController(fresh, store, fresh_images)
    with qtbot.waitSignal(controller.restored, timeout=TIMEOUT_MS):
        controller.restore_inputs(version.id)
    assert fresh.settings().prompt == "paint it like the reference" and fresh.settings().quality == "medium"
    assert fresh.canvas_size() == (1536, 1024) and fresh.source.version_id == sent.parent_version_id
    assert np.array_equal(fresh.mask_array() > 127, sent.mask > 127)
    assert [(r.role, r.width) for r in fresh.references()] == [("style", 640)]
    again = fresh.build_spec()
    assert again.request.size == sent.request.size and again.request.prompt == sent.request.prompt
    assert again.parent_version_id == sent.parent_version_id


def test_rerun_waits_for_the_restored_signal_not_a_poll(qapp, qtbot, store, pipeline):
    doc = EditorDocument()
    controller = VersionController(doc, store, ImageController(doc, store))
    doc.set_settings(PromptSettings(prompt="a quiet harbour", size="1024x1024", quality="low", stream=False, partial_images=0))
    version = pipeline.run(doc.build_spec()).versions[0]
    doc.set_settings(PromptSettings(prompt="something else"))
    with qtbot.waitSignal(controller.runRequested, timeout=TIMEOUT_MS):
        controller.rerun(version.id, {"quality": "high"})
    assert doc.settings().prompt == "a quiet harbour" and doc.settings().quality == "high"


def test_autosave_round_trips(qapp, qtbot, tmp_path):
    doc = EditorDocument()
    doc.open_image(_qimage((1024, 1024), QColor(10, 200, 30)), ImageSource())  # unsaved pixels, no file
    _paint(doc, QRect(10, 20, 100, 50))
    ref = _photo(tmp_path / "ref.png", (512, 512))
    doc.set_references([Reference(ref, "style", 512, 512, pinned=True)])
    doc.set_settings(PromptSettings(prompt="autosaved prompt", quality="high"))
    saver = SessionAutosave(doc, tmp_path / "session", delay_ms=50)
    saver.flush()
    saver.stop()  # the app "dies" here: the session is not marked clean

    back = EditorDocument()
    restorer = SessionAutosave(back, tmp_path / "session", delay_ms=50)
    with qtbot.waitSignal(restorer.restored, timeout=TIMEOUT_MS):
        assert restorer.restore()
    assert back.settings().prompt == "autosaved prompt" and back.settings().quality == "high"
    assert back.canvas_size() == (1024, 1024) and back.image().pixelColor(500, 500) == QColor(10, 200, 30)
    assert np.array_equal(back.mask_array(), doc.mask_array())
    (kept,) = back.references()  # a file in the temp folder is copied into the session, bytes unchanged
    assert (kept.role, kept.width, kept.height, kept.pinned) == ("style", 512, 512, True)
    assert open(kept.path, "rb").read() == open(ref, "rb").read()
    restorer.stop()


def test_job_status_is_one_enum_with_the_history_values():
    assert [s.value for s in JobStatus] == ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
    assert JobStatus.RUNNING.active and not JobStatus.FAILED.active


def test_the_editor_layer_imports_no_widgets():
    """import-linter can't see inside PySide6 (compiled), so the 'no QtWidgets in editor/' rule is checked here."""
    import ast
    from pathlib import Path

    import gptimg_desktop.editor as editor

    offenders = []
    for path in Path(editor.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if "QtWidgets" in n or n.startswith("gptimg_desktop.ui")]
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and (node.module or "").startswith("ui"):
                offenders.append(f"{path.name}: ..{node.module}")
    assert offenders == []
