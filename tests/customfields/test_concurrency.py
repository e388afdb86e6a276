"""Writers of one record's values, truly in parallel: each write happens whole, once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Org
from tests.customfields.test_keys import make_key
from tests.customfields.test_values import a_folder, fields
from tests.support.factories import db_count


def test_parallel_writes_of_one_new_value_store_one_row(org: Org) -> None:
    make_key(org, "where", applies_to="folder")
    make_key(org, "size", applies_to="folder", field_type="number")
    path = a_folder(org)

    def write(n: int) -> int:
        if n % 2:
            body = {"custom_fields": {"where": f"w{n}", "size": n}}
            return org.api.put(path + "/custom-fields", json=body).status_code
        return org.api.patch(path + "/custom-fields/where", json={"value": f"p{n}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(write, range(16)))
    assert statuses == [200] * 16
    folder_id = path.rsplit("/", 1)[1]
    rows = db_count(
        org, "custom_field_values", "subject_id = :s AND subject_type = 'folder'", s=folder_id
    )
    stored = fields(org.api, path)
    assert rows == len(stored) and set(stored) <= {"where", "size"} and "where" in stored
