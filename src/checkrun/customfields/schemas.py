"""Request bodies and read models of custom fields."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from checkrun.customfields.models import CustomFieldKey
from checkrun.kit.clock import iso

FieldType = Literal[
    "text",
    "textarea",
    "number",
    "boolean",
    "date",
    "email",
    "url",
    "radio",
    "dropdown",
    "multiselect",
    "table",
]
# The record kinds, by their names in the app; the API's own words are accepted too.
KINDS = (
    "process",
    "task",
    "member",
    "guest",
    "folder",
    "tag",
    "template",
    "step",
    "form_field",
    "kickoff_field",
)
ALIASES = {
    "run": "process",
    "user": "member",
    "checklist": "template",
    "blueprint": "template",
    "capture": "form_field",
    "prerun": "kickoff_field",
    "kick_off_field": "kickoff_field",
}


def kind_of(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower().replace("-", "_")
        return ALIASES.get(word, word)
    return value


AppliesTo = Annotated[
    Literal[
        "process",
        "task",
        "member",
        "guest",
        "folder",
        "tag",
        "template",
        "step",
        "form_field",
        "kickoff_field",
    ],
    BeforeValidator(kind_of),
]
KeyName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
Choice = Annotated[str, Field(min_length=1, max_length=255)]


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: KeyName
    label: Annotated[str, Field(max_length=200)] | None = None
    applies_to: AppliesTo
    field_type: FieldType
    key_type: Literal["org", "system"] = "org"
    is_required: bool = False
    is_active: bool = True
    options: Annotated[list[Choice], Field(max_length=200)] = []
    columns: Annotated[list[Choice], Field(max_length=50)] = []


class KeyUpdate(BaseModel):
    """Only the settings change; `key`, `applies_to`, `field_type` and `key_type` are fixed at
    creation (sending the same value again is fine)."""

    model_config = ConfigDict(extra="ignore")

    key: str | None = None
    applies_to: Annotated[str, BeforeValidator(kind_of)] | None = None
    field_type: str | None = None
    key_type: str | None = None
    label: Annotated[str, Field(max_length=200)] | None = None
    is_required: bool | None = None
    is_active: bool | None = None
    options: Annotated[list[Choice], Field(max_length=200)] | None = None
    columns: Annotated[list[Choice], Field(max_length=50)] | None = None


class ValuesReplace(BaseModel):
    model_config = ConfigDict(extra="ignore")

    custom_fields: dict[str, Any]


class ValueSet(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: Any = Field(...)


class KeyRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    key: str
    label: str | None
    applies_to: str
    field_type: str
    key_type: str
    is_required: bool
    is_active: bool
    options: list[Any]
    columns: list[Any]
    created_by: int | None
    created_at: str | None
    last_updated: str | None

    @classmethod
    def of(cls, key: CustomFieldKey) -> KeyRead:
        return cls(
            id=key.id,
            key=key.key,
            label=key.label,
            applies_to=key.applies_to,
            field_type=key.field_type,
            key_type=key.key_type,
            is_required=key.is_required,
            is_active=key.is_active,
            options=list(key.options),
            columns=list(key.columns),
            created_by=key.created_by,
            created_at=iso(key.created_at),
            last_updated=iso(key.updated_at),
        )


class ValuesRead(BaseModel):
    """A record's values by key name (`{}` when it holds none)."""

    custom_fields: dict[str, Any]
