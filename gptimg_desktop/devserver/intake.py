"""From a received HTTP request to a validated image call, refusing it the way the real service does.

The model rules come from ``core`` (``ImageRequest.validate``); this module adds what only a server
sees: wire types, unknown parameters, undecodable uploads and the real error wording (api doc §1-3, §6).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..core.errors import RequestRefused
from ..core.models import ModelSpec, find_model
from ..core.requests import ImageInput, ImageRequest
from ..core.sizes import Size, parse_size, snap_size
from . import api_errors as errors
from .api_errors import ApiError
from .multipart import MultipartError, content_type_params, parse_multipart

# Parameter name -> wire type, per endpoint (SPEC CreateImageRequest / CreateImageEditRequest).
_COMMON_PARAMS: dict[str, type] = {
    "model": str,
    "prompt": str,
    "n": int,
    "size": str,
    "quality": str,
    "output_format": str,
    "output_compression": int,
    "background": str,
    "moderation": str,
    "stream": bool,
    "partial_images": int,
    "user": str,
}
_EDIT_PARAMS: dict[str, type] = {**_COMMON_PARAMS, "input_fidelity": str}
_FORM_FILE_FIELDS = ("image", "image[]", "mask")
_JSON_EDIT_FIELDS = ("images", "mask")
# Without a model the API falls back to these (SPEC); both are retired, so the answer is a 404.
_DEFAULT_MODEL = {"generations": "dall-e-2", "edits": "gpt-image-1.5"}
_FORMATS = {"png": "png", "jpeg": "jpeg", "mpo": "jpeg", "webp": "webp"}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


@dataclass
class RecordedRequest:
    """One request as the server received it, for tests to inspect."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # lower-case keys; holds the key
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list, repr=False)
    json: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def is_multipart(self) -> bool:
        return self.content_type.lower().startswith("multipart/")


def read_body(record: RecordedRequest, body: bytes) -> None:
    """Fill ``record.json`` or ``record.fields``/``files`` from the raw body; ApiError when it is malformed."""
    if not body:
        return
    if record.is_multipart:
        try:
            parts = parse_multipart(body, record.content_type)
        except MultipartError as exc:
            raise ApiError(400, f"Could not parse the multipart form: {exc}") from None
        for part in parts:
            if part.is_file:
                record.files.append((part.name, part.filename or part.name, part.content_type, part.data))
            else:
                _add_field(record.fields, part.name, part.data.decode("utf-8", "replace"))
        return
    ctype, _ = content_type_params(record.content_type or "application/json")
    if ctype == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            _add_field(record.fields, name, value)
        return
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise errors.bad_json() from None
    if not isinstance(data, dict):
        raise ApiError(400, f"Invalid request body: expected an object, but got {errors._json_type(data)} instead.")
    record.json = data


def _add_field(fields: dict[str, str | list[str]], name: str, value: str) -> None:
    if name not in fields:
        fields[name] = value
    elif isinstance(fields[name], list):
        fields[name].append(value)  # type: ignore[union-attr]
    else:
        fields[name] = [fields[name], value]  # type: ignore[list-item]


@dataclass(frozen=True)
class ImageCall:
    """A validated request with everything the "model" resolved: output size, quality, background."""

    request: ImageRequest
    endpoint: str  # generations | edits
    size: Size
    quality: str
    background: str
    sources: tuple[Image.Image, ...] = ()  # decoded input images, first one is edited
    mask: Image.Image | None = None

    @property
    def event_prefix(self) -> str:
        return "image_generation" if self.endpoint == "generations" else "image_edit"


