"""Set templates: readable TOML files with the fields a designer fills in and one prompt skeleton per output.

Built-in templates ship in ``resources/templates/``; a designer's own go in the data folder's ``templates/``
(passed in by the caller, since core knows nothing about folders). A designer's template with the id of a
built-in one replaces it. Every template is checked when it is read: a broken file is reported with one
sentence and skipped, never half-loaded.

A template file::

    id = "vi"
    name = "Visual identity"
    description = "…"
    consistency = ["the logo from Image 1 …", "the palette: {colours}"]   # what every edit must keep
    [[fields]]  name = "brand"  label = "Brand name"  required = true  (default = "…", multiline = true)
    [[items]]   id = "logo"  name = "Logo"  size = "1024x1024"  anchor = true  prompt = "Scene: … Subject: …"
    [[items]]   id = "panel"  repeat = "scenes"  prompt = "Scene: panel {n}: {item} …"  # one item per line

Prompts use ``{field}`` placeholders plus ``{brief}``; repeated items also get ``{item}`` (the line) and ``{n}``.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources as _resources
from pathlib import Path

from .errors import RequestRefused
from .models import DEFAULT_MODEL, get_model
from .sizes import check_size

TEMPLATE_SUFFIX = ".toml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_RESERVED = {"brief", "item", "n"}
MAX_REPEAT = 24  # a scene list longer than this is refused: a set of 25+ paid images is rarely meant


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class TemplateField:
    name: str
    label: str
    required: bool = False
    default: str = ""
    multiline: bool = False


@dataclass(frozen=True)
class TemplateItem:
    id: str
    name: str
    size: str
    prompt: str
    anchor: bool = False
    repeat: str | None = None  # a field holding one entry per line: the item is made once per entry


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    fields: tuple[TemplateField, ...]
    items: tuple[TemplateItem, ...]
    consistency: tuple[str, ...] = ()
    source: str = "built-in"  # "built-in" or the path of a designer's file

    @property
    def anchor(self) -> TemplateItem:
        return next(item for item in self.items if item.anchor)

    def field_named(self, name: str) -> TemplateField | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict[str, object]:
        """The `gptimg templates --json` shape (a CLI contract: add keys, never rename)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "fields": [{"name": f.name, "label": f.label, "required": f.required} for f in self.fields],
            "items": [{"id": i.id, "name": i.name, "size": i.size, "anchor": i.anchor} for i in self.items],
        }


# ---------------------------------------------------------------------------------------------- reading
def parse_template(text: str, source: str = "built-in") -> Template:
    """One template from TOML text; raises TemplateError saying what is wrong."""
    where = "built-in template" if source == "built-in" else source
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{where} is not valid TOML ({exc}).") from None
    tid = _text(data, "id", where)
    if not _ID.match(tid):
        raise TemplateError(f"{where}: id '{tid}' must be lower-case letters, digits, '-' or '_'.")
    fields = tuple(_field(raw, where) for raw in _tables(data, "fields", where))
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise TemplateError(f"{where}: two fields share a name.")
    items = tuple(_item(raw, where, set(names)) for raw in _tables(data, "items", where))
    if not items:
        raise TemplateError(f"{where}: a template needs at least one [[items]] entry.")
    if len({i.id for i in items}) != len(items):
        raise TemplateError(f"{where}: two items share an id.")
    anchors = [i for i in items if i.anchor]
    if len(anchors) != 1 or anchors[0].repeat:
        raise TemplateError(f"{where}: exactly one item must be the anchor (anchor = true), and it cannot repeat.")
    consistency = data.get("consistency", [])
    if not isinstance(consistency, list) or not all(isinstance(c, str) for c in consistency):
        raise TemplateError(f"{where}: consistency must be a list of strings.")
    template = Template(tid, _text(data, "name", where), str(data.get("description", "")), fields, items,
                        tuple(consistency), source)
    for text_ in [i.prompt for i in items] + list(consistency):
        _check_placeholders(text_, set(names) | _RESERVED, where)
    return template


