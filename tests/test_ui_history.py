"""The history panel as a designer uses it: a version tree with branches, a timeline by day, filters, the
context menu and keyboard, thumbnails, the details pane with the cost ledger, and 10,000 versions.

Real SQLite files and real PNG files; widgets run offscreen.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.store import HistoryStore
from gptimg_desktop.ui.history.history_model import (
    CHILD_COUNT_ROLE,
    DAY_SUMMARY_ROLE,
    DEPTH_ROLE,
    KIND_ROLE,
    META_ROLE,
    TIME_ROLE,
    TIMELINE,
    TREE,
    HistoryModel,
    local_day,
)
from gptimg_desktop.ui.history.history_panel import HistoryView
from gptimg_desktop.ui.history.rerun_dialog import RerunDialog
from gptimg_desktop.ui.history.thumbnail_cache import ThumbnailCache

WAIT_MS = 10_000


class Clock:
    """Moves 1 ms per reading; tests jump it to place records on other days."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def png(color=(255, 0, 0), size=(32, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def clock():
    return Clock(dt.datetime.now(dt.UTC) - dt.timedelta(days=3))


@pytest.fixture
def store(tmp_path, clock):
    s = HistoryStore(tmp_path / "home", clock=clock)
    yield s
    s.close()


def make_version(store, prompt="a red chair", project=None, parent=None, color=(255, 0, 0), quality="high",
                 estimate=None, usage=None, cost=0.05, size=(32, 32)):
    job = store.create_job({"prompt": prompt, "n": 1}, "edit" if parent else "generate", "gpt-image-2", prompt,
                           project, parent.id if parent else None, estimate=estimate)
    store.mark_running(job.id)
    store.add_request_id(job.id, "req_test_123")
    version = store.add_version(job.id, png(color, size), "png", *size, quality, 0,
                                usage or Usage(100, 1000, 1100, 100, 0, 1000), cost, 60)
    store.mark_succeeded(job.id)
    return store.get_version(version.id)


@pytest.fixture
def family(store):
    """root ─┬─ edit1 ── edit1a      other (newest root)
             └─ edit2"""
    root = make_version(store, "A lighthouse at dusk", color=(200, 40, 40))
    edit1 = make_version(store, "Make the sky stormy", parent=root, color=(40, 200, 40))
    edit2 = make_version(store, "Add a red boat", parent=root, color=(40, 40, 200))
    edit1a = make_version(store, "More lightning", parent=edit1, color=(200, 200, 40))
    other = make_version(store, "Poster for a jazz festival", project="Posters", color=(120, 0, 160))
    return {"root": root, "edit1": edit1, "edit2": edit2, "edit1a": edit1a, "other": other}


