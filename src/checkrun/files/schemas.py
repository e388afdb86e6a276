from __future__ import annotations

from pydantic import BaseModel

from checkrun.files.models import Asset
from checkrun.kit.clock import iso


class Subject(BaseModel):
    id: str
    type: str


class AssetRead(BaseModel):
    id: str
    filename: str
    version: int
    step_id: str | None
    uploaded_from: str | None
    uploaded_to_s3: bool
    subject: Subject
    uploaded_at: str | None
    size: int
    mime_type: str
    checksum: str
    source: str
    system: str | None
    uploaded_by: int
    url: str
    full_url: str
    archived_at: str | None

    @classmethod
    def of(cls, a: Asset, api_base: str) -> AssetRead:
        url = f"organizations/{a.org_id}/file/{a.id}/dl"
        return cls(
            id=a.id,
            filename=a.filename,
            version=a.version,
            step_id=a.step_id,
            uploaded_from=a.uploaded_from,
            uploaded_to_s3=True,
            subject=Subject(id=a.subject_id, type=a.subject_type),
            uploaded_at=iso(a.uploaded_at),
            size=a.size,
            mime_type=a.mime_type,
            checksum=a.sha256,
            source=a.source,
            system=a.system,
            uploaded_by=a.uploaded_by,
            url=url,
            full_url=f"{api_base.rstrip('/')}/{url}",
            archived_at=iso(a.deleted_at),
        )