def build_call(
    record: RecordedRequest, endpoint: str, deployment: str | None = None, allow_transparent: bool = False
) -> ImageCall:
    """The validated ImageCall for a request to ``endpoint`` (generations | edits), or ApiError."""
    from_form = record.json is None
    if endpoint == "generations" and from_form:
        raise errors.bad_json()  # generations take a JSON object only
    raw: dict[str, Any] = dict(record.json) if record.json is not None else _last_values(record.fields)
    allowed = _COMMON_PARAMS if endpoint == "generations" else _EDIT_PARAMS
    params = {name: _typed(name, raw.get(name), kind, from_form) for name, kind in allowed.items()}

    model = params["model"] if params["model"] is not None else deployment or _DEFAULT_MODEL[endpoint]
    spec = find_model(model)
    if spec is None or spec.is_shut_down():
        if deployment and params["model"] is None and spec is None:
            raise errors.deployment_not_found()
        raise errors.model_not_found(model)

    known = set(allowed)
    if endpoint == "edits":
        known.update(_FORM_FILE_FIELDS if from_form else _JSON_EDIT_FIELDS)
    for name in raw:
        if name not in known:
            raise errors.unknown_parameter(name)

    prompt = params["prompt"]
    if prompt is None:
        raise errors.missing_parameter("prompt")
    if prompt == "":
        raise errors.empty_string("prompt")
    # gpt-image-2 refuses the field outright, even as null (api doc §3).
    if "input_fidelity" in raw and endpoint == "edits" and not spec.input_fidelity:
        raise ApiError(
            400,
            f"The model '{model}' does not support the 'input_fidelity' parameter.",
            type="image_generation_user_error",
            param="input_fidelity",
            code="invalid_input_fidelity_model",
        )
    if params["background"] == "transparent" and (
        spec.transparent == "no" or (spec.transparent == "preview" and not allow_transparent)
    ):
        raise ApiError(
            400,
            "Transparent background is not supported for this model.",
            type="image_generation_user_error",
            param="background",
            code="invalid_value",
        )

    images: list[tuple[ImageInput, Image.Image]] = []
    mask: tuple[ImageInput, Image.Image] | None = None
    if endpoint == "edits":
        images, mask = _form_images(record) if from_form else _json_images(record.json or {})
        if not images:
            raise errors.missing_parameter("image" if from_form else "images")

    output_format = _or_default(params["output_format"], "png")
    compression = params["output_compression"]
    if output_format == "png" and compression == 100:
        compression = None  # 100 is the API's default and means "no compression"
    request = ImageRequest(
        prompt=prompt,
        model=model,
        size=_or_default(params["size"], "auto"),
        quality=_or_default(params["quality"], "auto"),
        n=1 if params["n"] is None else params["n"],
        output_format=output_format,
        output_compression=compression,
        background=_or_default(params["background"], "auto"),
        moderation=_or_default(params["moderation"], "auto"),
        stream=bool(params["stream"]),
        partial_images=params["partial_images"] or 0,
        images=tuple(inp for inp, _ in images),
        mask=mask[0] if mask else None,
        input_fidelity=params.get("input_fidelity"),
        allow_transparent_preview=allow_transparent,
    )
    try:
        request.validate()
    except RequestRefused as exc:
        raise _refusal(exc, request, spec) from None
    first = images[0][1] if images else None
    return ImageCall(
        request=request,
        endpoint=endpoint,
        size=_output_size(request, spec, first),
        quality="medium" if request.quality == "auto" else request.quality,
        background="transparent" if request.background == "transparent" else "opaque",
        sources=tuple(img for _, img in images),
        mask=mask[1] if mask else None,
    )


def _or_default(value: Any, default: Any) -> Any:
    """JSON null and an absent field both mean the API default; an empty string stays (and is refused)."""
    return default if value is None else value


def _last_values(fields: dict[str, str | list[str]]) -> dict[str, Any]:
    return {name: value[-1] if isinstance(value, list) else value for name, value in fields.items()}