def _text(data: Mapping[str, object], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: '{key}' must be a non-empty string.")
    return value.strip()


def _tables(data: Mapping[str, object], key: str, where: str) -> list[Mapping[str, object]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TemplateError(f"{where}: '{key}' must be a list of [[{key}]] tables.")
    return value


def _field(raw: Mapping[str, object], where: str) -> TemplateField:
    name = _text(raw, "name", where)
    if not _ID.match(name.replace("_", "-")) or name in _RESERVED:
        raise TemplateError(f"{where}: field name '{name}' must be a simple lower-case word (not brief, item or n).")
    return TemplateField(name, str(raw.get("label") or name), bool(raw.get("required", False)),
                         str(raw.get("default", "")), bool(raw.get("multiline", False)))


def _item(raw: Mapping[str, object], where: str, field_names: set[str]) -> TemplateItem:
    iid = _text(raw, "id", where)
    if not _ID.match(iid):
        raise TemplateError(f"{where}: item id '{iid}' must be lower-case letters, digits, '-' or '_'.")
    size = _text(raw, "size", where)
    try:
        check_size(get_model(DEFAULT_MODEL), size)
    except RequestRefused as exc:
        raise TemplateError(f"{where}: item '{iid}' has a size the API refuses: {exc}") from None
    repeat = raw.get("repeat")
    if repeat is not None and (not isinstance(repeat, str) or repeat not in field_names):
        raise TemplateError(f"{where}: item '{iid}' repeats over '{repeat}', which is not one of its fields.")
    return TemplateItem(iid, str(raw.get("name") or iid), size, _text(raw, "prompt", where),
                        bool(raw.get("anchor", False)), repeat)


def _check_placeholders(text: str, allowed: set[str], where: str) -> None:
    try:
        names = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise TemplateError(f"{where}: a prompt has a broken {{placeholder}} ({exc}).") from None
    unknown = names - allowed
    if unknown:
        raise TemplateError(f"{where}: the prompt uses {{{sorted(unknown)[0]}}}, which is not one of the fields.")


def builtin_template_dir() -> Path:
    """resources/templates, from an install, a checkout or the bundle."""
    try:
        root = Path(str(_resources.files("gptimg_desktop.resources")))
        if (root / "templates").is_dir():
            return root / "templates"
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "templates"


@dataclass
class TemplateLibrary:
    """Every usable template by id, plus one sentence per file that could not be read."""

    templates: dict[str, Template] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get(self, template_id: str) -> Template:
        try:
            return self.templates[template_id]
        except KeyError:
            known = ", ".join(sorted(self.templates)) or "none"
            raise RequestRefused(f"There is no template '{template_id}'; choose one of: {known}.",
                                 param="template") from None

    def __iter__(self):
        return iter(sorted(self.templates.values(), key=lambda t: t.id))


def load_templates(user_dirs: Iterable[Path] = ()) -> TemplateLibrary:
    """The built-in templates, then each designer folder's (a same id replaces the built-in one)."""
    library = TemplateLibrary()
    for folder, builtin in [(builtin_template_dir(), True)] + [(Path(d), False) for d in user_dirs]:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
            try:
                template = parse_template(path.read_text(encoding="utf-8"), "built-in" if builtin else str(path))
            except (TemplateError, OSError, UnicodeDecodeError) as exc:
                library.problems.append(f"{path.name}: {exc}" if not isinstance(exc, TemplateError) else str(exc))
                continue
            library.templates[template.id] = template
    return library


# ---------------------------------------------------------------------------------------------- filling in
def resolve_fields(template: Template, given: Mapping[str, str]) -> dict[str, str]:
    """The field values with defaults filled in; RequestRefused naming the first missing required field or
    an unknown one."""
    unknown = [name for name in given if template.field_named(name) is None]
    if unknown:
        names = ", ".join(f.name for f in template.fields)
        raise RequestRefused(f"Template {template.id} has no field '{unknown[0]}'; its fields are: {names}.",
                             param=unknown[0])
    values: dict[str, str] = {}
    for f in template.fields:
        value = str(given.get(f.name, "")).strip()
        if not value and f.required:
            raise RequestRefused(
                f"Template {template.id} needs the field '{f.name}' ({f.label}); add --field {f.name}=VALUE.",
                param=f.name,
            )
        values[f.name] = value or f.default
    return values


def repeat_entries(value: str) -> list[str]:
    """A scene list: one entry per line (or separated by ';' or '|' when written on one line)."""
    parts = value.splitlines() if "\n" in value else re.split(r"[;|]", value)
    entries = [p.strip(" \t-•*") for p in parts]
    return [e for e in entries if e]


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:  # placeholders are checked at load; this only guards odd input
        return ""


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders filled. A line whose literal text came out empty (``""``, an optional
    field left blank) is left out, so no prompt asks for empty quotes."""
    out = string.Formatter().vformat(text, (), _Values(values))
    return "\n".join(line.rstrip() for line in out.strip().splitlines() if '""' not in line)
