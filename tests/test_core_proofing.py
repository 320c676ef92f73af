"""core.proofing without OCR: expected text from prompts and templates, and the comparison rules on readings."""

from __future__ import annotations

import json

from gptimg_desktop.core.proofing import (
    Reading,
    compare,
    expected_from_fields,
    expected_from_prompt,
    parse_expected_list,
    reading_order,
)


def test_expected_text_comes_from_every_kind_of_quote_and_not_from_apostrophes():
    prompt = ('A cafe poster with the headline "MORNING BREW", the tagline “Roasted daily”, a label \'Oat latte\', '
              "a Japanese sign 「営業中」 — don't add anything else; it's for Joe's shop. \"MORNING BREW\" again.")
    assert expected_from_prompt(prompt) == ["MORNING BREW", "Roasted daily", "Oat latte", "営業中"]
    assert expected_from_prompt("no quotes here, isn't it") == []
    assert expected_from_prompt('an empty "" and a symbol "—"') == []


def test_expected_text_from_template_fields_and_the_editable_list():
    fields = {"headline": "Summer  Sale", "body": "Line one\nLine two", "colour": 3, "note": "internal"}
    assert expected_from_fields(fields, names=["headline", "body"]) == ["Summer Sale", "Line one", "Line two"]
    assert parse_expected_list("  SALE \n\n50%  off\nSALE\n") == ["SALE", "50% off"]


def test_readings_are_put_in_reading_order_even_when_the_ocr_lists_them_otherwise():
    r = [Reading("world", (300, 12, 400, 48)), Reading("below", (0, 100, 100, 140)), Reading("hello", (0, 10, 100, 50))]
    assert [x.text for x in reading_order(r)] == ["hello", "world", "below"]


def test_a_line_split_by_the_ocr_into_two_pieces_still_matches_with_both_boxes():
    readings = [Reading("GRAND", (10, 10, 110, 50), 0.99), Reading("OPENING", (130, 10, 300, 50), 0.99)]
    report = compare(["Grand Opening"], readings)
    assert report.ok and report.lines[0].box == (10, 10, 300, 50)


def test_extra_text_inside_a_reading_gets_the_part_of_the_box_it_occupies():
    readings = [Reading("SALE TODAY ONLY", (0, 0, 1500, 100), 0.95)]
    report = compare(["Sale"], readings)
    assert report.lines[0].ok
    assert [e.text for e in report.extra] == ["TODAY ONLY"]
    assert report.extra[0].box[0] >= 400 and report.extra[0].box[2] == 1500


def test_shy_readings_and_single_letters_are_not_counted_as_extra_text():
    readings = [Reading("SALE", (0, 0, 100, 40), 0.99), Reading("x", (200, 0, 210, 40), 0.99),
                Reading("blur", (300, 0, 400, 40), 0.3)]
    assert compare(["SALE"], readings).ok


def test_nothing_expected_and_nothing_read_is_a_perfect_score_and_json_is_complete():
    report = compare([], [])
    assert report.ok and report.score == 1.0
    data = report.to_json()
    assert set(data) >= {"expected", "found", "lines", "extra", "score", "ok"}
    json.dumps(data)


def test_strict_mode_compares_case_and_spaces_as_written():
    readings = [Reading("Summer  Sale", (0, 0, 100, 40), 0.99)]
    assert compare(["SUMMER SALE"], readings).ok
    strict = compare(["SUMMER SALE"], readings, strict=True)
    assert not strict.ok and strict.lines[0].distance > 0


def test_the_fix_prompt_spells_the_right_text_letter_by_letter_and_keeps_the_rest():
    from gptimg_desktop.core.proofing import fix_region, fix_text_prompt, spell_out

    assert spell_out("Morning Brew") == "M-o-r-n-i-n-g B-r-e-w"
    prompt = fix_text_prompt("Morning Brew", "Mornimg Brew")
    assert '"Morning Brew"' in prompt and "M-o-r-n-i-n-g B-r-e-w" in prompt and '"Mornimg Brew"' in prompt
    assert "change nothing else" in prompt
    assert fix_region((100, 100, 300, 150), 1024, 1024) == (88, 88, 312, 162)
    assert fix_region((5, 5, 1020, 60), 1024, 1024) == (0, 0, 1024, 72)