def _typed(name: str, value: Any, kind: type, from_form: bool) -> Any:
    """``value`` as ``kind``; form fields arrive as strings ("true", "3"), JSON values must have the type."""
    if value is None:
        return None
    expected = {str: "a string", int: "an integer", bool: "a boolean"}[kind]
    if from_form and kind is not str:
        text = str(value).strip().lower()
        if kind is int and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if kind is bool and text in ("true", "false", "1", "0"):
            return text in ("true", "1")
        raise errors.invalid_type(name, expected, value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is not int and isinstance(value, kind):
        return value
    raise errors.invalid_type(name, expected, value)


def _refusal(exc: RequestRefused, request: ImageRequest, spec: ModelSpec) -> ApiError:
    message = exc.message
    if exc.param == "size":
        try:
            size = parse_size(request.size)
        except RequestRefused:
            size = None
        multiple = spec.size_rules.multiple
        if size and spec.flexible_sizes and (size.width % multiple or size.height % multiple):
            message = f"Invalid size '{request.size}'. Width and height must both be divisible by {multiple}."
    return errors.invalid_value(message, exc.param)


def _output_size(request: ImageRequest, spec: ModelSpec, first: Image.Image | None) -> Size:
    size = parse_size(request.size)
    if size is not None:
        return size
    if first is None:
        words = set(re.findall(r"[a-z]+", request.prompt.lower()))
        if "portrait" in words:
            return Size(1024, 1536)
        if "landscape" in words:
            return Size(1536, 1024)
        return Size(1024, 1024)
    width, height = first.size
    rules = spec.size_rules
    fits = max(width, height) <= rules.max_edge and rules.min_pixels <= width * height <= rules.max_pixels
    if spec.flexible_sizes and fits:
        return Size(width, height)  # auto on an edit keeps the first image's shape (not always 16-aligned)
    return snap_size(spec, width, height)


# ---------------------------------------------------------------------- uploads
def _form_images(record: RecordedRequest) -> tuple[list[tuple[ImageInput, Image.Image]], Any]:
    images = []
    mask = None
    for name, filename, _ctype, data in record.files:
        if name in ("image", "image[]"):
            images.append(decode_upload(data, filename, "image"))
        elif name == "mask":
            mask = decode_upload(data, filename, "mask")
        else:
            raise errors.unknown_parameter(name)
    return images, mask


def _json_images(body: dict[str, Any]) -> tuple[list[tuple[ImageInput, Image.Image]], Any]:
    refs = body.get("images")
    if refs is None:
        return [], None
    if not isinstance(refs, list):
        raise errors.invalid_type("images", "an array", refs)
    if not refs:
        raise ApiError(
            400,
            "Invalid 'images': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="images",
            code="empty_array",
        )
    images = [decode_upload(_data_url(ref, f"images[{i}]"), f"images[{i}]", "image") for i, ref in enumerate(refs)]
    mask = None
    if body.get("mask") is not None:
        mask = decode_upload(_data_url(body["mask"], "mask"), "mask", "mask")
    return images, mask


def _data_url(ref: Any, param: str) -> bytes:
    """The bytes of an ``{"image_url": "data:...;base64,..."}`` reference."""
    if not isinstance(ref, dict) or len(ref) != 1 or not ({"image_url", "file_id"} & set(ref)):
        raise errors.invalid_value(f"Invalid '{param}': give exactly one of 'image_url' or 'file_id'.", param)
    if "file_id" in ref:
        raise errors.invalid_value(
            f"Invalid '{param}.file_id': the local server has no Files API; send the image as a base64 data URL.",
            f"{param}.file_id",
        )
    url = ref["image_url"]
    if not isinstance(url, str):
        raise errors.invalid_type(f"{param}.image_url", "a string", url)
    match = re.match(r"data:([^,;]*)((?:;[^,;]*)*),", url)
    if not match or ";base64" not in match.group(2):
        raise errors.invalid_value(
            f"Invalid '{param}.image_url': the local server accepts only base64 data URLs "
            "(data:image/png;base64,...), not web addresses.",
            f"{param}.image_url",
        )
    try:
        return base64.b64decode(url[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise errors.invalid_value(f"Invalid '{param}.image_url': the base64 data is malformed.", f"{param}.image_url") from None


def decode_upload(data: bytes, filename: str, param: str) -> tuple[ImageInput, Image.Image]:
    """The upload as core's ImageInput (real format and pixel size) plus the decoded image."""
    if not data:
        raise errors.invalid_image_file(filename, param, "the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
    except Exception:  # noqa: BLE001 - Pillow raises many types for bad data; all mean "unreadable"
        raise errors.invalid_image_file(filename, param, "it could not be decoded as an image") from None
    fmt = _FORMATS.get((img.format or "").lower(), (img.format or "unknown").lower())
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    upload = ImageInput(filename, data, fmt, img.width, img.height, has_alpha=has_alpha)
    return upload, img