@pytest.fixture
def view(qtbot, store):
    widget = HistoryView(store)
    qtbot.addWidget(widget)
    widget.resize(420, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def ids_under(model, parent_index=None):
    from PySide6.QtCore import QModelIndex

    parent_index = parent_index or QModelIndex()
    return [model.version_id(model.index(r, 0, parent_index)) for r in range(model.rowCount(parent_index))]


# ---------------------------------------------------------------------------------------------- tree and timeline
def test_the_tree_puts_edits_under_their_parent_and_shows_branches(view, family):
    view.refresh()
    model = view.model
    assert view.model is view.tree.model()
    assert ids_under(model) == [family["other"].id, family["root"].id]  # roots newest first
    root_index = model.index_for(family["root"].id)
    assert ids_under(model, root_index) == [family["edit1"].id, family["edit2"].id]  # children oldest first
    assert ids_under(model, model.index_for(family["edit1"].id)) == [family["edit1a"].id]
    assert root_index.data(CHILD_COUNT_ROLE) == 2  # the branch badge
    assert model.index_for(family["edit1a"].id).data(DEPTH_ROLE) == 2
    assert model.index_for(family["edit1a"].id).parent() == model.index_for(family["edit1"].id)
    assert model.tree_lines(model.index_for(family["edit1"].id)) == [True]  # edit2 follows at that level
    assert model.tree_lines(model.index_for(family["edit1a"].id)) == [True, False]
    assert root_index.data(META_ROLE) == "32×32 · high · 60 cr · $0.05"
    assert root_index.data() == "A lighthouse at dusk"
    assert view.tree.isExpanded(root_index)


def test_a_parent_filtered_out_makes_its_child_a_root(view, family):
    view.search.setText("lightning")
    view.refresh()
    assert ids_under(view.model) == [family["edit1a"].id]
    assert view.model.index_for(family["edit1a"].id).data(DEPTH_ROLE) == 0


def test_timeline_is_flat_newest_first_with_a_header_per_day(qtbot, view, store, clock):
    made = []
    for day in range(3):
        for i in range(2):
            made.append(make_version(store, f"day {day} image {i}"))
        clock.now += dt.timedelta(days=1)
    view.set_mode(TIMELINE)
    assert view.mode() == TIMELINE
    model = view.model
    kinds = [model.index(r, 0).data(KIND_ROLE) for r in range(model.rowCount())]
    versions_in_order = [model.version_id(model.index(r, 0)) for r in range(model.rowCount())
                         if kinds[r] == "version"]
    assert versions_in_order == [v.id for v in reversed(made)]
    days = {local_day(v.created_at) for v in made}
    assert kinds.count("day") == len(days) and kinds[0] == "day"
    header = model.index(0, 0)
    assert not header.flags() & Qt.ItemFlag.ItemIsSelectable  # keyboard moves skip headers
    newest_day = local_day(made[-1].created_at)
    on_newest_day = sum(1 for v in made if local_day(v.created_at) == newest_day)
    assert header.data(DAY_SUMMARY_ROLE) == f"{on_newest_day} versions · {on_newest_day * 60} cr"
    assert model.rowCount(model.index(1, 0)) == 0  # flat
    view.set_mode(TREE)
    assert model.mode() == TREE and model.rowCount() == 6


def test_day_labels_say_today_and_yesterday():
    from gptimg_desktop.store.history import VersionIndexRow

    days = [dt.date(2026, 5, 3), dt.date(2026, 5, 2), dt.date(2026, 4, 20), dt.date(2025, 12, 31)]
    rows = [
        VersionIndexRow(f"v{i}", None, f"prompt {i}", 1024, 1024, "low", 60, 0.05, 0,
                        dt.datetime(d.year, d.month, d.day, 12).astimezone().isoformat(), "images/x.png")
        for i, d in enumerate(days)
    ]
    model = HistoryModel(today=lambda: dt.date(2026, 5, 3))
    model.load(rows, TIMELINE)
    labels = [model.index(r, 0).data() for r in range(model.rowCount()) if model.index(r, 0).data(KIND_ROLE) == "day"]
    april, december = days[2], days[3]
    assert labels == ["Today", "Yesterday", f"{april:%A} 20 {april:%B}", f"{december:%A} 31 {december:%B} 2025"]
    model.load(rows, TREE)
    assert model.index(2, 0).data(TIME_ROLE) == "20 Apr" and model.index(0, 0).data(TIME_ROLE) == "12:00"


def test_search_is_debounced_and_star_and_project_filter(qtbot, view, store, family):
    view.refresh()
    assert view.model.version_count() == 5
    view.search.setText("stormy")
    assert view.model.version_count() == 5  # not yet: the search waits for typing to pause
    qtbot.waitUntil(lambda: view.model.version_count() == 1, timeout=WAIT_MS)
    assert view.model.version_ids() == [family["edit1"].id]
    view.search.clear()
    view.refresh()

    store.set_star(family["edit2"].id, True)
    view.starred_only.setChecked(True)  # refreshes at once
    assert view.model.version_ids() == [family["edit2"].id]
    view.starred_only.setChecked(False)

    index = view.project_combo.findData("Posters")
    assert index > 0 and "(1)" in view.project_combo.itemText(index)
    with qtbot.waitSignal(view.projectChanged) as changed:
        view.project_combo.setCurrentIndex(index)
        view.project_combo.activated.emit(index)
    assert changed.args == ["Posters"]
    assert view.model.version_ids() == [family["other"].id]
    view.set_project(None)
    assert view.model.version_count() == 5 and view.project is None


def test_empty_states_explain_what_to_do(view, store):
    view.refresh()
    assert view.empty.isVisible() and "No versions yet" in view.empty.text()
    make_version(store, "something")
    view.search.setText("nothing like this")
    view.refresh()
    assert "Nothing matches" in view.empty.text() and not view.tree.isVisible()


# ---------------------------------------------------------------------------------------------- actions
def test_context_menu_actions_emit_the_right_signals(qtbot, view, family):
    view.refresh()
    v = family["edit1"].id
    menu = view.context_menu_for(v)
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    expected = {
        "historyContinue": view.continueRequested,
        "historyRestoreInputs": view.restoreInputsRequested,
        "historyRerun": view.rerunRequested,
        "historyCompareParent": view.compareRequested,
        "historyExport": view.exportRequested,
        "historyExportBranch": view.exportBranchRequested,
    }
    for name, signal in expected.items():
        with qtbot.waitSignal(signal, timeout=1000) as blocker:
            actions[name].trigger()
        assert blocker.args == [v], name
    assert actions["historyStar"].text() == "Star"
    with qtbot.waitSignal(view.starToggled) as starred:
        actions["historyStar"].trigger()
    assert starred.args == [v, True]
    assert view.context_menu_for(v).findChild(type(actions["historyStar"]), "historyStar").text() == "Unstar"
    root_menu = view.context_menu_for(family["root"].id)
    assert not root_menu.findChild(type(actions["historyStar"]), "historyCompareParent").isEnabled()

    with qtbot.waitSignal(view.rerunWithChanges) as rerun:
        view.rerun_with_changes(v, {"quality": "low", "n": 3})
    assert rerun.args == [v, {"quality": "low", "n": 3}]


def test_rerun_dialog_reports_only_what_changed(qtbot):
    dialog = RerunDialog("A lighthouse", "gpt-image-2", "1024x1024", "high", 1)
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    dialog.set_values(quality="low", n=4)
    assert dialog.changes() == {"quality": "low", "n": 4}
    dialog.set_values(size="1536x1024")
    assert dialog.changes()["size"] == "1536x1024"


def test_compare_two_selected_versions_and_compare_with_a_picked_one(qtbot, view, family):
    view.refresh()
    sel = view.tree.selectionModel()
    sel.select(view.model.index_for(family["edit2"].id), sel.SelectionFlag.Select)
    sel.select(view.model.index_for(family["root"].id), sel.SelectionFlag.Select)
    assert view.selection_bar.isVisible() and view.compare_selected_button.isEnabled()
    with qtbot.waitSignal(view.compareRequested2) as both:
        view.compare_selected_button.click()
    assert both.args == [family["root"].id, family["edit2"].id]  # older first

    view.start_compare_pick(family["edit1a"].id)
    assert view.pick_banner.isVisible()
    with qtbot.assertNotEmitted(view.versionActivated), qtbot.waitSignal(view.compareRequested2) as picked:
        view.tree.setCurrentIndex(view.model.index_for(family["other"].id))
    assert picked.args == [family["edit1a"].id, family["other"].id]
    assert not view.pick_banner.isVisible()


def test_keyboard_moves_continues_and_stars(qtbot, view, store, family):
    view.refresh()
    view.tree.setFocus()
    with qtbot.waitSignal(view.versionActivated) as shown:
        view.tree.setCurrentIndex(view.model.index_for(family["root"].id))
    assert shown.args == [family["root"].id]
    with qtbot.waitSignal(view.versionActivated) as moved:
        QTest.keyClick(view.tree, Qt.Key.Key_Down)
    assert moved.args == [family["edit1"].id]
    assert view.details.version_id == family["edit1"].id
    with qtbot.waitSignal(view.continueRequested) as cont:
        QTest.keyClick(view.tree, Qt.Key.Key_Return)
    assert cont.args == [family["edit1"].id]
    with qtbot.waitSignal(view.starToggled) as star:
        QTest.keyClick(view.tree, Qt.Key.Key_S)
    assert star.args == [family["edit1"].id, True]
    assert store.get_version(family["edit1"].id).starred


def test_clicking_the_star_toggles_it_without_selecting_the_row(qtbot, view, store, family):
    view.refresh()
    index = view.model.index_for(family["edit2"].id)
    view.tree.scrollTo(index)  # rows are taller with 64 px thumbnails: bring the row into view first
    QApplication.processEvents()
    rect = view.tree.visualRect(index)
    star = view.delegate.star_rect(rect).center()
    with qtbot.waitSignal(view.starToggled) as toggled:
        QTest.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, star)
    assert toggled.args == [family["edit2"].id, True]
    assert store.get_version(family["edit2"].id).starred
    assert view.current_version_id() != family["edit2"].id


