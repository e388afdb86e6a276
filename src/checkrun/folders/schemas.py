from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from checkrun.folders.models import Folder, FolderObject
from checkrun.kit.clock import iso
from checkrun.kit.includes import Include, Wrapped


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Name = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=32)]
RefId = Annotated[str, Field(min_length=1, max_length=64)]
FolderType = Literal["checklist", "run"]
Position = Annotated[int, Field(ge=1, le=1_000_000)]


class FolderCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Name
    parent_id: RefId | None = None
    # The SDK sends no type: a subfolder takes its parent's, a top folder is a template one.
    folder_type: FolderType | None = None
    position: Position | None = None


class FolderUpdate(BaseModel):
    """Partial: `parent_id: null` moves the folder to the top; `folder_type` can't change."""

    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    parent_id: RefId | None = None
    folder_type: FolderType | None = None
    position: Position | None = None


class FolderObjectCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    folder_id: RefId
    subject_id: RefId
    subject_type: Literal["Run", "Task"]


class FolderRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    parent_id: str | None
    folder_type: str
    position: int
    # What is filed in it: templates for a template folder, runs and tasks for a run folder.
    total: int = 0
    created_by: int | None
    created_at: str | None
    last_updated: str | None
    # `with=children`: the subfolders, wrapped at every level.
    children: Include[Wrapped[list[FolderRead]]] = None

    @classmethod
    def of(cls, folder: Folder, total: int = 0) -> FolderRead:
        return cls(
            id=folder.id,
            name=folder.name,
            parent_id=folder.parent_id,
            folder_type=folder.folder_type,
            position=folder.position,
            total=total,
            created_by=folder.created_by,
            created_at=iso(folder.created_at),
            last_updated=iso(folder.updated_at),
        )


class FolderObjectRead(BaseModel):
    """A run or task in a folder: `id` is the integer relation id that unfiling takes."""

    id: int
    folder_id: str
    subject_id: str
    subject_type: str
    created_by: int | None
    created_at: str | None

    @classmethod
    def of(cls, relation: FolderObject) -> FolderObjectRead:
        return cls(
            id=relation.id,
            folder_id=relation.folder_id,
            subject_id=relation.subject_id,
            subject_type=relation.subject_type,
            created_by=relation.created_by,
            created_at=iso(relation.created_at),
        )
