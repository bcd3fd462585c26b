"""`multipart/form-data` bodies, parsed with the standard library's email parser.

Why not python-multipart: the body has already been read (and capped at the request size limit)
by `optiloop.api.middleware.RequestGuard`, so a streaming parser buys nothing, and the Lambda layers
stay one dependency smaller. Only simple forms are supported: text fields and file parts, no nested
multiparts. Every refusal is an InvalidInput naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

from optiloop.errors import FieldProblem, InvalidInput

MAX_PARTS = 20


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    data: bytes

    @property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(FieldProblem(self.name, "must be UTF-8 text")) from None


def parse_form(content_type: str, body: bytes) -> dict[str, Part]:
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise InvalidInput(
            FieldProblem("headers.content-type", "must be multipart/form-data with a boundary (curl -F ...)")
        )
    msg: Message = message_from_bytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise InvalidInput(FieldProblem("body", "is not a readable multipart/form-data body"))
    parts: dict[str, Part] = {}
    payload = msg.get_payload()
    if not isinstance(payload, list) or len(payload) > MAX_PARTS:
        raise InvalidInput(FieldProblem("body", f"must hold 1..{MAX_PARTS} form fields"))
    for sub in payload:
        if not isinstance(sub, Message):
            continue
        name = sub.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise InvalidInput(FieldProblem("body", "a form part has no name"))
        filename = sub.get_param("filename", header="content-disposition")
        data = sub.get_payload(decode=True)
        parts[name] = Part(
            name, filename if isinstance(filename, str) else None, data if isinstance(data, bytes) else b""
        )
    return parts
