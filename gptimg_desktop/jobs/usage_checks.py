"""Usage an answer reports, checked before it reaches the ledger: money is never trusted blindly."""

from __future__ import annotations

from ..core.pricing import Usage

# Usage above this many times the estimate (plus a margin for small jobs) is not a real bill.
_USAGE_CEILING_FACTOR = 10
_USAGE_CEILING_MARGIN = 50_000


def plausible_usage(reported: Usage, estimated: Usage, kept: int, asked: int) -> tuple[Usage, str | None, str | None]:
    """(usage to record, ledger note, sentence for the user) for the usage an answer reported.

    Missing usage records the estimate ("estimated"); usage far beyond anything the request could cost
    records the estimate too ("capped"). ``estimated`` is for ``asked`` images; ``kept`` were stored.
    """
    share = _scale_usage(estimated, kept, asked)
    if reported.total_tokens <= 0 and reported.input_tokens <= 0 and reported.output_tokens <= 0:
        return share, "estimated", ("The provider's answer did not say what it used, so the cost recorded is "
                                    "the estimate; check your provider's usage page for the real figure.")
    ceiling = _USAGE_CEILING_FACTOR * share.total_tokens + _USAGE_CEILING_MARGIN * kept
    biggest = max(reported.total_tokens, reported.input_tokens + reported.output_tokens)
    if biggest > ceiling:
        return share, "capped", (f"The provider reported {biggest:,} tokens, far more than this request can use, "
                                 "so the estimate was recorded instead; check your provider's usage page.")
    return reported, None, None


def _scale_usage(usage: Usage, kept: int, asked: int) -> Usage:
    if kept == asked or asked <= 0:
        return usage
    values = [usage.input_tokens, usage.output_tokens * kept // asked, 0, usage.input_text_tokens,
              usage.input_image_tokens, usage.output_image_tokens * kept // asked, usage.output_text_tokens]
    values[2] = values[0] + values[1]
    return Usage(*values)
