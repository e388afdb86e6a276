"""Every statement of custom fields: keys, values, and finding the record a value is on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, delete, func, or_, select

from checkrun.customfields.models import CustomFieldKey, CustomFieldValue
from checkrun.folders.models import Folder
from checkrun.guests.models import Guest
from checkrun.kit.filters import count_of
from checkrun.kit.locking import locked
from checkrun.kit.pagination import PageParams
from checkrun.kit.repository import ORG_ID, Repository, scope
from checkrun.members.models import Membership
from checkrun.runs.models import Run
from checkrun.tags.models import Tag
from checkrun.tasks.models import Task, TaskOwner
from checkrun.templates.models import Capture, Checklist, Step


@dataclass(frozen=True)
class KeyFilters:
    applies_to: str | None = None
    key_type: str | None = None
    field_type: str | None = None
    is_required: bool | None = None
    is_active: bool | None = None
    q: str | None = None
    sort_by: str = "key"
    descending: bool = False


SORTABLE = {
    "key": CustomFieldKey.key,
    "label": CustomFieldKey.label,
    "applies_to": CustomFieldKey.applies_to,
    "field_type": CustomFieldKey.field_type,
    "created_at": CustomFieldKey.created_at,
    "updated_at": CustomFieldKey.updated_at,
}


def _filtered(stmt: Select[Any], f: KeyFilters) -> Select[Any]:
    for column, wanted in (
        (CustomFieldKey.applies_to, f.applies_to),
        (CustomFieldKey.key_type, f.key_type),
        (CustomFieldKey.field_type, f.field_type),
        (CustomFieldKey.is_required, f.is_required),
        (CustomFieldKey.is_active, f.is_active),
    ):
        if wanted is not None:
            stmt = stmt.where(column == wanted)
    if f.q:
        like = f"%{f.q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(CustomFieldKey.key).like(like),
                func.lower(CustomFieldKey.label).like(like),
            )
        )
    return stmt


def matching(org_id: str, subject_type: str, key: str, value: str | None) -> Select[Any]:
    """Ids of `subject_type` records whose value for the key named `key` reads `value` (any
    value when None)."""
    key_ids = select(CustomFieldKey.id).where(
        CustomFieldKey.org_id == org_id, CustomFieldKey.key == key
    )
    stmt = select(CustomFieldValue.subject_id).where(
        CustomFieldValue.key_id.in_(key_ids), CustomFieldValue.subject_type == subject_type
    )
    return stmt if value is None else stmt.where(CustomFieldValue.value_text == value[:255])


_CHECKLIST_ID: BindParameter[str] = bindparam("checklist_id")


@cache
def _template_values() -> Select[Any]:
    """Built once (each launch reads it): the values of the template `_CHECKLIST_ID` and of
    its steps, in the organization `ORG_ID`."""
    steps = select(Step.id).where(Step.checklist_id == _CHECKLIST_ID)
    return select(
        CustomFieldValue.subject_type,
        CustomFieldValue.subject_id,
        CustomFieldValue.key_id,
        CustomFieldValue.value,
    ).where(
        scope(CustomFieldValue, ORG_ID),
        or_(
            (CustomFieldValue.subject_type == "template")
            & (CustomFieldValue.subject_id == _CHECKLIST_ID),
            (CustomFieldValue.subject_type == "step") & CustomFieldValue.subject_id.in_(steps),
        ),
    )


class CustomFieldsRepository(Repository):
    def add(self, *rows: CustomFieldKey | CustomFieldValue) -> None:
        self.db.add_all(rows)

    # Keys.

    async def key(self, org_id: str, key_id_or_name: str) -> CustomFieldKey | None:
        stmt = select(CustomFieldKey).where(
            self.scope(CustomFieldKey, org_id),
            or_(CustomFieldKey.id == key_id_or_name, CustomFieldKey.key == key_id_or_name),
        )
        return (await self.db.execute(stmt)).scalars().first()

    async def named(self, org_id: str, names: Sequence[str]) -> list[CustomFieldKey]:
        stmt = select(CustomFieldKey).where(
            self.scope(CustomFieldKey, org_id), CustomFieldKey.key.in_(list(names))
        )
        return list((await self.db.execute(stmt)).scalars())

    async def keys_for(self, org_id: str, kinds: Sequence[str]) -> list[CustomFieldKey]:
        stmt = select(CustomFieldKey).where(
            self.scope(CustomFieldKey, org_id), CustomFieldKey.applies_to.in_(list(kinds))
        )
        return list((await self.db.execute(stmt)).scalars())

    async def search_keys(
        self, org_id: str, page: PageParams, f: KeyFilters
    ) -> tuple[list[CustomFieldKey], int]:
        stmt = _filtered(select(CustomFieldKey).where(self.scope(CustomFieldKey, org_id)), f)
        total = await count_of(self.db, stmt)
        column = SORTABLE.get(f.sort_by, CustomFieldKey.key)
        order = column.desc() if f.descending else column.asc()
        stmt = stmt.order_by(order, CustomFieldKey.id).limit(page.per_page).offset(page.offset)
        return list((await self.db.execute(stmt)).scalars()), total

    async def delete_key(self, org_id: str, key_id: str) -> None:
        await self.db.execute(
            delete(CustomFieldValue).where(
                self.scope(CustomFieldValue, org_id), CustomFieldValue.key_id == key_id
            )
        )
        await self.db.execute(
            delete(CustomFieldKey).where(
                self.scope(CustomFieldKey, org_id), CustomFieldKey.id == key_id
            )
        )

    # Values.

    async def values_of(
        self, org_id: str, subject_type: str, subject_ids: Sequence[str]
    ) -> list[tuple[CustomFieldValue, CustomFieldKey]]:
        if not subject_ids:
            return []
        stmt = (
            select(CustomFieldValue, CustomFieldKey)
            .join(CustomFieldKey, CustomFieldKey.id == CustomFieldValue.key_id)
            .where(
                self.scope(CustomFieldValue, org_id),
                CustomFieldValue.subject_type == subject_type,
                CustomFieldValue.subject_id.in_(list(subject_ids)),
            )
            .order_by(CustomFieldKey.key)
        )
        return [(v, k) for v, k in (await self.db.execute(stmt)).all()]

    async def delete_values(
        self, org_id: str, subject_type: str, subject_id: str, key_ids: Sequence[str]
    ) -> None:
        if not key_ids:
            return
        await self.db.execute(
            delete(CustomFieldValue).where(
                self.scope(CustomFieldValue, org_id),
                CustomFieldValue.subject_type == subject_type,
                CustomFieldValue.subject_id == subject_id,
                CustomFieldValue.key_id.in_(list(key_ids)),
            )
        )

    async def forget_subjects(
        self, org_id: str, subject_type: str, subject_ids: Sequence[str]
    ) -> None:
        if subject_ids:
            await self.db.execute(
                delete(CustomFieldValue).where(
                    self.scope(CustomFieldValue, org_id),
                    CustomFieldValue.subject_type == subject_type,
                    CustomFieldValue.subject_id.in_(list(subject_ids)),
                )
            )

    async def forget_run(self, org_id: str, run_id: str) -> None:
        await self.forget_subjects(org_id, "process", [run_id])
        tasks = select(Task.id).where(Task.org_id == org_id, Task.run_id == run_id)
        await self.db.execute(
            delete(CustomFieldValue).where(
                self.scope(CustomFieldValue, org_id),
                CustomFieldValue.subject_type == "task",
                CustomFieldValue.subject_id.in_(tasks),
            )
        )

    async def forget_missing_template_side(self, org_id: str) -> None:
        """Values of templates, steps and fields that no longer exist (archived ones do)."""
        steps = (
            select(Step.id)
            .join(Checklist, Checklist.id == Step.checklist_id)
            .where(Checklist.org_id == org_id)
        )
        existing: dict[str, Select[Any]] = {
            "template": select(Checklist.id).where(Checklist.org_id == org_id),
            "step": steps,
            "form_field": select(Capture.id).where(Capture.org_id == org_id),
            "kickoff_field": select(Capture.id).where(Capture.org_id == org_id),
        }
        for kind, ids in existing.items():
            await self.db.execute(
                delete(CustomFieldValue).where(
                    self.scope(CustomFieldValue, org_id),
                    CustomFieldValue.subject_type == kind,
                    CustomFieldValue.subject_id.not_in(ids),
                )
            )

    async def template_values(
        self, org_id: str, checklist_id: str
    ) -> list[tuple[str, str, str, Any]]:
        """(kind, step or template id, key id, value) of a template and of its steps: what a
        process launched from it inherits."""
        params = {ORG_ID.key: org_id, _CHECKLIST_ID.key: checklist_id}
        return [(t, s, k, v) for t, s, k, v in (await self.db.execute(_template_values(), params))]

    async def run_tasks_by_step(self, org_id: str, run_id: str) -> list[tuple[str, str]]:
        stmt = select(Task.id, Task.step_id).where(
            self.scope(Task, org_id), Task.run_id == run_id, Task.step_id.is_not(None)
        )
        return [(t, s) for t, s in (await self.db.execute(stmt)).all() if s]

    async def lock(self, row: Any) -> None:
        """The record's row lock: the writers of its values go one at a time."""
        model = type(row)
        await locked(self.db, model, select(model).where(model.id == row.id), row.id)

    # The records values are on (live ones of the organization).

    async def run(self, org_id: str, run_id: str) -> Run | None:
        return await self.one(Run, run_id, org_id)

    async def task(self, org_id: str, run_id: str, task_id: str) -> Task | None:
        stmt = select(Task).where(
            self.scope(Task, org_id), Task.run_id == run_id, Task.id == task_id
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def task_owners(self, task_id: str) -> list[tuple[str, str]]:
        stmt = select(TaskOwner.kind, TaskOwner.ref).where(TaskOwner.task_id == task_id)
        return [(k, r) for k, r in (await self.db.execute(stmt)).all()]

    async def member(self, org_id: str, user_id: int) -> Membership | None:
        stmt = select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def guest(self, org_id: str, guest_code: str) -> Guest | None:
        """By the guest's code, as Tallyfy names them; by their email or id too, as checkrun's
        own guest routes do."""
        named = [Guest.guest_code == guest_code, Guest.email == guest_code.lower()]
        if guest_code.isdigit() and len(guest_code) <= 9:  # a longer number would overflow
            named.append(Guest.id == int(guest_code))
        stmt = select(Guest).where(self.scope(Guest, org_id), or_(*named))
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def folder(self, org_id: str, folder_id: str) -> Folder | None:
        return await self.one(Folder, folder_id, org_id)

    async def tag(self, org_id: str, tag_id: str) -> Tag | None:
        return await self.one(Tag, tag_id, org_id)

    async def checklist(self, org_id: str, checklist_id: str) -> Checklist | None:
        return await self.one(Checklist, checklist_id, org_id)

    async def step(self, org_id: str, checklist_id: str, step_id: str) -> Step | None:
        stmt = (
            select(Step)
            .join(Checklist, Checklist.id == Step.checklist_id)
            .where(
                self.scope(Checklist, org_id),
                Checklist.id == checklist_id,
                Step.id == step_id,
            )
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def step_capture(
        self, org_id: str, checklist_id: str, step_id: str, capture_id: str
    ) -> Capture | None:
        stmt = (
            select(Capture)
            .join(Step, Step.id == Capture.step_id)
            .join(Checklist, Checklist.id == Step.checklist_id)
            .where(
                self.scope(Checklist, org_id),
                Checklist.id == checklist_id,
                Step.id == step_id,
                Capture.id == capture_id,
            )
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def prerun(self, org_id: str, checklist_id: str, capture_id: str) -> Capture | None:
        stmt = (
            select(Capture)
            .join(Checklist, Checklist.id == Capture.checklist_id)
            .where(
                self.scope(Checklist, org_id),
                Checklist.id == checklist_id,
                Capture.is_prerun.is_(True),
                Capture.id == capture_id,
            )
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()
