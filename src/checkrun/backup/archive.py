"""One organization in one file: a tar archive holding

- `manifest.json`: the format, the schema revision it was written at, the organization, how
  many rows of each table and every file's size and SHA-256;
- `tables/<table>.jsonl`: the rows, one JSON object per line (`rows.encode`);
- `files/<storage key>`: each file's bytes.

Members are written from temporary files, so neither a table nor a file is held in memory.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FORMAT = "checkrun-organization"
VERSION = 1
MANIFEST = "manifest.json"


class ArchiveError(ValueError):
    """The file is not an archive this version can restore (the message says why)."""


@dataclass
class Manifest:
    org_id: str
    org_name: str
    revision: str
    checkrun: str
    exported_at: str
    tables: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body = {"format": FORMAT, "version": VERSION, **self.__dict__}
        return json.dumps(body, indent=1, sort_keys=True).encode()

    @classmethod
    def read(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise ArchiveError(f"its manifest is not JSON: {exc}") from None
        if body.get("format") != FORMAT or body.get("version") != VERSION:
            raise ArchiveError("it is not a checkrun organization export (format version 1)")
        fields = ("org_id", "org_name", "revision", "checkrun", "exported_at", "tables", "files")
        return cls(**{k: body[k] for k in fields})


class Writer:
    def __init__(self, path: Path) -> None:
        self.tar = tarfile.open(path, "w")

    def add_file(self, name: str, source: Path) -> None:
        self.tar.add(str(source), arcname=name, recursive=False)

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        self.tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()


class Reader:
    def __init__(self, path: Path) -> None:
        try:
            self.tar = tarfile.open(path, "r:")
        except tarfile.TarError:
            raise ArchiveError("it is not an archive written by `checkrun export`") from None
        self.names = set(self.tar.getnames())
        self.manifest = Manifest.read(self._read(MANIFEST))

    def _member(self, name: str) -> IO[bytes]:
        if name not in self.names:
            raise ArchiveError(f"it has no {name}")
        member = self.tar.extractfile(name)
        if member is None:
            raise ArchiveError(f"its {name} is not a file")
        return member

    def _read(self, name: str) -> bytes:
        return self._member(name).read()

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        name = f"tables/{table}.jsonl"
        if name not in self.names:
            return
        for line in self._member(name):
            if line.strip():
                yield json.loads(line)

    def file(self, key: str) -> IO[bytes]:
        return self._member(f"files/{key}")

    def close(self) -> None:
        self.tar.close()
