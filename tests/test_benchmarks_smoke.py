"""The benchmark suite imports, registers every figure the issue asks for, and prints BENCH lines in the agreed form.

Nothing here times anything: targets live in benchmarks/, not in tests.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from benchmarks import (  # noqa: F401
    _util,
    bench_canvas,
    bench_history,
    bench_pipeline,
    bench_proof,
    bench_selection,
    bench_startup,
    run,
)

LINE = re.compile(r"^BENCH (\S+) (\S+) (\S+) target (<=|>=)(\S+) (ok|MISS)$")


def test_every_figure_of_the_issue_is_registered_once():
    names = [t.name for bench in _util.REGISTRY for t in bench.targets]
    assert len(names) == len(set(names))
    expected = {
        "canvas_stroke_event_3840x2160", "canvas_stroke_speedup_vs_full_overlay_3840x2160",
        "canvas_stroke_event_3840x3840", "canvas_stroke_speedup_vs_full_overlay_3840x3840",
        "canvas_undo_stroke_3840x2160", "canvas_redo_stroke_3840x2160", "canvas_undo_memory_100_strokes",
        "ui_max_stall_4k_masked_edit_3_partials", "ui_max_stall_4k_masked_edit_n4_no_stream",
        "peak_rss_gui_process_4k_session", "last_byte_to_canvas_4k", "prepare_inputs_reencoded", "mask_encode_3840x2160",
        "client_overhead_vs_openai_sdk", "history_first_paint_10000", "history_scroll_max_stall_10000",
        "cli_history_json_10000", "startup_warm_first_window", "peak_rss_4k_session",
        "selection_magic_wand_3840x2160", "selection_magic_wand_global_3840x2160", "selection_color_range_3840x2160",
        "selection_color_range_contiguous_3840x2160", "selection_magic_wand_speedup_vs_numpy_pass",
        "selection_color_range_speedup_vs_numpy_pass", "proof_poster_1536x1024",
    }
    assert set(names) == expected
    assert {b.group for b in _util.REGISTRY} == {"canvas", "jobs", "prepare", "client", "history", "startup", "selection", "proof"}


@pytest.mark.parametrize(
    ("value", "op", "bound", "verdict", "shown"),
    [
        (0.0873, "<=", 0.5, "ok", "0.0873"),
        (201.4, ">=", 20, "ok", "201"),
        (14.78, "<=", 5, "MISS", "14.8"),
        (1.2, "<=", 1.2, "ok", "1.20"),
        (0, "<=", 0, "ok", "0"),
        (1234.5, "<=", 1500, "ok", "1234"),
        (19.99, ">=", 20, "MISS", "20.0"),
    ],
)
def test_bench_line_format(value, op, bound, verdict, shown):
    target = _util.Target("some_figure", "ms", op, bound)
    line = _util.format_line(target.measured(value))
    match = LINE.match(line)
    assert match, line
    assert match.groups() == ("some_figure", shown, "ms", op, f"{bound:g}", verdict)


def test_a_figure_that_could_not_be_measured_is_a_miss_and_json_null():
    figure = _util.Target("x", "ms", "<=", 1).measured(math.nan, note="no data")
    assert _util.format_line(figure) == "BENCH x nan ms target <=1 MISS"
    data = figure.to_json()
    assert data["value"] is None and data["ok"] is False and json.dumps(data)


def test_targets_refuse_an_unknown_comparison():
    with pytest.raises(ValueError):
        _util.Target("x", "ms", "<", 1)


def test_quick_mode_picks_the_quick_value(tmp_path):
    assert _util.Context(quick=True, scratch=tmp_path).pick(300, 40) == 40
    assert _util.Context(quick=False, scratch=tmp_path).pick(300, 40) == 300


def test_run_refuses_an_unknown_group(capsys):
    assert run.main(["--only", "nonsense"]) == 2
    assert "unknown group" in capsys.readouterr().err


def test_machine_line_names_cores_cpu_python_and_qt():
    info = _util.machine()
    line = _util.machine_line(info)
    assert str(info["cores"]) in line and info["python"] in line and "Qt" in line
