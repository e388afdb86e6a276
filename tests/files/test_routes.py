"""Files: upload, metadata, inline view, ranges, download, archive and permanent delete (§2.11,
§3.6, §4.18, seed pages), on each database and store."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests.conftest import Org
from tests.support.factories import checklist, ok, one_off_task, run, run_upload, upload

NOT_FOUND = {"error": True, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}


def post_file(
    org: Org,
    data: dict[str, str],
    filename: str = "notes.txt",
    content: bytes = b"hello",
    route: str = "/file",
) -> Any:
    return org.api.post(org.path(route), data=data, files={"name": (filename, content)})


def task_file(
    org: Org, content: bytes = b"hello world", filename: str = "notes.txt"
) -> dict[str, Any]:
    return upload(org, "Task", one_off_task(org)["id"], content=content, filename=filename)


def stored(org: Org) -> set[str]:
    """Ids of the assets whose bytes this org has in the store."""
    prefix = org.id + "/"
    return {k.removeprefix(prefix) for k in org.server.stored_keys() if k.startswith(prefix)}


def filename_star(disposition: str) -> str:
    match = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)
    assert match, disposition
    return unquote(match.group(1))


# --- upload -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/file", "/assets"])
def test_upload_to_a_task_returns_the_asset(org: Org, route: str) -> None:
    task = one_off_task(org)
    data = {"subject_type": "Task", "subject_id": task["id"], "uploaded_from": "capture123"}
    asset = ok(post_file(org, data, "report.pdf", b"%PDF-1.4 body", route=route))
    assert re.fullmatch(r"[0-9a-f]{32}", asset["id"])
    assert asset["filename"] == "report.pdf"
    assert asset["subject"] == {"id": task["id"], "type": "Task"}
    assert asset["uploaded_from"] == "capture123"
    assert asset["size"] == len(b"%PDF-1.4 body")
    assert asset["mime_type"] == "application/pdf"
    assert asset["version"] == 1


def test_upload_to_a_run_step_and_a_checklist(org: Org) -> None:
    template = checklist(org)
    step_id = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))[0]["id"]
    launched = run(org, template["id"])
    on_run = upload(org, "Run", launched["id"], step_id=step_id, checklist_id=template["id"])
    assert on_run["subject"] == {"id": launched["id"], "type": "Run"}
    assert on_run["step_id"] == step_id
    on_template = upload(org, "Checklist", template["id"])
    assert on_template["subject"] == {"id": template["id"], "type": "Checklist"}
    assert on_template["uploaded_from"] == "ko_field"


def test_every_upload_creates_a_new_asset(org: Org) -> None:
    task = one_off_task(org)
    ids = {upload(org, "Task", task["id"])["id"] for _ in range(3)}
    assert len(ids) == 3
    assert stored(org) == ids


def test_invalid_subject_type_is_422(org: Org) -> None:
    task = one_off_task(org)
    response = post_file(org, {"subject_type": "Banana", "subject_id": task["id"]})
    assert response.status_code == 422
    assert "subject_type" in response.json()["errors"]


def test_unknown_subject_is_422_subject_not_found(org: Org) -> None:
    response = post_file(org, {"subject_type": "Task", "subject_id": "0" * 32})
    assert response.status_code == 422
    assert response.json()["message"] == "Subject not found"


def test_subject_of_another_org_is_422_subject_not_found(org: Org) -> None:
    other_boot = org.server.new_org("Other")
    with org.server.client(other_boot.token) as other_api:
        other = Org(
            org.server,
            other_boot.org_id,
            other_boot.user_id,
            other_boot.email,
            other_boot.token,
            other_api,
        )
        foreign_task = one_off_task(other)
        foreign_template = checklist(other)
    for subject_type, subject_id in (
        ("Task", foreign_task["id"]),
        ("Checklist", foreign_template["id"]),
    ):
        response = post_file(org, {"subject_type": subject_type, "subject_id": subject_id})
        assert response.status_code == 422, response.text
        assert response.json()["message"] == "Subject not found"
    assert stored(org) == set()


def test_archived_or_mismatched_subject_is_422(org: Org) -> None:
    task = one_off_task(org)
    assert org.api.delete(org.path(f"/tasks/{task['id']}")).status_code == 200
    template = checklist(org)
    launched = run(org, template["id"])
    assert org.api.delete(org.path(f"/runs/{launched['id']}")).status_code == 200
    run_fields = {"step_id": "a" * 32, "checklist_id": template["id"]}
    for data in (
        {"subject_type": "Task", "subject_id": task["id"]},
        {"subject_type": "Run", "subject_id": launched["id"], **run_fields},
        {"subject_type": "Task", "subject_id": template["id"]},
        {"subject_type": "Checklist", "subject_id": launched["id"]},
    ):
        response = post_file(org, data)
        assert response.status_code == 422, data
        assert response.json()["message"] == "Subject not found"
    assert stored(org) == set()


def test_run_subject_requires_step_and_checklist(org: Org) -> None:
    launched = run(org)
    response = post_file(org, {"subject_type": "Run", "subject_id": launched["id"]})
    assert response.status_code == 422
    assert {"step_id", "checklist_id"} <= set(response.json()["errors"])


def test_missing_file_is_422_on_name(org: Org) -> None:
    task = one_off_task(org)
    response = org.api.post(
        org.path("/file"),
        data={"subject_type": "Task", "subject_id": task["id"]},
        files={"other": ("x.txt", b"x")},
    )
    assert response.status_code == 422
    assert "name" in response.json()["errors"]


@pytest.mark.parametrize("filename", ["evil.exe", "page.html", "noextension"])
def test_disallowed_extension_is_422(org: Org, filename: str) -> None:
    task = one_off_task(org)
    response = post_file(org, {"subject_type": "Task", "subject_id": task["id"]}, filename)
    assert response.status_code == 422
    assert "name" in response.json()["errors"]
    assert stored(org) == set()


@pytest.mark.parametrize("field", ["step_id", "checklist_id"])
def test_task_subject_takes_neither_step_nor_checklist(org: Org, field: str) -> None:
    task = one_off_task(org)
    response = post_file(
        org, {"subject_type": "Task", "subject_id": task["id"], field: checklist(org)["id"]}
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["errors"]) == {field}
    assert stored(org) == set()


def test_non_multipart_body_is_415(org: Org) -> None:
    task = one_off_task(org)
    response = org.api.post(
        org.path("/file"), json={"subject_type": "Task", "subject_id": task["id"]}
    )
    assert response.status_code == 415
    assert response.json()["error"] is True


# --- metadata -----------------------------------------------------------------------------


def test_metadata_is_a_one_element_array(org: Org) -> None:
    content = b"line one\nline two\n"
    asset = task_file(org, content)
    response = org.api.get(org.path(f"/assets/{asset['id']}"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert isinstance(data, list) and len(data) == 1
    meta = data[0]
    assert meta["id"] == asset["id"]
    assert meta["filename"] == "notes.txt"
    assert meta["version"] == 1
    assert meta["step_id"] is None
    assert meta["uploaded_from"] == "ko_field"
    assert meta["uploaded_to_s3"] is True
    assert meta["subject"] == asset["subject"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["uploaded_at"])
    assert meta["size"] == len(content)
    assert meta["mime_type"] == "text/plain"


def test_metadata_of_unknown_asset_is_404(org: Org) -> None:
    response = org.api.get(org.path(f"/assets/{'0' * 32}"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_another_orgs_asset_is_invisible_in_my_org(org: Org) -> None:
    boot = org.server.new_org("Other")
    with org.server.client(boot.token) as other_api:
        other = Org(org.server, boot.org_id, boot.user_id, boot.email, boot.token, other_api)
        foreign = task_file(other)
    for path in (f"/assets/{foreign['id']}", f"/file/{foreign['id']}", f"/file/{foreign['id']}/dl"):
        response = org.api.get(org.path(path))
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND
    assert org.api.delete(org.path(f"/file/{foreign['id']}")).status_code == 404
    assert org.server.has_bytes(boot.org_id, foreign["id"])


def test_another_orgs_path_is_403(org: Org) -> None:
    boot = org.server.new_org("Other")
    with org.server.client(boot.token) as other_api:
        other = Org(org.server, boot.org_id, boot.user_id, boot.email, boot.token, other_api)
        foreign = task_file(other)
    for path in (f"/assets/{foreign['id']}", f"/file/{foreign['id']}"):
        response = org.api.get(f"/organizations/{boot.org_id}{path}")
        assert response.status_code == 403, path
        assert response.json()["error"] is True
    assert org.api.delete(f"/organizations/{boot.org_id}/file/{foreign['id']}").status_code == 403
    assert org.server.has_bytes(boot.org_id, foreign["id"])


def test_upload_content_type_is_case_insensitive(org: Org) -> None:
    task = one_off_task(org)
    boundary = "XyZ123"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="subject_type"\r\n\r\nTask\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="subject_id"\r\n\r\n{task["id"]}\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="name"; filename="say \\"hi\\".txt"\r\n'
        "Content-Type: text/plain\r\n\r\nraw\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = org.api.post(
        org.path("/file"),
        content=body,
        headers={"Content-Type": f"Multipart/Form-Data; boundary={boundary}"},
    )
    asset = ok(response)
    assert asset["filename"] == 'say "hi".txt'
    assert asset["size"] == 3


# --- view and download --------------------------------------------------------------------


def test_inline_view_serves_exact_bytes_with_real_type(org: Org) -> None:
    text = task_file(org, b"plain text\n", "notes.txt")
    response = org.api.get(org.path(f"/file/{text['id']}"))
    assert response.status_code == 200
    assert response.content == b"plain text\n"
    assert response.headers["content-type"].split(";")[0] == "text/plain"
    assert response.headers["x-content-type-options"] == "nosniff"

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    image = task_file(org, png, "pixel.png")
    response = org.api.get(org.path(f"/file/{image['id']}"))
    assert response.content == png
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_download_is_an_octet_stream_attachment(org: Org) -> None:
    content = bytes(range(256)) * 40
    asset = task_file(org, content, "data.csv")
    response = org.api.get(org.path(f"/file/{asset['id']}/dl"))
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(content))
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="data.csv"' in disposition
    assert filename_star(disposition) == "data.csv"


def test_markup_types_are_never_served_inline(org: Org) -> None:
    asset = task_file(org, b"<?xml version='1.0'?><html/>", "feed.xml")
    response = org.api.get(org.path(f"/file/{asset['id']}"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_empty_file_round_trips(org: Org) -> None:
    asset = task_file(org, b"", "empty.txt")
    assert asset["size"] == 0
    response = org.api.get(org.path(f"/file/{asset['id']}/dl"))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


BODY = bytes(range(256)) * 40  # 10240 bytes


def ranged(org: Org, asset_id: str, route: str = "/dl", **headers: str) -> Any:
    return org.api.get(org.path(f"/file/{asset_id}{route}"), headers=headers)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, 10239),
        ("bytes=-5", 10235, 10239),
        ("bytes=10000-99999", 10000, 10239),
        ("bytes=-99999", 0, 10239),
        ("bytes=7-7", 7, 7),
    ],
)
def test_one_range_is_206_with_just_those_bytes(
    org: Org, header: str, start: int, end: int
) -> None:
    asset = task_file(org, BODY, "table.csv")
    got = ranged(org, asset["id"], Range=header)
    assert got.status_code == 206, got.text
    assert got.content == BODY[start : end + 1]
    assert got.headers["content-range"] == f"bytes {start}-{end}/{len(BODY)}"
    assert got.headers["content-length"] == str(end - start + 1)
    assert got.headers["accept-ranges"] == "bytes"


def test_inline_view_serves_ranges_too(org: Org) -> None:
    asset = task_file(org, b"0123456789", "digits.txt")
    got = ranged(org, asset["id"], route="", Range="bytes=2-4")
    assert (got.status_code, got.content) == (206, b"234")
    assert got.headers["content-type"].split(";")[0] == "text/plain"
    assert got.headers["content-disposition"].startswith("inline;")


@pytest.mark.parametrize("header", ["bytes=10-20", "bytes=10-", "bytes=-0"])
def test_unsatisfiable_range_is_416(org: Org, header: str) -> None:
    asset = task_file(org, b"0123456789")
    for route in ("", "/dl"):
        refused = ranged(org, asset["id"], route=route, Range=header)
        assert refused.status_code == 416, (route, refused.text)
        assert refused.headers["content-range"] == "bytes */10"
        assert refused.json()["code"] == "RANGE_NOT_SATISFIABLE"


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "bytes=5-2", "lines=0-1", "bytes=x-"])
def test_several_ranges_or_a_malformed_one_get_the_whole_file(org: Org, header: str) -> None:
    asset = task_file(org, b"0123456789")
    got = ranged(org, asset["id"], Range=header)
    assert (got.status_code, got.content) == (200, b"0123456789")
    assert "content-range" not in got.headers
    assert got.headers["accept-ranges"] == "bytes"


def test_if_none_match_with_the_etag_is_304(org: Org) -> None:
    asset = task_file(org, b"cache me")
    first = ranged(org, asset["id"], route="")
    etag = first.headers["etag"]
    assert etag == f'"{asset["checksum"]}"'
    for route in ("", "/dl"):
        for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
            again = ranged(org, asset["id"], route=route, **{"If-None-Match": header})
            assert (again.status_code, again.content) == (304, b""), header
            assert again.headers["etag"] == etag
            assert again.headers["accept-ranges"] == "bytes"
    changed = ranged(org, asset["id"], **{"If-None-Match": '"something-else"'})
    assert (changed.status_code, changed.content) == (200, b"cache me")


def test_if_range_with_a_stale_etag_gets_the_whole_file(org: Org) -> None:
    asset = task_file(org, b"0123456789")
    etag = f'"{asset["checksum"]}"'
    fresh = ranged(org, asset["id"], Range="bytes=0-1", **{"If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, b"01")
    stale = ranged(org, asset["id"], Range="bytes=0-1", **{"If-Range": '"old"'})
    assert (stale.status_code, stale.content) == (200, b"0123456789")


def test_a_record_whose_bytes_are_gone_is_404_not_a_cut_off_download(org: Org) -> None:
    asset = task_file(org, b"soon gone")
    asyncio.run(org.server.store.delete(f"{org.id}/{asset['id']}"))
    for route in ("", "/dl"):
        response = ranged(org, asset["id"], route=route)
        assert response.status_code == 404, route
        assert response.json() == NOT_FOUND


@pytest.mark.parametrize("name", ["résumé 2024.pdf", 'say "hi" now.txt', "日本語;x=1.txt"])
def test_download_names_survive_encoding(org: Org, name: str) -> None:
    asset = task_file(org, b"body", name)
    assert asset["filename"] == name
    response = org.api.get(org.path(f"/file/{asset['id']}/dl"))
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert filename_star(disposition) == name
    # The plain filename="..." fallback is one quoted, ASCII-only token.
    fallback = re.search(r'filename="([^"]*)"', disposition)
    assert fallback and fallback.group(1).isascii()
    assert disposition.count('"') == 2


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("a\\b.txt", "b.txt"),
        ("/abs/path/x.csv", "x.csv"),
    ],
)
def test_path_separators_are_stripped_and_stay_in_the_store(org: Org, raw: str, kept: str) -> None:
    asset = task_file(org, b"contained", raw)
    assert asset["filename"] == kept
    assert stored(org) == {asset["id"]}
    data_dir = org.server.settings.data_dir
    assert not (data_dir / "etc").exists()
    assert not (org.server.files_dir / "etc").exists()
    response = org.api.get(org.path(f"/file/{asset['id']}/dl"))
    assert response.content == b"contained"
    assert filename_star(response.headers["content-disposition"]) == kept


# --- delete -------------------------------------------------------------------------------


def test_delete_removes_record_and_bytes(org: Org) -> None:
    asset = task_file(org)
    assert stored(org) == {asset["id"]}
    response = org.api.delete(org.path(f"/file/{asset['id']}"))
    assert response.status_code == 200
    assert response.content == b""
    for path in (f"/assets/{asset['id']}", f"/file/{asset['id']}", f"/file/{asset['id']}/dl"):
        gone = org.api.get(org.path(path))
        assert gone.status_code == 404, path
        assert gone.json() == NOT_FOUND
    assert stored(org) == set()
    again = org.api.delete(org.path(f"/file/{asset['id']}"))
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_delete_unknown_is_404(org: Org) -> None:
    response = org.api.delete(org.path(f"/file/{'f' * 32}"))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_standard_member_cannot_delete_the_admins_file(org: Org) -> None:
    asset = task_file(org)
    _, standard = org.member("standard")
    with standard:
        response = standard.delete(org.path(f"/file/{asset['id']}"))
    assert response.status_code == 403
    assert response.json()["error"] is True
    assert stored(org) == {asset["id"]}
    assert org.api.get(org.path(f"/assets/{asset['id']}")).status_code == 200


def test_uploader_can_delete_their_own_file(org: Org) -> None:
    task = one_off_task(org)
    _, standard = org.member("standard")
    with standard:
        made = standard.post(
            org.path("/file"),
            data={"subject_type": "Task", "subject_id": task["id"]},
            files={"name": ("mine.txt", b"mine")},
        )
        asset = ok(made)
        response = standard.delete(org.path(f"/file/{asset['id']}"))
    assert response.status_code == 200
    assert response.content == b""
    assert stored(org) == set()


def test_admin_can_delete_a_members_file(org: Org) -> None:
    task = one_off_task(org)
    _, standard = org.member("standard")
    with standard:
        asset = ok(
            standard.post(
                org.path("/file"),
                data={"subject_type": "Task", "subject_id": task["id"]},
                files={"name": ("theirs.txt", b"theirs")},
            )
        )
    response = org.api.delete(org.path(f"/file/{asset['id']}"))
    assert response.status_code == 200
    assert stored(org) == set()


def test_delete_on_assets_archives_and_keeps_the_bytes(org: Org) -> None:
    asset = task_file(org, b"keep me")
    response = org.api.delete(org.path(f"/assets/{asset['id']}"))
    assert response.status_code == 200, response.text
    archived = response.json()["data"]
    assert archived["id"] == asset["id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", archived["archived_at"])
    for path in (f"/assets/{asset['id']}", f"/file/{asset['id']}", f"/file/{asset['id']}/dl"):
        gone = org.api.get(org.path(path))
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND), path
    assert org.api.delete(org.path(f"/assets/{asset['id']}")).status_code == 404
    assert stored(org) == {asset["id"]}
    purged = org.api.delete(org.path(f"/file/{asset['id']}"))
    assert (purged.status_code, purged.content) == (200, b"")
    assert stored(org) == set()


def test_standard_member_cannot_archive_the_admins_file(org: Org) -> None:
    asset = task_file(org)
    _, standard = org.member("standard")
    with standard:
        response = standard.delete(org.path(f"/assets/{asset['id']}"))
    assert response.status_code == 403
    assert ok(org.api.get(org.path(f"/assets/{asset['id']}")))[0]["archived_at"] is None


def test_permanent_run_delete_removes_its_bytes(org: Org) -> None:
    launched = run(org, checklist(org, steps=1)["id"])
    on_run = run_upload(org, launched)
    other = task_file(org)
    assert stored(org) == {on_run["id"], other["id"]}
    assert org.api.delete(org.path(f"/runs/{launched['id']}/delete")).status_code == 200
    assert stored(org) == {other["id"]}
