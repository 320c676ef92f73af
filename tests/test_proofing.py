"""Text proofing on posters rendered here and read by the real OCR (rapidocr's bundled models, offline).

Correct text passes; a one-letter misspelling, a missing word and an extra word are each reported where they are.
"""

from __future__ import annotations

import pytest
from posters import Poster, busy_background, cjk_font, coffee_poster, overlap

from gptimg_desktop.core.proofing import compare
from gptimg_desktop.ocr.engine import shared_engine

EXPECTED = ["SUMMER SALE", "Fresh coffee every morning", "Open daily 7am"]


def proof(poster: Poster, expected, strict: bool = False):
    return compare(expected, shared_engine().read(poster.image, "full"), strict)


def line(report, expected):
    return next(entry for entry in report.lines if entry.expected == expected)


def test_a_correct_poster_passes():
    report = proof(coffee_poster(), EXPECTED)
    assert report.ok, report.to_json()
    assert report.score == 1.0 and report.problems == 0 and not report.extra
    assert all(entry.ok and entry.distance == 0 and entry.box for entry in report.lines)


def test_case_and_spacing_are_ignored_unless_strict():
    report = proof(coffee_poster(), ["Summer Sale", "fresh coffee every morning", "Open daily 7am"])
    assert report.ok
    strict = proof(coffee_poster(), ["Summer Sale", "fresh coffee every morning", "Open daily 7am"], strict=True)
    assert not strict.ok
    assert not line(strict, "Summer Sale").ok and line(strict, "Open daily 7am").ok


def test_a_one_letter_misspelling_is_reported_with_its_box():
    poster = coffee_poster(subline="Fresh coffee every mornimg")
    report = proof(poster, EXPECTED)
    bad = line(report, "Fresh coffee every morning")
    assert not report.ok and report.problems == 1
    assert not bad.ok and bad.distance == 1
    assert bad.found is not None and "mornimg" in bad.found
    assert [(d.op, d.expected, d.found) for d in bad.diffs] == [("replace", "n", "m")]
    assert overlap(bad.box, poster.boxes["Fresh coffee every mornimg"]) > 0.8
    assert line(report, "SUMMER SALE").ok and line(report, "Open daily 7am").ok
    assert 0.9 < report.score < 1.0


def test_a_missing_word_is_reported_with_the_box_of_its_line():
    poster = coffee_poster(footer="Open 7am")
    bad = line(proof(poster, EXPECTED), "Open daily 7am")
    assert not bad.ok and bad.distance == 5
    assert any(d.op == "missing" and d.expected == "daily" for d in bad.diffs)
    assert overlap(bad.box, poster.boxes["Open 7am"]) > 0.8


def test_an_extra_word_is_reported_with_its_box():
    poster = coffee_poster(extra="FREE WIFI")
    report = proof(poster, EXPECTED)
    assert all(entry.ok for entry in report.lines)
    assert not report.ok and report.problems == 1
    [extra] = report.extra
    assert extra.text.replace(" ", "").upper() == "FREEWIFI"
    assert overlap(extra.box, poster.boxes["FREE WIFI"]) > 0.8


def test_a_line_that_is_not_there_at_all_has_no_box():
    report = proof(coffee_poster(), [*EXPECTED, "Grand opening"])
    gone = line(report, "Grand opening")
    assert not gone.ok and gone.found is None and gone.box is None


@pytest.mark.parametrize(
    ("face", "size", "fill", "band"),
    [
        ("DejaVuSerif.ttf", 40, (250, 250, 250), (120, 30, 120)),
        ("DejaVuSansCondensed-Bold.ttf", 72, (240, 200, 20), None),
        ("DejaVuSans-ExtraLight.ttf", 64, (10, 10, 10), (250, 250, 250)),
    ],
    ids=["small-serif-white-on-purple", "condensed-yellow-on-busy", "light-black-on-white"],
)
def test_fonts_sizes_and_colours(face, size, fill, band):
    poster = Poster(busy_background(1024, 512, seed=size))
    poster.text((60, 200), "Handmade Pasta Night", face, size, fill, band=band)
    report = proof(poster, ["Handmade Pasta Night"])
    assert report.lines[0].ok, report.to_json()
    assert overlap(report.lines[0].box, poster.boxes["Handmade Pasta Night"]) > 0.8


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed (scripts/setup-env.sh test installs one)")
def test_chinese_text_passes_and_a_wrong_character_is_reported():
    face = str(cjk_font())
    good = Poster(busy_background(1024, 640, seed=3))
    good.text((80, 120), "夏季特卖", face, 120, (255, 255, 255), band=(200, 30, 30))
    good.text((80, 400), "全场五折", face, 80, (20, 20, 20), band=(250, 230, 120))
    report = proof(good, ["夏季特卖", "全场五折"])
    assert report.ok, report.to_json()

    bad = Poster(busy_background(1024, 640, seed=3))
    bad.text((80, 120), "夏季特买", face, 120, (255, 255, 255), band=(200, 30, 30))
    bad.text((80, 400), "全场五折", face, 80, (20, 20, 20), band=(250, 230, 120))
    wrong = line(proof(bad, ["夏季特卖", "全场五折"]), "夏季特卖")
    assert not wrong.ok and wrong.distance == 1
    assert [(d.op, d.expected, d.found) for d in wrong.diffs] == [("replace", "卖", "买")]
    assert overlap(wrong.box, bad.boxes["夏季特买"]) > 0.8
