"""A set plan: which images a template makes from one brief, with which prompts, sizes and inputs, and its cost.

The style is locked the way OpenAI's prompting guide recommends: the anchor (the logo, the key visual, the
character sheet) is made first; every other item is an edit whose Image 1 is the approved anchor, followed
by the set's pinned references, and whose prompt carries the set's consistency list ("change only …, keep …").

``SetPlan.item_requests()`` is the one place that turns a plan into ImageRequests (the anchor marked), so the
CLI, the GUI and the Batch runner all send the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import RequestRefused
from .models import DEFAULT_MODEL
from .pricing import PriceTable
from .prompt_roles import normalise_role, role_label
from .requests import ImageRequest
from .sizes import parse_size
from .templates import MAX_REPEAT, Template, TemplateItem, fill, repeat_entries, resolve_fields

MAX_BRIEF_CHARS = 1000
DEFAULT_INPUT_SIZE = (1024, 1024)  # stands in for a reference whose size is not known yet when estimating


@dataclass(frozen=True)
class SetReference:
    """A pinned reference image sent with every item, after the anchor."""

    path: str
    role: str | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @classmethod
    def parse(cls, text: str) -> SetReference:
        """``FILE[:ROLE]``; a ':' that is part of the path (C:\\…) is kept when what follows is no known role."""
        head, sep, tail = text.rpartition(":")
        if sep and head and normalise_role(tail):
            return cls(head, normalise_role(tail))
        return cls(text, None)


@dataclass(frozen=True)
class PlannedItem:
    id: str
    name: str
    prompt: str
    size: str
    quality: str
    kind: str  # "generate" | "edit"
    anchor: bool
    position: int

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "prompt": self.prompt, "size": self.size, "quality": self.quality,
                "kind": self.kind, "anchor": self.anchor}


@dataclass(frozen=True)
class ItemRequest:
    """What to send for one item: the request (no images yet) and its inputs in order.

    ``uses_anchor`` means the anchor's image goes first; then ``references`` in order."""

    item: PlannedItem
    request: ImageRequest
    uses_anchor: bool
    references: tuple[SetReference, ...]

    @property
    def anchor(self) -> bool:
        return self.item.anchor


@dataclass(frozen=True)
class SetEstimate:
    credits: int
    usd: float
    per_item: tuple[tuple[str, int, float], ...]  # (item id, credits, usd)

    def to_json(self) -> dict[str, object]:
        return {"credits": self.credits, "usd": round(self.usd, 6)}