def test_clicking_a_row_activates_it_and_select_version_does_not(qtbot, view, family):
    view.refresh()
    with qtbot.assertNotEmitted(view.versionActivated, wait=150):
        view.select_version(family["edit1a"].id)
    assert view.current_version_id() == family["edit1a"].id
    rect = view.tree.visualRect(view.model.index_for(family["edit2"].id))
    with qtbot.waitSignal(view.versionActivated) as shown:
        QTest.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(rect.center().x() - 40, rect.center().y()))
    assert shown.args == [family["edit2"].id]


def test_folding_a_branch_survives_a_refresh(view, family):
    view.refresh()
    root = view.model.index_for(family["root"].id)
    view.tree.setExpanded(root, False)
    view.refresh()
    assert not view.tree.isExpanded(view.model.index_for(family["root"].id))
    assert view.tree.isExpanded(view.model.index_for(family["edit1"].id))


# ---------------------------------------------------------------------------------------------- thumbnails
def test_thumbnails_load_off_the_ui_thread_and_are_drawn(qtbot, view, family):
    view.refresh()
    root = family["root"]
    qtbot.waitUntil(lambda: view.thumbnails.contains(root.id), timeout=WAIT_MS)
    qtbot.wait(50)  # the batched repaint
    rect = view.tree.visualRect(view.model.index_for(root.id))
    thumb = view.delegate.thumb_rect(rect, view.model.index_for(root.id))
    pixel = QColor(view.tree.viewport().grab().toImage().pixel(thumb.center()))
    assert (pixel.red(), pixel.green(), pixel.blue()) == pytest.approx((200, 40, 40), abs=12)


