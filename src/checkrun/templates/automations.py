"""Automation rules, evaluated: a pure function of the template's rules, the form values and
the state of the run's steps.

A stored rule is `{id, automated_alias, condition_logic: AND|OR, conditions[], then_actions[]}`;
a condition `{conditionable_type: Capture|Prerun|Step, conditionable_id (field or step id),
operation, statement, logic: and|or}`; an action `{action_type:
visibility|assignment|deadline|status|webhook, action_verb, target_step_id, assignees {users,
guests, groups}, actionable_type/actionable_id (an Assignee Picker field whose people are
assigned), deadline {value, unit, option: from|prior_to, relative_to: launch|trigger},
webhook_url}`; a condition on a table field may name one column (`column_contains_name`).
No database here: the workflow engine (`runs/rules.py`) calls `settle` on every change that can
change a rule's outcome, and acts on what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

OWNER_KINDS = ("users", "guests", "groups")
FIELD_OPERATIONS = (
    "equals",
    "not_equals",
    "equals_any",
    "contains",
    "not_contains",
    "is_empty",
    "is_not_empty",
    "greater_than",
    "less_than",
)
STEP_OPERATIONS = (
    "completed",
    "reopened",
    "approved",
    "rejected",
    "acknowledged",
    "expired",
    "not_assigned",
)
# Step operations that only a step of these types can meet.
STEP_TYPES_OF = {
    "approved": ("approval",),
    "rejected": ("approval",),
    "acknowledged": ("expiring", "expiring_email"),
    "expired": ("expiring", "expiring_email"),
}
VERBS = {
    "visibility": ("show", "hide"),
    "assignment": ("assign", "assign_only", "unassign", "clear"),
    "deadline": ("set",),
    "status": ("reopen",),
    "webhook": ("send",),
}
# Other spellings clients and Tallyfy's pages use, and the word stored for each.
OPERATION_ALIASES = {
    "is": "equals",
    "equal": "equals",
    "is_not": "not_equals",
    "not_equal": "not_equals",
    "is_any_of": "equals_any",
    "any_of": "equals_any",
    "in": "equals_any",
    "does_not_contain": "not_contains",
    "doesnt_contain": "not_contains",
    "is_greater_than": "greater_than",
    "is_less_than": "less_than",
    "empty": "is_empty",
    "not_empty": "is_not_empty",
    "is_completed": "completed",
    "complete": "completed",
    "is_reopened": "reopened",
    "re_opened": "reopened",
    "re-opened": "reopened",
    "is_approved": "approved",
    "is_rejected": "rejected",
    "is_acknowledged": "acknowledged",
    "is_expired": "expired",
    "unassigned": "not_assigned",
    "is_not_assigned": "not_assigned",
}
VERB_ALIASES = {
    "add": "assign",
    "add_assignees": "assign",
    "replace": "assign_only",
    "replace_assignees": "assign_only",
    "reassign": "assign_only",
    "remove": "unassign",
    "clear_assignees": "clear",
    "clear_all": "clear",
    "re-open": "reopen",
    "re_open": "reopen",
    "reopened": "reopen",
    "post": "send",
    "fire": "send",
    "trigger": "send",
}
# Where an assignment action's people come from when it reads a form field.
PICKER_KINDS = ("Capture", "Prerun")
# What a deadline action counts from: launch (the default) or the moment its rule started to
# fire (Tallyfy's "trigger point"); other spellings clients send, and the word stored.
ANCHORS = ("launch", "trigger")
ANCHOR_ALIASES = {
    "start_run": "launch",
    "run_start": "launch",
    "process_start": "launch",
    "launched": "launch",
    "trigger_point": "trigger",
    "triggered": "trigger",
    "rule": "trigger",
    "automation": "trigger",
}
DEADLINE_OPTIONS = {
    "from": "from",
    "after": "from",
    "prior_to": "prior_to",
    "before": "prior_to",
}
MAX_ROUNDS = 10  # a bound on re-evaluation, so that rules that feed each other end


def operation_of(value: Any) -> str:
    text = str(value or "equals").strip().lower().replace(" ", "_")
    return OPERATION_ALIASES.get(text, text)


def verb_of(value: Any) -> str:
    text = str(value or "").strip().lower().replace(" ", "_")
    return VERB_ALIASES.get(text, text)


@dataclass(frozen=True)
class StepState:
    """What step conditions read of a step's task in the run."""

    status: str = "active"
    step_type: str = "task"
    is_approved: bool | None = None
    completed_by_person: bool = False
    reopened: bool = False
    # Assignees other than what rules gave it (a rule's own assignment does not answer
    # "not assigned", else such a rule would undo itself).
    unassigned: bool = False


