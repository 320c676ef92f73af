"""Canvas benchmarks: a 300-event brush stroke on 4K images (against a full-overlay baseline), undo/redo, undo memory.

Real ImageCanvas in a shown 1600x900 window, fitted; events go through QTest and each one is timed together
with the repaint it caused (the event loop is run until the dirty region is painted).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Iterator

import numpy as np

from ._util import Context, Figure, Target, benchmark, median, ms, qt_app, synthetic_photo, wandering_stroke

VIEW_W, VIEW_H = 1600, 900
STROKE_EVENTS = 300
STROKE_STEP = 20.0  # image px between mouse events: ~7 widget px at fit zoom, a brisk hand movement
UNDO_STROKES = 100

SIZES = ((3840, 2160), (3840, 3840))
EVENT_TARGETS = {size: Target(f"canvas_stroke_event_{size[0]}x{size[1]}", "ms", "<=", 0.5) for size in SIZES}
SPEEDUP_TARGETS = {
    size: Target(f"canvas_stroke_speedup_vs_full_overlay_{size[0]}x{size[1]}", "x", ">=", 20) for size in SIZES
}
UNDO = Target("canvas_undo_stroke_3840x2160", "ms", "<=", 5)
REDO = Target("canvas_redo_stroke_3840x2160", "ms", "<=", 5)
UNDO_MEMORY = Target("canvas_undo_memory_100_strokes", "MB", "<=", 50)


def _canvas_class():
    from gptimg_desktop.ui.canvas.canvas import ImageCanvas

    class FullOverlayCanvas(ImageCanvas):
        """The baseline: every event recomposites the whole tint overlay from the mask and repaints the whole view."""

        def _paint(self, centres):
            super()._paint(centres)
            if centres:
                self._layer._rebuild_tint(self._layer.bounds())
                self.update()

    return ImageCanvas, FullOverlayCanvas


def _qimage(pixels: np.ndarray):
    from PySide6.QtGui import QImage

    h, w, _ = pixels.shape
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _shown_canvas(cls, image):
    from PySide6.QtTest import QTest

    canvas = cls()
    canvas.resize(VIEW_W, VIEW_H)
    canvas.show()
    QTest.qWaitForWindowExposed(canvas)
    canvas.set_image(image)
    canvas.fit_to_window()
    qt_app().processEvents()
    return canvas


def _widget_points(canvas, points):
    from PySide6.QtCore import QPointF

    out = []
    for x, y in points:
        p = canvas.image_to_widget(QPointF(x, y))
        out.append(p.toPoint())
    return out


def _stroke(canvas, points, time_events: bool) -> list[float]:
    """Press, move through ``points`` (widget px), release; per-move seconds including the repaint."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = qt_app()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mousePress(canvas, left, none, points[0])
    app.processEvents()
    times = []
    for p in points[1:]:
        start = time.perf_counter()
        QTest.mouseMove(canvas, p)
        if time_events:
            app.processEvents()  # the UpdateRequest: paints exactly what the event made dirty
            times.append(time.perf_counter() - start)
    QTest.mouseRelease(canvas, left, none, points[-1])
    app.processEvents()
    return times


def _stroke_points(canvas, size, events: int, seed: int = 1):
    return _widget_points(canvas, wandering_stroke(size[0], size[1], events + 1, STROKE_STEP, seed))


@benchmark("canvas", *EVENT_TARGETS.values(), *SPEEDUP_TARGETS.values(), UNDO, REDO, UNDO_MEMORY)
def bench_canvas(ctx: Context) -> Iterator[Figure]:
    qt_app()
    real_cls, baseline_cls = _canvas_class()
    baseline_events = ctx.pick(STROKE_EVENTS, 40)
    for size in SIZES:
        image = _qimage(synthetic_photo(*size, seed=7))
        canvas = _shown_canvas(real_cls, image)
        points = _stroke_points(canvas, size, STROKE_EVENTS)
        _stroke(canvas, points[:20], time_events=False)  # warm-up: stamp cache, first paint paths
        canvas.clear_mask()
        real = _stroke(canvas, points, time_events=True)
        if size == (3840, 2160):
            undo_figures = list(_undo_redo(ctx, canvas))
        canvas.close()
        canvas.deleteLater()

        baseline = _shown_canvas(baseline_cls, image)
        base_times = _stroke(baseline, points[: baseline_events + 1], time_events=True)
        baseline.close()
        baseline.deleteLater()
        real_ms, base_ms = ms(median(real)), ms(median(base_times))
        yield EVENT_TARGETS[size].measured(
            real_ms, events=len(real), p95_ms=round(ms(float(np.percentile(real, 95))), 3),
            max_ms=round(ms(max(real)), 3), view=f"{VIEW_W}x{VIEW_H}", zoom=round(canvas.zoom(), 3),
        )
        yield SPEEDUP_TARGETS[size].measured(
            base_ms / real_ms, baseline_ms_per_event=round(base_ms, 2), baseline_events=len(base_times),
            real_ms_per_event=round(real_ms, 3),
        )
        if size == (3840, 2160):
            yield from undo_figures
        del image
        gc.collect()
    yield _undo_memory(ctx)


def _undo_redo(ctx: Context, canvas) -> Iterator[Figure]:
    """Undo and redo of the stroke just painted, each timed with its repaint; median of several rounds."""
    app = qt_app()
    stack = canvas.undo_stack()
    edit = stack._undo[-1] if stack.can_undo() else None
    undo_t, redo_t = [], []
    for _ in range(ctx.pick(15, 5)):
        start = time.perf_counter()
        canvas.undo()
        app.processEvents()
        undo_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        canvas.redo()
        app.processEvents()
        redo_t.append(time.perf_counter() - start)
    rect = f"{edit.width}x{edit.height}" if edit is not None else "none"
    yield UNDO.measured(ms(median(undo_t)), max_ms=round(ms(max(undo_t)), 2), rounds=len(undo_t), stroke_rect=rect)
    yield REDO.measured(ms(median(redo_t)), max_ms=round(ms(max(redo_t)), 2), rounds=len(redo_t), stroke_rect=rect)


def _undo_memory(ctx: Context) -> Figure:
    """Python-heap memory still held after 100 different 300-event strokes (the undo steps and anything else)."""
    real_cls, _ = _canvas_class()
    image = _qimage(synthetic_photo(3840, 2160, seed=8))
    canvas = _shown_canvas(real_cls, image)
    events = ctx.pick(STROKE_EVENTS, 150)
    strokes = [_stroke_points(canvas, (3840, 2160), events, seed=1000 + i) for i in range(UNDO_STROKES)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for points in strokes:
        _stroke(canvas, points, time_events=False)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    stack = canvas.undo_stack()
    figure = UNDO_MEMORY.measured(
        held / 1e6, strokes=UNDO_STROKES, events_per_stroke=events, steps_kept=stack.undo_count,
        compressed_payload_mb=round(stack.memory_bytes / 1e6, 2),
        note="" if stack.undo_count == UNDO_STROKES else f"only {stack.undo_count} steps kept",
    )
    canvas.close()
    canvas.deleteLater()
    return figure
