"""A streaming multipart/form-data reader for uploads: text fields are collected, the file part
is handed on chunk by chunk as the request body arrives, so nothing is spooled or copied."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD_BYTES = 64 * 1024
CUT_OFF = "The upload was cut off: the body ended before its closing boundary."
# All text fields together: a body of endless small fields must not grow memory either.
MAX_FIELDS_TOTAL = 1024 * 1024


class MalformedUpload(ValueError):
    """The body is not well-formed multipart, or it ended before the file was complete."""


class MultipartUpload:
    def __init__(self, body: AsyncIterator[bytes], content_type: str, file_field: str) -> None:
        kind, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if kind.lower() != b"multipart/form-data" or not boundary:
            raise MalformedUpload("Send the file as multipart/form-data with a boundary.")
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self._body = body
        self._file_field = file_field
        self._events: deque[tuple[str, Any]] = deque()
        self._header: list[bytes] = [b"", b""]
        self._headers: dict[bytes, bytes] = {}
        self._eof = False
        self._complete = False
        self._fields_total = 0
        try:
            self._parser = MultipartParser(boundary, callbacks=self._callbacks())
        except FormParserError as exc:
            raise MalformedUpload(str(exc)) from None

    def _callbacks(self) -> Any:
        def header_field(data: bytes, start: int, end: int) -> None:
            self._header[0] += data[start:end]

        def header_value(data: bytes, start: int, end: int) -> None:
            self._header[1] += data[start:end]

        def header_end() -> None:
            self._headers[self._header[0].strip().lower()] = self._header[1].strip()
            self._header = [b"", b""]

        def headers_finished() -> None:
            _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
            self._headers = {}
            self._events.append(("part", params))

        def part_data(data: bytes, start: int, end: int) -> None:
            self._events.append(("data", bytes(data[start:end])))

        return {
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": part_data,
            "on_part_end": lambda: self._events.append(("end", None)),
            "on_end": self._completed,
        }

    def _completed(self) -> None:
        self._complete = True

    async def _next_event(self) -> tuple[str, Any] | None:
        while not self._events:
            if self._eof:
                return None
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._eof = True
                if not self._complete:
                    raise MalformedUpload(CUT_OFF) from None
                continue
            try:
                self._parser.write(chunk)
            except FormParserError as exc:
                raise MalformedUpload(str(exc)) from None
        return self._events.popleft()

    async def until_file(self) -> str | None:
        """Reads text fields up to the file part; returns its filename (None if there is none)."""
        while (event := await self._next_event()) is not None:
            if event[0] != "part":
                continue
            params = event[1]
            name = params.get(b"name", b"").decode("utf-8", "replace")
            if name == self._file_field and b"filename" in params:
                self.filename = params[b"filename"].decode("utf-8", "replace")
                return self.filename
            await self._read_field(name)
        return None

    async def _read_field(self, name: str) -> None:
        value = bytearray()
        while (event := await self._next_event()) is not None and event[0] == "data":
            value += event[1]
            if len(value) > MAX_FIELD_BYTES:
                raise MalformedUpload(f"The {name} field is too long.")
        if event is None:
            raise MalformedUpload(CUT_OFF)
        self._fields_total += len(name) + len(value)
        if self._fields_total > MAX_FIELDS_TOTAL:
            raise MalformedUpload("The form fields are too long.")
        self.fields.setdefault(name, value.decode("utf-8", "replace"))

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes as they arrive; raises if the body ends before the part does."""
        while (event := await self._next_event()) is not None:
            if event[0] == "end":
                return
            yield event[1]
        raise MalformedUpload(CUT_OFF)

    async def finish(self) -> None:
        """Reads the fields that follow the file part."""
        while (event := await self._next_event()) is not None:
            if event[0] == "part":
                await self._read_field(event[1].get(b"name", b"").decode("utf-8", "replace"))