@dataclass(frozen=True)
class SetPlan:
    template: Template
    brief: str
    fields: Mapping[str, str]
    references: tuple[SetReference, ...]
    model: str
    quality: str
    items: tuple[PlannedItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def anchor(self) -> PlannedItem:
        return next(i for i in self.items if i.anchor)

    def item(self, item_id: str) -> PlannedItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise RequestRefused(f"This set has no item '{item_id}'.", param="items")

    def item_requests(self) -> list[ItemRequest]:
        """Every item's request in running order, the anchor first."""
        return [self.request_for(item) for item in self.items]

    def request_for(self, item: PlannedItem) -> ItemRequest:
        request = ImageRequest(prompt=item.prompt, model=self.model, size=item.size, quality=self.quality)
        return ItemRequest(item, request, not item.anchor, self.references)

    def estimate(self, prices: PriceTable, reference_sizes: Sequence[tuple[int, int]] | None = None) -> SetEstimate:
        """The whole set's expected cost, before anything is sent."""
        ref_sizes = tuple(reference_sizes) if reference_sizes is not None else (
            (DEFAULT_INPUT_SIZE,) * len(self.references))
        anchor_size = parse_size(self.anchor.size)
        anchor_dims = (anchor_size.width, anchor_size.height) if anchor_size else DEFAULT_INPUT_SIZE
        rows = []
        for req in self.item_requests():
            inputs = ((anchor_dims,) if req.uses_anchor else ()) + ref_sizes
            est = req.request.estimate(prices, input_sizes=inputs)
            rows.append((req.item.id, est.credits, est.cost_usd))
        return SetEstimate(sum(r[1] for r in rows), sum(r[2] for r in rows), tuple(rows))

    def dry_run_json(self, prices: PriceTable, reference_sizes: Sequence[tuple[int, int]] | None = None) -> dict:
        """The `gptimg set --dry-run --json` shape (a CLI contract)."""
        return {"set_id": None, "items": [i.to_json() for i in self.items],
                "estimate": self.estimate(prices, reference_sizes).to_json()}

    def describe(self) -> dict[str, object]:
        """What history keeps about the plan (no image bytes)."""
        return {"template": self.template.id, "brief": self.brief, "fields": dict(self.fields),
                "references": [{"path": r.path, "role": r.role} for r in self.references],
                "model": self.model, "quality": self.quality}


# ---------------------------------------------------------------------------------------------- planning
def plan_set(
    template: Template,
    brief: str,
    fields: Mapping[str, str] | None = None,
    references: Sequence[SetReference] = (),
    only_items: Sequence[str] | None = None,
    model: str = DEFAULT_MODEL,
    quality: str = "auto",
) -> SetPlan:
    """The plan for one run of ``template``; RequestRefused (naming the field or item) when it cannot be made."""
    brief = " ".join((brief or "").split())
    if not brief:
        raise RequestRefused("The brief is empty: describe the set in one sentence.", param="brief")
    if len(brief) > MAX_BRIEF_CHARS:
        raise RequestRefused(f"The brief is {len(brief):,} characters; keep it to one sentence "
                             f"(at most {MAX_BRIEF_CHARS:,}).", param="brief")
    values = resolve_fields(template, fields or {})
    values["brief"] = brief
    refs = tuple(references)
    expanded = _expand(template, values)
    notes: list[str] = []
    if only_items:
        wanted = [w.strip() for w in only_items if w.strip()]
        known = {item_id for item_id, _t, _v in expanded} | {t.id for _i, t, _v in expanded}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise RequestRefused(f"Template {template.id} has no item '{unknown[0]}'; its items are: "
                                 f"{', '.join(i for i, _t, _v in expanded)}.", param="items")
        keep = set(wanted)
        expanded = [e for e in expanded if e[1].anchor or e[0] in keep or e[1].id in keep]
        if template.anchor.id not in keep:
            notes.append(f"The anchor ({template.anchor.name}) is always made first: the other items are edits of it.")
    consistency = [fill(c, values) for c in template.consistency]
    consistency = [c for c in consistency if c and not c.endswith(": ")]
    anchor_name = template.anchor.name
    items = []
    for position, (item_id, titem, local) in enumerate(expanded):
        skeleton = fill(titem.prompt, local)
        if titem.anchor:
            prompt = _anchor_prompt(skeleton, refs)
            kind = "edit" if refs else "generate"
        else:
            prompt = _edit_prompt(skeleton, anchor_name, titem, local, refs, consistency)
            kind = "edit"
        name = titem.name if not titem.repeat else f"{titem.name} {local['n']}"
        items.append(PlannedItem(item_id, name, prompt, titem.size, quality, kind, titem.anchor, position))
    plan = SetPlan(template, brief, values, refs, model, quality, tuple(items), tuple(notes))
    for req in plan.item_requests():  # refuse a bad model, quality or size now, before anything is recorded
        req.request.validate()
    return plan


def _expand(template: Template, values: Mapping[str, str]) -> list[tuple[str, TemplateItem, dict[str, str]]]:
    out: list[tuple[str, TemplateItem, dict[str, str]]] = []
    for titem in template.items:
        if not titem.repeat:
            out.append((titem.id, titem, dict(values)))
            continue
        entries = repeat_entries(values.get(titem.repeat, ""))
        if len(entries) > MAX_REPEAT:
            raise RequestRefused(f"The field '{titem.repeat}' lists {len(entries)} entries; a set makes at most "
                                 f"{MAX_REPEAT} of '{titem.id}'. Split it into several sets.", param=titem.repeat)
        for n, entry in enumerate(entries, start=1):
            out.append((f"{titem.id}-{n}", titem, {**values, "item": entry, "n": str(n)}))
    return out


def _reference_lines(refs: Sequence[SetReference], first_number: int) -> list[str]:
    lines = []
    for offset, ref in enumerate(refs):
        role = f" ({role_label(ref.role).lower()})" if ref.role else ""
        lines.append(f"Image {first_number + offset}: pinned reference \"{ref.name}\"{role}.")
    return lines


def _anchor_prompt(skeleton: str, refs: Sequence[SetReference]) -> str:
    if not refs:
        return skeleton
    from .prompt_roles import role_wording

    lines = _reference_lines(refs, 1)
    wording = role_wording([r.role for r in refs], first_number=1)
    return "\n".join(lines + ([wording] if wording else []) + [skeleton])


def _edit_prompt(skeleton: str, anchor_name: str, titem: TemplateItem, values: Mapping[str, str],
                 refs: Sequence[SetReference], consistency: Sequence[str]) -> str:
    from .prompt_roles import role_wording

    lines = [f"Image 1: the approved {anchor_name.lower()} of this set: the style anchor every item follows."]
    lines += _reference_lines(refs, 2)
    wording = role_wording([r.role for r in refs], first_number=2)
    if wording:
        lines.append(wording)
    lines.append(skeleton)
    name = titem.name.lower() if not titem.repeat else f"{titem.name.lower()} {values.get('n', '')}".strip()
    lines.append(f"Change only what this {name} needs: its format, composition and content. "
                 "Keep everything else exactly as in Image 1.")
    if consistency:
        lines.append("Keep consistent across the set:")
        lines += [f"- {c}" for c in consistency]
    return "\n".join(lines)