def test_thumbnail_cache_is_lru_and_does_not_retry_missing_files(qtbot, tmp_path):
    cache = ThumbnailCache(capacity=2)
    paths = []
    for i in range(3):
        path = tmp_path / f"t{i}.png"
        path.write_bytes(png((i * 60, 0, 0)))
        paths.append(str(path))
    for i, path in enumerate(paths):
        assert cache.get(f"k{i}", path) is None  # a miss queues a load
        qtbot.waitUntil(lambda i=i: cache.contains(f"k{i}"), timeout=WAIT_MS)
    assert len(cache) == 2 and not cache.contains("k0") and cache.get("k2", paths[2]) is not None
    with qtbot.waitSignal(cache.thumbnailReady):
        cache.get("gone", str(tmp_path / "missing.png"))
    assert cache.failed("gone")
    assert cache.get("gone", str(tmp_path / "missing.png")) is None and cache.pending() == 0


# ---------------------------------------------------------------------------------------------- scale
@pytest.fixture
def big_store(tmp_path):
    s = HistoryStore(tmp_path / "big")
    job = s.create_job({}, "generate", "gpt-image-2", "a bulk prompt about a chair")
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        {"job_id": job.id, "id": f"b{i:05d}", "created_at": (base + dt.timedelta(minutes=7 * i)).isoformat(),
         "parent_id": f"b{i - 1:05d}" if i % 5 else None}  # chains of five: 2,000 roots
        for i in range(10_000)
    ]
    assert s._insert_versions_bulk(rows) == 10_000
    yield s
    s.close()


