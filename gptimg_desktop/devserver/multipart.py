"""A small multipart/form-data parser for upload bodies of up to hundreds of megabytes.

Boundaries are found with ``bytes.find`` (the stdlib email parser walks binary bodies line by
line, which is slow for 16 large images); part headers are parsed by the stdlib email parser.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None  # None for a plain text field
    content_type: str
    data: bytes = field(repr=False)

    @property
    def is_file(self) -> bool:
        return self.filename is not None


def content_type_params(header: str) -> tuple[str, dict[str, str]]:
    """``"multipart/form-data; boundary=x"`` -> ("multipart/form-data", {"boundary": "x"})."""
    msg = email.parser.HeaderParser(policy=email.policy.HTTP).parsestr(f"Content-Type: {header}\r\n\r\n")
    params = {k.lower(): str(v) for k, v in (msg["content-type"].params or {}).items()}
    return msg.get_content_type(), params


def parse_multipart(body: bytes, content_type: str) -> list[FormPart]:
    """Every part of a multipart/form-data body, in order."""
    _, params = content_type_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("The multipart Content-Type has no boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    pos = body.find(delimiter)
    if pos < 0:
        raise MultipartError("The multipart body does not contain its boundary.")
    header_parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    parts: list[FormPart] = []
    while True:
        pos += len(delimiter)
        if body[pos : pos + 2] == b"--":
            return parts  # the close delimiter
        line_end = body.find(b"\n", pos)
        if line_end < 0:
            raise MultipartError("The multipart body ends inside a boundary line.")
        start = line_end + 1
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise MultipartError("The multipart body is cut off: a part has no closing boundary.")
        parts.append(_parse_part(body[start:end], header_parser))
        pos = end + 2


def _parse_part(raw: bytes, header_parser: email.parser.BytesHeaderParser[EmailMessage]) -> FormPart:
    split = raw.find(b"\r\n\r\n")
    if split >= 0:
        head, data = raw[:split], raw[split + 4 :]
    elif raw.startswith(b"\r\n"):
        head, data = b"", raw[2:]
    else:
        raise MultipartError("A multipart part has no blank line after its headers.")
    headers = header_parser.parsebytes(head + b"\r\n\r\n")
    # With policy HTTP the header is a structured ContentDispositionHeader that carries .params.
    disposition = headers["content-disposition"]
    if disposition is None:
        raise MultipartError("A multipart part has no Content-Disposition header.")
    params = getattr(disposition, "params", {})
    name = params.get("name")
    if name is None:
        raise MultipartError("A multipart part has no field name.")
    filename = params.get("filename")
    ctype = headers.get_content_type() if headers["content-type"] else "text/plain"
    return FormPart(str(name), None if filename is None else str(filename), ctype, data)
