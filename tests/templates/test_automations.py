"""Automation rules: the pure evaluator (no HTTP), then the rule routes over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from checkrun.templates.automations import (
    Effects,
    StepState,
    assigned,
    evaluate,
    fires,
    referenced_ids,
    settle,
    text_of,
)
from tests.conftest import Org
from tests.support.factories import checklist, ok, with_owner_ids

FIELD, OTHER, STEP = "f" * 32, "e" * 32, "a" * 32


def rule(
    *conditions: dict[str, Any], verb: str = "hide", logic: str = "AND", **action: Any
) -> dict[str, Any]:
    kind = {"show": "visibility", "hide": "visibility", "assign": "assignment", "set": "deadline"}[
        verb
    ]
    return {
        "condition_logic": logic,
        "conditions": list(conditions),
        "then_actions": [
            {"action_type": kind, "action_verb": verb, "target_step_id": STEP, **action}
        ],
    }


def when(operation: str, statement: Any = None, field: str = FIELD) -> dict[str, Any]:
    return {
        "conditionable_type": "Capture",
        "conditionable_id": field,
        "operation": operation,
        "statement": statement,
    }


def hides(condition: dict[str, Any], value: Any) -> bool:
    return STEP in evaluate([rule(condition)], {FIELD: value}).hidden_steps


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        (when("equals", "yes"), " YES ", True),
        (when("equals", "yes"), "yes please", False),
        (when("equals", "yes"), None, False),
        (when("not_equals", "yes"), "no", True),
        (when("not_equals", "yes"), "Yes", False),
        (when("contains", "ACME"), "acme corp", True),
        (when("contains", "acme"), "initech", False),
        (when("not_contains", "acme"), "initech", True),
        (when("is_empty"), "", True),
        (when("is_empty"), "  ", True),
        (when("is_empty"), "x", False),
        (when("is_not_empty"), "x", True),
        (when("is_not_empty"), [], False),
        (when("greater_than", "10"), "12.5", True),
        (when("greater_than", "10"), "abc", False),
        (when("less_than", 10), "9", True),
        (when("matches_regex", "x"), "x", False),
    ],
)
def test_operations_on_text(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert hides(condition, value) is expected


def test_option_values_compare_by_text_or_by_option_id() -> None:
    chosen = {"id": 3, "text": "Office 365", "value": None}
    assert hides(when("equals", "office 365"), chosen)
    assert hides(when("equals", 3), chosen)
    assert not hides(when("equals", "Slack"), chosen)
    assert hides(when("equals", {"id": 3, "text": "Office 365"}), chosen)


def test_multiselect_counts_only_selected_options() -> None:
    value = [
        {"id": 1, "text": "Slack", "selected": True},
        {"id": 2, "text": "Email", "selected": False},
    ]
    assert hides(when("equals", "slack"), value)
    assert not hides(when("equals", "email"), value)
    assert hides(when("contains", "lac"), value)
    assert hides(when("is_empty"), [{"id": 2, "text": "Email", "selected": False}])


def test_files_and_assignee_fields_are_not_empty_once_filled() -> None:
    assert hides(when("is_not_empty"), [{"id": "b" * 32, "filename": "a.pdf"}])
    assert hides(when("is_empty"), {"users": [], "guests": [], "groups": []})
    assert hides(when("contains", "g@x.com"), {"users": [], "guests": ["g@x.com"]})


@pytest.mark.parametrize(
    "logic", [{"condition_logic": "OR"}, {"condition_type": "any"}, {"match": "ANY"}]
)
def test_any_logic_needs_one_condition(logic: dict[str, Any]) -> None:
    either = {
        k: v
        for k, v in rule(when("equals", "a"), when("equals", "b", OTHER)).items()
        if k != "condition_logic"
    } | logic
    assert STEP in evaluate([either], {FIELD: "a", OTHER: "x"}).hidden_steps
    assert STEP not in evaluate([either], {FIELD: "x", OTHER: "x"}).hidden_steps


def test_all_logic_needs_every_condition_and_at_least_one() -> None:
    both = rule(when("equals", "a"), when("equals", "b", OTHER))
    assert STEP not in evaluate([both], {FIELD: "a", OTHER: "x"}).hidden_steps
    assert STEP in evaluate([both], {FIELD: "a", OTHER: "b"}).hidden_steps
    assert evaluate([rule()], {}) == Effects()


def test_a_shown_step_is_hidden_until_its_show_rule_fires() -> None:
    show = rule(when("equals", "yes"), verb="show")
    assert evaluate([show], {}).hidden_steps == {STEP}
    assert evaluate([show], {FIELD: "yes"}).hidden_steps == frozenset()


def test_hide_wins_over_show_when_both_fire() -> None:
    rules = [rule(when("equals", "yes"), verb="show"), rule(when("is_not_empty"), verb="hide")]
    assert evaluate(rules, {FIELD: "yes"}).hidden_steps == {STEP}


def test_assignment_actions_apply_in_template_order() -> None:
    nested = rule(
        when("equals", "a"),
        verb="assign",
        assignees={"users": [7], "guests": ["g@x.com"], "groups": []},
    )
    flat = rule(when("is_not_empty"), verb="assign", users=[9], groups=["ops"])
    assert evaluate([nested], {FIELD: "a"}).owners == {
        STEP: [("assign", {"users": [7], "guests": ["g@x.com"], "groups": []})]
    }
    ops = evaluate([nested, flat], {FIELD: "a"}).owners[STEP]
    base = {"users": [1], "guests": [], "groups": []}
    # assign adds to what the task had
    added = {"users": ["1", "7", "9"], "guests": ["g@x.com"], "groups": ["ops"]}
    assert assigned(base, ops) == added
    only = {"users": [5], "guests": [], "groups": []}
    assert assigned(base, [*ops, ("assign_only", only)]) == {
        "users": ["5"],
        "guests": [],
        "groups": [],
    }
    assert assigned(base, [*ops, ("unassign", {"users": [1, 9]})])["users"] == ["7"]
    assert assigned(base, [*ops, ("clear", {})]) == {"users": [], "guests": [], "groups": []}
    assert evaluate([nested, flat], {}).owners == {}


def test_deadline_effect_is_value_and_unit() -> None:
    later = rule(
        when("equals", "rush"), verb="set", deadline={"value": 2, "unit": "hours", "option": "from"}
    )
    assert evaluate([later], {FIELD: "rush"}).deadlines == {STEP: {"value": 2, "unit": "hours"}}
    assert evaluate([later], {FIELD: "slow"}).deadlines == {}


def test_text_of_and_referenced_ids() -> None:
    assert text_of([{"id": 1, "text": "A"}, {"id": 2, "text": "B"}]) == "A,B"
    assert text_of({"id": 1, "text": "A", "value": None}) == "A"
    assert text_of(None) == ""
    assert referenced_ids([rule(when("equals", "x"))]) == {FIELD, STEP}


# Over HTTP


def template_with_fields(org: Org) -> tuple[dict[str, Any], list[dict[str, Any]], str, str]:
    """A template with three steps, a kick-off field and a field on the first step."""
    template = checklist(org, steps=3)
    kickoff = ok(
        org.api.put(
            org.path(f"/checklists/{template['id']}"),
            json={"title": template["title"], "prerun": [{"label": "Plan", "field_type": "text"}]},
        )
    )["prerun"][0]["id"]
    steps = ok(org.api.get(org.path(f"/checklists/{template['id']}/steps")))
    capture = ok(
        org.api.post(
            org.path(f"/checklists/{template['id']}/steps/{steps[0]['id']}/captures"),
            json={"label": "Go?", "field_type": "text"},
        ),
        201,
    )["id"]
    return template, steps, kickoff, capture


def rules_path(org: Org, template: dict[str, Any]) -> str:
    return org.path(f"/checklists/{template['id']}/automated-actions")


def test_rule_is_stored_inline_with_ids_positions_and_real_field_kinds(org: Org) -> None:
    template, steps, kickoff, capture = template_with_fields(org)
    created = ok(
        org.api.post(
            rules_path(org, template),
            json={
                "automated_alias": "Enterprise path",
                "condition_type": "any",
                "conditions": [
                    {
                        "conditionable_type": "capture",
                        "conditionable_id": kickoff,
                        "operation": "EQUALS",
                        "statement": "Enterprise",
                    },
                    {
                        "conditionable_type": "Capture",
                        "conditionable_id": capture,
                        "operation": "is_not_empty",
                    },
                ],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "show",
                        "target_step_id": steps[1]["id"],
                    },
                    {
                        "action_type": "assignment",
                        "action_verb": "assign",
                        "target_step_id": steps[2]["id"],
                        "users": [org.admin_id],
                    },
                    {
                        "action_type": "deadline",
                        "action_verb": "set",
                        "target_step_id": steps[2]["id"],
                        "deadline": {"value": 3, "unit": "days"},
                    },
                ],
            },
        ),
        201,
    )
    assert created["condition_logic"] == "OR"
    assert [
        (c["conditionable_type"], c["operation"], c["position"]) for c in created["conditions"]
    ] == [("Prerun", "equals", 1), ("Capture", "is_not_empty", 2)]
    assign, deadline = created["then_actions"][1:]
    assert assign["assignees"] == {"users": [org.admin_id], "guests": [], "groups": []}
    assert deadline["deadline"] == {"value": 3, "unit": "days"}
    assert all(
        len(x["id"]) == 32 for x in [created, *created["conditions"], *created["then_actions"]]
    )
    read = ok(org.api.get(org.path(f"/checklists/{template['id']}")))
    assert read["automated_actions"] == [created]
    listed = ok(org.api.get(org.path("/checklists")))
    assert listed[0]["automated_actions"] == [created]


HIDE_SECOND = {"action_type": "visibility", "action_verb": "hide", "target_step_id": "S1"}
BAD_RULES: list[tuple[dict[str, Any], str]] = [
    ({"conditions": []}, "conditions"),
    ({"conditions": [{"conditionable_id": "c" * 32}]}, "conditions.0.conditionable_id"),
    ({"conditions": [{"conditionable_id": "KO", "operation": "like"}]}, "conditions.0.operation"),
    (
        {"conditions": [{"conditionable_id": "KO", "conditionable_type": "Step"}]},
        "conditions.0.conditionable_type",
    ),
    (
        {"then_actions": [{**HIDE_SECOND, "target_step_id": "d" * 32}]},
        "then_actions.0.target_step_id",
    ),
    ({"then_actions": [{**HIDE_SECOND, "action_verb": "assign"}]}, "then_actions.0"),
    (
        {"then_actions": [{**HIDE_SECOND, "action_type": "assignment", "action_verb": "assign"}]},
        "then_actions.0",
    ),
    (
        {"then_actions": [{**HIDE_SECOND, "action_type": "deadline", "action_verb": "set"}]},
        "then_actions.0",
    ),
    (
        {
            "then_actions": [
                {
                    **HIDE_SECOND,
                    "action_type": "assignment",
                    "action_verb": "assign",
                    "assignees": {"users": [987654]},
                }
            ]
        },
        "then_actions.0.assignees.users.0",
    ),
    (
        {
            "then_actions": [
                {
                    **HIDE_SECOND,
                    "action_type": "assignment",
                    "action_verb": "assign",
                    "guests": ["not-an-email"],
                }
            ]
        },
        "then_actions.0.guests.0",
    ),
    (
        {
            "then_actions": [
                {
                    **HIDE_SECOND,
                    "action_type": "deadline",
                    "action_verb": "set",
                    "deadline": {"value": 10**9},
                }
            ]
        },
        "then_actions.0.deadline.value",
    ),
    ({"condition_logic": "XOR"}, "condition_logic"),
]


def _named(value: Any, names: dict[str, str]) -> Any:
    """The test data with the placeholders KO and S1 replaced by real ids."""
    if isinstance(value, dict):
        return {k: _named(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("change", "field"), BAD_RULES)
def test_bad_rules_are_422_naming_the_field(org: Org, change: dict[str, Any], field: str) -> None:
    template, steps, kickoff, _ = template_with_fields(org)
    body = {
        "conditions": [{"conditionable_id": "KO", "statement": "x"}],
        "then_actions": [HIDE_SECOND],
        **change,
    }
    refused = org.api.post(
        rules_path(org, template), json=_named(body, {"KO": kickoff, "S1": steps[1]["id"]})
    )
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["errors"]
    assert ok(org.api.get(org.path(f"/checklists/{template['id']}")))["automated_actions"] == []


def test_put_replaces_what_is_sent_and_keeps_the_rest(org: Org) -> None:
    template, steps, kickoff, _ = template_with_fields(org)
    created = ok(
        org.api.post(
            rules_path(org, template),
            json={
                "automated_alias": "first",
                "conditions": [{"conditionable_id": kickoff}],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": steps[1]["id"],
                    }
                ],
            },
        ),
        201,
    )
    path = f"{rules_path(org, template)}/{created['id']}"
    renamed = ok(org.api.put(path, json={"automated_alias": "renamed", "match": "any"}))
    assert (renamed["id"], renamed["automated_alias"], renamed["condition_logic"]) == (
        created["id"],
        "renamed",
        "OR",
    )
    assert renamed["conditions"][0]["conditionable_id"] == kickoff
    assert renamed["created_at"] == created["created_at"]
    # The SDK's update_automation_rule echoes every key it read, merged with the change.
    echoed = ok(
        org.api.put(
            path,
            json={
                **renamed,
                "then_actions": [{**renamed["then_actions"][0], "target_step_id": steps[2]["id"]}],
            },
        )
    )
    assert echoed["then_actions"][0]["target_step_id"] == steps[2]["id"]
    assert echoed["automated_alias"] == "renamed"
    assert org.api.put(path, json={"then_actions": []}).status_code == 422
    assert (
        org.api.put(
            f"{rules_path(org, template)}/{'0' * 32}", json={"automated_alias": "x"}
        ).status_code
        == 404
    )


def test_delete_rule_then_it_is_gone(org: Org) -> None:
    template, steps, kickoff, _ = template_with_fields(org)
    created = ok(
        org.api.post(
            rules_path(org, template),
            json={
                "conditions": [{"conditionable_id": kickoff}],
                "then_actions": [
                    {
                        "action_type": "visibility",
                        "action_verb": "hide",
                        "target_step_id": steps[1]["id"],
                    }
                ],
            },
        ),
        201,
    )
    path = f"{rules_path(org, template)}/{created['id']}"
    deleted = org.api.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert org.api.delete(path).status_code == 404
    assert ok(org.api.get(org.path(f"/checklists/{template['id']}")))["automated_actions"] == []


def test_light_members_cannot_touch_rules(org: Org) -> None:
    template, steps, kickoff, _ = template_with_fields(org)
    body = {
        "conditions": [{"conditionable_id": kickoff}],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "hide", "target_step_id": steps[1]["id"]}
        ],
    }
    created = ok(org.api.post(rules_path(org, template), json=body), 201)
    _, light = org.member("light")
    _, standard = org.member("standard")
    path = f"{rules_path(org, template)}/{created['id']}"
    assert light.post(rules_path(org, template), json=body).status_code == 403
    assert light.put(path, json={"automated_alias": "x"}).status_code == 403
    assert light.delete(path).status_code == 403
    assert standard.put(path, json={"automated_alias": "x"}).status_code == 200


def test_assignment_and_deadline_rules_apply_to_a_launched_run(org: Org) -> None:
    template, steps, kickoff, _ = template_with_fields(org)
    member, _ = org.member("standard")
    ok(
        org.api.post(
            rules_path(org, template),
            json={
                "conditions": [
                    {
                        "conditionable_type": "Prerun",
                        "conditionable_id": kickoff,
                        "operation": "equals",
                        "statement": "rush",
                    }
                ],
                "then_actions": [
                    {
                        "action_type": "assignment",
                        "action_verb": "assign_only",
                        "target_step_id": steps[2]["id"],
                        "assignees": {"users": [member]},
                    },
                    {
                        "action_type": "deadline",
                        "action_verb": "set",
                        "target_step_id": steps[2]["id"],
                        "deadline": {"value": 1, "unit": "hours"},
                    },
                ],
            },
        ),
        201,
    )

    def last_task(plan: str) -> dict[str, Any]:
        launched = ok(
            org.api.post(
                org.path("/runs"), json={"checklist_id": template["id"], "prerun": {kickoff: plan}}
            ),
            201,
        )
        return with_owner_ids(ok(org.api.get(org.path(f"/runs/{launched['id']}/tasks"))))[-1]

    rushed, calm = last_task("Rush"), last_task("calm")
    assert rushed["owners"]["users"] == [member]
    assert calm["owners"]["users"] != [member]
    assert rushed["deadline"] < calm["deadline"]


def step_rule(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"id": "r1", **rule(*conditions)}


def on_step(operation: str, logic: str | None = None, step: str = OTHER) -> dict[str, Any]:
    found = {"conditionable_type": "Step", "conditionable_id": step, "operation": operation}
    return {**found, "logic": logic} if logic else found


@pytest.mark.parametrize(
    ("operation", "state", "expected"),
    [
        ("completed", StepState(status="completed"), True),
        ("completed", StepState(status="in-progress"), False),
        ("approved", StepState(status="completed", is_approved=True), True),
        ("approved", StepState(status="completed", is_approved=False), False),
        ("rejected", StepState(status="completed", is_approved=False), True),
        ("rejected", StepState(status="active", is_approved=None), False),
        ("reopened", StepState(status="in-progress", reopened=True), True),
        ("reopened", StepState(status="completed", reopened=True), False),
        ("acknowledged", StepState(status="completed", completed_by_person=True), True),
        ("expired", StepState(status="completed", completed_by_person=False), True),
        ("expired", StepState(status="completed", completed_by_person=True), False),
        ("not_assigned", StepState(unassigned=True), True),
        ("not_assigned", StepState(unassigned=False), False),
        ("completed", StepState(status="auto-skipped"), False),
        ("is_completed", StepState(status="completed"), True),
    ],
)
def test_step_conditions(operation: str, state: StepState, expected: bool) -> None:
    assert fires(step_rule(on_step(operation)), {}, {OTHER: state}) is expected
    assert fires(step_rule(on_step(operation)), {}, {}) is False


def test_per_condition_logic_and_binds_tighter_than_or() -> None:
    a, b = when("equals", "a"), when("equals", "b", field=OTHER)
    c = {**when("equals", "c", field=STEP), "logic": "or"}
    both = rule(a, {**b, "logic": "and"}, c)
    assert fires(both, {FIELD: "a", OTHER: "b"})
    assert fires(both, {STEP: "c"})
    assert not fires(both, {FIELD: "a"})
    # The rule's logic is the default of conditions that send none; theirs win.
    assert fires(rule(a, b, logic="OR"), {OTHER: "b"})
    assert not fires(rule(a, {**b, "logic": "and"}, logic="OR"), {OTHER: "b"})
    assert fires(rule(a, {**b, "logic": "OR"}), {OTHER: "b"})
    # The first condition's logic joins nothing.
    assert not fires(rule({**a, "logic": "or"}, b), {OTHER: "b"})


@pytest.mark.parametrize(
    ("statement", "value", "expected"),
    [
        (["gold", "platinum"], "Platinum", True),
        (["gold", "platinum"], "silver", False),
        ("gold, silver", " SILVER ", True),
        ("gold, silver", "bronze", False),
        (["1"], [{"id": 1, "text": "One"}], True),
        ([], "x", False),
    ],
)
def test_equals_any(statement: Any, value: Any, expected: bool) -> None:
    assert hides(when("equals_any", statement), value) is expected


def test_settle_folds_a_show_chain_when_its_first_step_hides() -> None:
    middle, last = "m" * 32, "l" * 32
    show_middle = {
        **rule(when("equals", "go")),
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": middle}
        ],
    }
    show_last = {
        **rule(when("equals", "yes", field=OTHER)),
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": last}
        ],
    }
    rules = [show_middle, show_last]
    middle_values = {middle: {OTHER: "yes"}}
    assert settle(rules, {FIELD: "go"}, middle_values, {}).hidden_steps == frozenset()
    # The middle step hides: its value counts for nothing, so the last hides too.
    assert settle(rules, {FIELD: "stop"}, middle_values, {}).hidden_steps == {middle, last}
    # A step condition on a hidden step does not hold either.
    on_middle = {
        **rule(on_step("completed", step=middle)),
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": last}
        ],
    }
    states = {middle: StepState(status="completed")}
    assert settle([show_middle, on_middle], {FIELD: "stop"}, {}, states).hidden_steps == {
        middle,
        last,
    }
    assert settle([show_middle, on_middle], {FIELD: "go"}, {}, states).hidden_steps == set()


def test_settle_keeps_a_step_that_hides_itself_hidden() -> None:
    own = {**rule(when("equals", "n/a", field=OTHER))}
    # STEP hides itself by its own field: no fixed point, so every value counts.
    assert settle([own], {}, {STEP: {OTHER: "n/a"}}, {}).hidden_steps == {STEP}
    assert settle([own], {}, {STEP: {OTHER: "yes"}}, {}).hidden_steps == frozenset()


def test_firing_names_the_rules_whose_conditions_hold() -> None:
    yes = {"id": "yes", **rule(when("equals", "x"))}
    no = {"id": "no", **rule(when("equals", "y"))}
    assert evaluate([yes, no], {FIELD: "x"}).firing == {"yes"}
    assert isinstance(evaluate([], {}), Effects)
