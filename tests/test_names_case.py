"""Tag titles and group names that differ only in case are one name, for all of Unicode and
alike on both databases: the second gets the field's 422, never a 409, whichever database
folds what."""

from __future__ import annotations

import unicodedata

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ids, ok, run

PAIRS = [
    ("ÄQ", "Äq"),  # SQLite's lower() folds ASCII only
    ("ÄQ", "äq"),
    ("Ωμέγα", "ΩΜΈΓΑ"),
    ("Straße", "STRASSE"),  # full case folding
    ("Émile", unicodedata.normalize("NFD", "émile")),  # composed and decomposed
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_tag_titles_differing_in_case_are_one(org: Org, first: str, second: str) -> None:
    made = ok(org.api.post(org.path("/tags"), json={"title": first}), 201)
    again = org.api.post(org.path("/tags"), json={"title": second})
    assert again.status_code == 422, again.text
    assert again.json()["errors"] == {"title": ["The title has already been taken."]}
    other = ok(org.api.post(org.path("/tags"), json={"title": "Other"}), 201)
    renamed = org.api.put(org.path(f"/tags/{other['id']}"), json={"title": second})
    assert renamed.status_code == 422, renamed.text
    # The tag's own title in another case is not a clash with itself.
    ok(org.api.put(org.path(f"/tags/{made['id']}"), json={"title": second}))


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_group_names_differing_in_case_are_one(org: Org, first: str, second: str) -> None:
    ok(org.api.post(org.path("/groups"), json={"name": first, "description": ""}), 201)
    again = org.api.post(org.path("/groups"), json={"name": second, "description": ""})
    assert again.status_code == 422, again.text
    assert again.json()["errors"] == {"name": ["The name has already been taken."]}


def test_names_differing_in_more_than_case_are_two(org: Org) -> None:
    ok(org.api.post(org.path("/tags"), json={"title": "Äq"}), 201)
    ok(org.api.post(org.path("/tags"), json={"title": "Aq"}), 201)
    ok(org.api.post(org.path("/groups"), json={"name": "Äq", "description": ""}), 201)
    ok(org.api.post(org.path("/groups"), json={"name": "Aq", "description": ""}), 201)


def test_tag_filter_finds_a_title_in_any_case(org: Org) -> None:
    tag = ok(org.api.post(org.path("/tags"), json={"title": "Ärger"}), 201)
    launched = run(org, checklist(org, steps=1)["id"])
    ok(
        org.api.post(
            org.path("/checklists/tags"),
            json={
                "subject_id": launched["id"],
                "subject_type": "Run",
                "tag_id": tag["id"],
                "tag_type": "private",
            },
        ),
        201,
    )
    found = ok(org.api.get(org.path("/runs"), params={"tag": "ÄRGER"}))
    assert launched["id"] in ids(found)