@dataclass(frozen=True)
class Effects:
    hidden_steps: frozenset[str] = frozenset()
    # step id -> the assignment actions of firing rules in template order: (verb, people).
    owners: dict[str, list[tuple[str, dict[str, list[Any]]]]] = field(default_factory=dict)
    # step id -> {"value", "unit", "option", "relative_to", "rule"}: the deadline, counted
    # from launch or from the moment the rule (its id) started to fire.
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The ids of the rules whose conditions hold (their one-off actions run when they start to).
    firing: frozenset[str] = frozenset()


def text_of(value: Any) -> str:
    """A stored value as text: option objects by their text, lists joined with commas."""
    return ",".join(_texts(value))


def _texts(value: Any) -> list[str]:
    """The comparable pieces of a stored value: one per selected option, else one string."""
    if value is None:
        return []
    if isinstance(value, list):
        return [t for item in value if _selected(item) for t in _texts(item)]
    if isinstance(value, dict):
        if "text" in value:
            return [str(value["text"] or "")]
        if any(kind in value for kind in OWNER_KINDS):
            return [str(v) for kind in OWNER_KINDS for v in value.get(kind) or []]
        # A file (asset) or another object: present when it names something.
        return [str(value.get("filename") or value.get("value") or value.get("id") or "")]
    return [str(value)]


def _selected(item: Any) -> bool:
    # A multiselect keeps its unticked options with `selected: false`.
    return not (isinstance(item, dict) and item.get("selected") is False)


