"""A template's threads send no email, mentions included (there is no task or process for
the email to link to); the same mention on a process does."""

from __future__ import annotations

from tests.conftest import Org
from tests.mail.support import outbox, person
from tests.support.factories import checklist, ok, run


def test_a_mention_on_a_template_is_not_emailed(mail_org: Org) -> None:
    mentioned_id, mentioned_email, _ = person(mail_org, first_name="Cora")
    template = checklist(mail_org, steps=1)
    body = {"content": f"Have a look, @[{mentioned_id}]", "sent_to": [mentioned_id]}
    path = mail_org.path(f"/checklists/{template['id']}")
    ok(mail_org.api.post(path + "/comment", json=body), 201)
    ok(mail_org.api.post(path + "/problem", json=body), 201)
    where = "org_id = :o AND to_email = :e"
    assert outbox(mail_org.server, where, o=mail_org.id, e=mentioned_email) == []

    launched = run(mail_org, template["id"])
    ok(mail_org.api.post(mail_org.path(f"/runs/{launched['id']}/comment"), json=body), 201)
    assert len(outbox(mail_org.server, where, o=mail_org.id, e=mentioned_email)) == 1