def test_ten_thousand_versions_open_and_scroll_to_the_end(qtbot, big_store):
    view = HistoryView(big_store)
    qtbot.addWidget(view)
    view.resize(420, 800)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    assert view.model.version_count() == 10_000
    assert view.model.rowCount() == 2_000
    assert view.model.index_for("b00004").data(DEPTH_ROLE) == 4
    view.tree.scrollToBottom()
    qtbot.wait(20)
    bar = view.tree.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    viewport = view.tree.viewport().rect()
    last = view.tree.indexAt(QPoint(viewport.center().x(), viewport.bottom() - 4))
    assert view.model.version_id(last) == "b00004"  # the oldest root's chain ends the tree

    view.set_mode(TIMELINE)
    days = len({local_day(f"{(dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * i)).isoformat()}")
                for i in range(0, 10_000, 1)})
    assert view.model.rowCount() == 10_000 + days
    view.tree.scrollToBottom()
    qtbot.wait(20)
    last = view.tree.indexAt(QPoint(viewport.center().x(), viewport.bottom() - 4))
    assert view.model.version_id(last) == "b00000"
    view.select_version("b05000")
    assert view.current_version_id() == "b05000"


# ---------------------------------------------------------------------------------------------- details
def test_details_show_estimate_next_to_what_was_recorded(qtbot, view, store):
    parent = make_version(store, "A fox in a scarf")
    estimate = {"credits": 60, "cost_usd": 0.21, "usage": {"output_tokens": 7024, "input_tokens": 300}}
    version = make_version(store, "Make the scarf yellow\nand keep the fox", parent=parent, estimate=estimate,
                           usage=Usage(300, 6100, 6400, 300, 0, 6100), cost=0.19)
    view.refresh()
    view.select_version(version.id)
    details = view.details
    assert details.version_id == version.id
    assert details.estimate.text() == "Estimate: ≈ 60 credits · $0.21 (7,024 tokens out)"
    assert details.recorded.text() == "Recorded: 60 credits · $0.19 (6,100 out, 300 in)"
    assert details.difference.text() == "10 % under the estimate."
    assert details.prompt.text() == "Make the scarf yellow\nand keep the fox"
    assert details.prompt.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert details._values["Model"].text() == "gpt-image-2"
    assert details._values["Request ids"].text() == "req_test_123"
    assert "Succeeded" in details._values["Job"].text()
    assert details.parent_button.text() == parent.id
    with qtbot.waitSignal(view.versionActivated) as shown:
        details.parent_button.click()
    assert shown.args == [parent.id] and view.current_version_id() == parent.id
    assert details.estimate.text() == "Estimate: none was recorded for this job."


def test_estimate_of_a_job_of_several_images_is_shown_per_image():
    from gptimg_desktop.ui.history.version_details import estimate_text

    text = estimate_text({"credits": 180, "cost_usd": 0.63, "usage": {"output_tokens": 21072}}, 3)
    assert text == "Estimate: ≈ 60 credits · $0.21 (7,024 tokens out) per image, job of 3"


def test_manage_projects_from_the_combo_switches_the_view(qtbot, view, family):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gptimg_desktop.ui.history.history_panel import MANAGE_PROJECTS

    view.refresh()
    manage = view.project_combo.findData(MANAGE_PROJECTS)
    assert manage > 0 and view.project_combo.itemText(manage) == "Manage projects…"

    def switch_in_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog.objectName() == "projectsDialog"
        dialog.select("Posters")
        dialog.switch_to_selected()

    QTimer.singleShot(100, switch_in_dialog)
    with qtbot.waitSignal(view.projectChanged, timeout=WAIT_MS) as changed:
        view.project_combo.setCurrentIndex(manage)
        view.project_combo.activated.emit(manage)
        assert view.project_combo.currentData() != MANAGE_PROJECTS  # the entry is an action, not a filter
    assert changed.args == ["Posters"]
    assert view.project == "Posters" and view.model.version_ids() == [family["other"].id]
    assert view.project_combo.currentData() == "Posters"


def test_clicking_the_current_row_again_shows_it_again(qtbot, view, family):
    view.refresh()
    view.select_version(family["edit2"].id)  # programmatic: nothing emitted
    rect = view.tree.visualRect(view.model.index_for(family["edit2"].id))
    with qtbot.waitSignal(view.versionActivated) as shown:
        QTest.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(rect.center().x() - 40, rect.center().y()))
    assert shown.args == [family["edit2"].id]