def _option_ids(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {str(i["id"]) for i in items if isinstance(i, dict) and "id" in i and _selected(i)}


def _norm(text: str) -> str:
    return text.strip().casefold()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(texts: list[str], statement: str, test: Callable[[float, float], bool]) -> bool:
    wanted = _number(statement)
    numbers = [_number(t) for t in texts]
    return wanted is not None and any(n is not None and test(n, wanted) for n in numbers)


def _equals(value: Any, texts: list[str], statement: str) -> bool:
    """A list equals the statement when one of its selected items does; an option also matches
    by its id, so a rule may name a dropdown choice either way."""
    return statement in texts or statement in _option_ids(value)


def _step_holds(operation: str, state: StepState | None) -> bool:
    if state is None or state.status == "auto-skipped":
        return False
    done = state.status == "completed"
    if operation == "completed":
        return done
    if operation == "reopened":
        return state.reopened and not done
    if operation == "approved":
        return done and state.is_approved is True
    if operation == "rejected":
        return done and state.is_approved is False
    if operation == "acknowledged":
        return done and state.completed_by_person
    if operation == "expired":
        return done and not state.completed_by_person
    if operation == "not_assigned":
        return state.unassigned
    return False


def _statements(statement: Any) -> list[str]:
    """`equals_any`'s values: a list, or one text with the values separated by commas."""
    items = statement if isinstance(statement, list) else str(text_of(statement)).split(",")
    return [t for t in (_norm(text_of(i)) for i in items) if t]


def holds(
    condition: dict[str, Any],
    values: dict[str, Any],
    steps: dict[str, StepState] | None = None,
) -> bool:
    """Whether one condition is true for these values (case-insensitive, trimmed) and steps."""
    operation = operation_of(condition.get("operation"))
    if str(condition.get("conditionable_type")) == "Step":
        return _step_holds(operation, (steps or {}).get(str(condition.get("conditionable_id"))))
    value = values.get(str(condition.get("conditionable_id")))
    if condition.get("column_contains_name"):
        value = column_cells(value, condition)
    texts = [t for t in (_norm(t) for t in _texts(value)) if t]
    if operation == "equals_any":
        return any(_equals(value, texts, s) for s in _statements(condition.get("statement")))
    statement = _norm(text_of(condition.get("statement")))
    if operation == "is_empty":
        return not texts
    if operation == "is_not_empty":
        return bool(texts)
    if operation == "equals":
        return _equals(value, texts, statement)
    if operation == "not_equals":
        return not _equals(value, texts, statement)
    if operation == "contains":
        return any(statement in t for t in texts)
    if operation == "not_contains":
        return not any(statement in t for t in texts)
    if operation == "greater_than":
        return _compare(texts, statement, lambda a, b: a > b)
    if operation == "less_than":
        return _compare(texts, statement, lambda a, b: a < b)
    return False


def column_cells(value: Any, condition: dict[str, Any]) -> list[Any]:
    """One column's cells of a table value: its entry in the flat list (one entry per column,
    a list when the column has several rows), or its cell in each row object. The column's
    position (`column_index`) is resolved from the field's columns before evaluation."""
    if not isinstance(value, list):
        return []
    label = str(condition.get("column_contains_name") or "")
    if value and all(isinstance(row, dict) and "text" not in row for row in value):
        wanted = _norm(label)
        return [v for row in value for k, v in row.items() if _norm(str(k)) == wanted]
    index = condition.get("column_index")
    if not isinstance(index, int) or not 0 <= index < len(value):
        return []
    cell = value[index]
    return list(cell) if isinstance(cell, list) else [cell]


def column_index(columns: list[dict[str, Any]], name: str) -> int | None:
    """The position of the column a condition names: by label (trimmed, any case) or id."""
    wanted = _norm(name)
    for i, column in enumerate(columns):
        if wanted in (_norm(str(column.get("label") or "")), _norm(str(column.get("id") or ""))):
            return i
    return None


def matches_any(rule: dict[str, Any]) -> bool:
    """OR logic: `condition_logic` OR, or the `condition_type`/`match` spelling `any`."""
    logic = rule.get("condition_logic") or rule.get("condition_type") or rule.get("match")
    return str(logic or "AND").strip().upper() in ("OR", "ANY")


def logic_of(condition: dict[str, Any], default: str) -> str:
    """A condition's own `logic` (how it joins the condition before it), else the rule's."""
    logic = str(condition.get("logic") or "").strip().lower()
    if logic in ("or", "any"):
        return "or"
    if logic in ("and", "all"):
        return "and"
    return default


def fires(
    rule: dict[str, Any], values: dict[str, Any], steps: dict[str, StepState] | None = None
) -> bool:
    """Each condition joins the one before it by its `logic`; AND binds tighter than OR, so
    `a and b or c` is `(a and b) or c`. The first condition's `logic` joins nothing."""
    conditions = [c for c in rule.get("conditions") or [] if isinstance(c, dict)]
    if not conditions:
        return False
    default = "or" if matches_any(rule) else "and"
    groups: list[list[bool]] = [[]]
    for i, condition in enumerate(conditions):
        if i and logic_of(condition, default) == "or":
            groups.append([])
        groups[-1].append(holds(condition, values, steps))
    return any(all(group) for group in groups)


def owners_of(action: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """An assignment's people, nested under `assignees` or (as sent by some clients) flat; an
    action reading an Assignee Picker field (`actionable_id`) assigns the people chosen in it,
    and the named ones only while the field is empty (Tallyfy's fallback)."""
    nested = action.get("assignees")
    if not isinstance(nested, dict):
        nested = {}
    named = {k: list(nested.get(k) or action.get(k) or []) for k in OWNER_KINDS}
    if action.get("actionable_type") not in PICKER_KINDS or values is None:
        return named
    picked = values.get(str(action.get("actionable_id")))
    chosen = {k: list(picked.get(k) or []) if isinstance(picked, dict) else [] for k in OWNER_KINDS}
    return chosen if any(chosen.values()) else named


def actions_of(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in rule.get("then_actions") or [] if isinstance(a, dict)]


def _actions(rules: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for rule in rules:
        yield from actions_of(rule)


def assigned(
    base: dict[str, list[Any]], ops: list[tuple[str, dict[str, list[Any]]]]
) -> dict[str, list[Any]]:
    """The assignees that follow from `base` and the assignment actions in order: `assign`
    adds, `assign_only` replaces, `unassign` removes the people named, `clear` removes all."""
    current = {k: [str(v) for v in base.get(k) or []] for k in OWNER_KINDS}
    for verb, people in ops:
        named = {k: [str(v) for v in people.get(k) or []] for k in OWNER_KINDS}
        if verb == "clear":
            current = {k: [] for k in OWNER_KINDS}
        elif verb == "assign_only":
            current = named
        elif verb == "unassign":
            current = {k: [v for v in current[k] if v not in named[k]] for k in OWNER_KINDS}
        else:
            current = {k: list(dict.fromkeys(current[k] + named[k])) for k in OWNER_KINDS}
    return current


def evaluate(
    rules: list[dict[str, Any]],
    values: dict[str, Any],
    steps: dict[str, StepState] | None = None,
) -> Effects:
    """What the rules do given these values (field id -> stored value) and steps.

    A step that some rule would show stays hidden until a show rule fires; a hide rule that
    fires hides it, even when a show rule fires too. Assignment actions of firing rules apply
    in template order; when several set the deadline of one step, the last rule wins."""
    show_targets = {
        a.get("target_step_id") for a in _actions(rules) if verb_of(a.get("action_verb")) == "show"
    }
    firing = [r for r in rules if fires(r, values, steps)]
    hidden: set[str] = set()
    shown: set[str] = set()
    owners: dict[str, list[tuple[str, dict[str, list[Any]]]]] = {}
    deadlines: dict[str, dict[str, Any]] = {}
    rule_of = {id(a): str(r.get("id")) for r in firing for a in actions_of(r)}
    for action in _actions(firing):
        target, verb = str(action.get("target_step_id")), verb_of(action.get("action_verb"))
        kind = action.get("action_type")
        if verb == "hide":
            hidden.add(target)
        elif verb == "show":
            shown.add(target)
        elif kind == "assignment":
            owners.setdefault(target, []).append((verb, owners_of(action, values)))
        elif kind == "deadline" and isinstance(action.get("deadline"), dict):
            deadlines[target] = _deadline(action["deadline"], rule_of[id(action)])
    never_shown = {str(t) for t in show_targets} - shown
    ids = frozenset(str(r.get("id")) for r in firing)
    return Effects(frozenset(hidden | never_shown), owners, deadlines, ids)


def _deadline(deadline: dict[str, Any], rule_id: str) -> dict[str, Any]:
    out = {
        "value": int(deadline.get("value") or 0),
        "unit": str(deadline.get("unit") or "days"),
    }
    if deadline.get("option") == "prior_to":
        out["option"] = "prior_to"
    if deadline.get("relative_to") == "trigger":
        out |= {"relative_to": "trigger", "rule": rule_id}
    return out


def settle(
    rules: list[dict[str, Any]],
    kickoff: dict[str, Any],
    step_values: dict[str, dict[str, Any]],
    steps: dict[str, StepState],
) -> Effects:
    """`evaluate` until the hidden steps stop changing: a hidden step's form values and state
    count for nothing, so that a chain of show rules (a shown step's own rule shows another)
    folds up when its first step is hidden again. Rules with no such fixed point (a step that
    hides itself by its own field) are evaluated on every value, hidden or not."""
    hidden: frozenset[str] = frozenset()
    seen: set[frozenset[str]] = set()
    # Each round folds or unfolds one more link of a chain: rules + 1 rounds settle any chain.
    for _ in range(len(rules) + 2):
        seen.add(hidden)
        effects = evaluate(rules, _values(kickoff, step_values, hidden), _without(steps, hidden))
        if effects.hidden_steps == hidden:
            return effects
        if effects.hidden_steps in seen:
            break
        hidden = effects.hidden_steps
    return evaluate(rules, _values(kickoff, step_values, frozenset()), steps)


def _values(
    kickoff: dict[str, Any], step_values: dict[str, dict[str, Any]], hidden: frozenset[str]
) -> dict[str, Any]:
    values = dict(kickoff)
    for step_id, found in step_values.items():
        if step_id not in hidden:
            values.update(found)
    return values


def _without(steps: dict[str, StepState], hidden: frozenset[str]) -> dict[str, StepState]:
    return {k: v for k, v in steps.items() if k not in hidden}


def referenced_ids(rules: list[dict[str, Any]]) -> set[str]:
    """Every field id a rule reads and every step id it acts on."""
    ids = {str(c.get("conditionable_id")) for r in rules for c in r.get("conditions") or []}
    targets = {a.get("target_step_id") for a in _actions(rules)}
    pickers = {a.get("actionable_id") for a in _actions(rules) if _reads_field(a)}
    return ids | {str(t) for t in targets | pickers if t}


def _reads_field(action: dict[str, Any]) -> bool:
    return action.get("actionable_type") in PICKER_KINDS
