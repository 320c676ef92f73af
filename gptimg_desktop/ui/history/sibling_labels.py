"""What a history row says when its siblings share a prompt: the part that differs, not the same cut-off text.

Four results of one run have one prompt; rows used to show it four times, cut at the same place. Now they read
"Variant 2 of 4 · Recolour the mug…". Siblings with different prompts that start alike show the differing tail:
"…matte black glaze" beside "…deep teal glaze".
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_SHARED = 16  # a shared start shorter than this is not worth hiding


def _shared_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def sibling_title(prompts: Sequence[str], row: int) -> str:
    """The title of ``prompts[row]`` among its siblings (all the rows under one parent, in order)."""
    prompt = prompts[row]
    same = [i for i, p in enumerate(prompts) if p == prompt]
    if len(same) > 1:
        return f"Variant {same.index(row) + 1} of {len(same)} · {prompt}"
    others = [p for i, p in enumerate(prompts) if i != row and p != prompt]
    if not others:
        return prompt
    shared = max(_shared_prefix(prompt, other) for other in others)
    if shared < MIN_SHARED or shared >= len(prompt):
        return prompt
    cut = prompt.rfind(" ", 0, shared + 1)  # start the tail at a word
    cut = cut + 1 if cut > 0 else shared
    return "…" + prompt[cut:]
