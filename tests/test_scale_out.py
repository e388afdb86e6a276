"""Scale-out, proven: three `checkrun serve` processes behind a real load balancer (HAProxy,
from Debian's packages) on one PostgreSQL database, one S3-compatible server (moto) and Redis.

The official SDK's workflow goes through the balancer and lands on every process; the
processes share rate-limit counts; each webhook and each email goes out once, whichever
process took the request. Then one process is killed mid-load: no request is lost beyond those
it had in flight, and nothing it was writing is left half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tallyfy import TallyfySDK

from checkrun import migrate
from tests.conftest import _drop_postgres, _postgres_url, free_port, new_bucket
from tests.support.serving import serve_subprocess
from tests.support.smtp import SmtpServer
from tests.webhooks.conftest import Receiver

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
if not Path(HAPROXY).exists():
    if os.environ.get("CHECKRUN_REQUIRE_HAPROXY") == "1":
        raise RuntimeError(
            "HAProxy is required (CHECKRUN_REQUIRE_HAPROXY=1): apt-get install haproxy"
        )
    pytest.skip("HAProxy is not installed", allow_module_level=True)

PROCESSES = 3
FAST = {
    "CHECKRUN_WEBHOOK_POLL_SECONDS": "0.2",
    "CHECKRUN_WEBHOOK_BACKOFF_SECONDS": "0.05",
    "CHECKRUN_MAIL_POLL_SECONDS": "0.2",
    "CHECKRUN_MAIL_BACKOFF_SECONDS": "0.05",
    "CHECKRUN_MAIL_FROM": "checkrun <checkrun@example.com>",
}
CONFIG = """\
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request is sent again only if no connection was made for it: never one that a process
    # may have started to act on.
    retries 3
    retry-on conn-failure
    option redispatch
frontend api
    bind 127.0.0.1:{port}
    default_backend checkrun
backend checkrun
    balance roundrobin
    option httpchk GET /api/health
    http-response set-header X-Checkrun-Process %s
{servers}
"""


@dataclass
class Cluster:
    base: str  # the balancer
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]]
    org_id: str
    token: str
    smtp: SmtpServer
    receiver: Receiver

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {
            "Authorization": f"Bearer {token or self.token}",
            "X-Tallyfy-Client": "APIClient",
        }
        return httpx.Client(base_url=self.base + "/api", headers=headers, timeout=60)

    def path(self, suffix: str) -> str:
        return f"/organizations/{self.org_id}{suffix}"


def _init(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "checkrun", "init", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def _balancer(tmp: Path, port: int, backends: dict[str, int]) -> subprocess.Popen[bytes]:
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{p} check inter 300ms fall 2 rise 1"
        for name, p in backends.items()
    )
    config = tmp / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, servers=servers))
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "haproxy exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "haproxy did not answer"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("cluster")
    database = _postgres_url()
    migrate.upgrade(database)
    lb_port = free_port()
    smtp, receiver = SmtpServer().start(), Receiver()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKRUN_")}
    env |= FAST | {
        "CHECKRUN_DATABASE_URL": database,
        "CHECKRUN_STORAGE_URL": f"s3://{new_bucket(s3_endpoint)}/files",
        "CHECKRUN_S3_ENDPOINT_URL": s3_endpoint,
        "CHECKRUN_REDIS_URL": "redis://127.0.0.1:6379/0",
        "CHECKRUN_SMTP_URL": smtp.url,
        "CHECKRUN_PUBLIC_URL": f"http://127.0.0.1:{lb_port}",
        "CHECKRUN_DATA_DIR": str(tmp / "init"),
    }
    boot = _init(env)
    ports = {f"p{i}": free_port() for i in range(1, PROCESSES + 1)}
    try:
        with (
            serve_subprocess([], _own(env, tmp, "p1", ports["p1"]), ports["p1"]) as (_, one),
            serve_subprocess([], _own(env, tmp, "p2", ports["p2"]), ports["p2"]) as (_, two),
            serve_subprocess([], _own(env, tmp, "p3", ports["p3"]), ports["p3"]) as (_, three),
        ):
            balancer = _balancer(tmp, lb_port, ports)
            try:
                yield Cluster(
                    f"http://127.0.0.1:{lb_port}",
                    env,
                    {"p1": one, "p2": two, "p3": three},
                    boot["org_id"],
                    boot["token"],
                    smtp,
                    receiver,
                )
            finally:
                balancer.terminate()
                balancer.wait(timeout=10)
    finally:
        receiver.close()
        smtp.stop()
        _drop_postgres(database)


def _own(env: dict[str, str], tmp: Path, name: str, port: int) -> dict[str, str]:
    """A process's environment: its port, and a data directory of its own (nothing on local
    disk is shared: the database, the store and Redis are)."""
    return env | {"CHECKRUN_PORT": str(port), "CHECKRUN_DATA_DIR": str(tmp / name)}


def _member(cluster: Cluster, api: httpx.Client) -> tuple[int, str, str]:
    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    made = api.post(
        f"/applications/{cluster.org_id}/users",
        json={"email": email, "first_name": "Mo", "last_name": "Member", "role": "standard"},
    )
    assert made.status_code == 201, made.text
    token = api.post(f"/applications/{cluster.org_id}/users/{email}/token")
    assert token.status_code == 200, token.text
    return int(made.json()["data"]["id"]), email, str(token.json()["access_token"])


def test_the_sdk_workflow_runs_across_every_process(cluster: Cluster) -> None:
    sdk = TallyfySDK(api_key=cluster.token, base_url=cluster.base, max_retries=0)
    org = cluster.org_id
    try:
        template = sdk.templates.create_template(org, "Onboarding", summary="Across processes")
        for title in ("Collect", "Approve", "Welcome"):
            sdk.templates.add_step_to_template(org, template.id, {"title": title})
        with cluster.client() as api:
            hooked = api.put(
                cluster.path(f"/checklists/{template.id}"),
                json={"title": "Onboarding", "webhook": cluster.receiver.url("/hook")},
            )
            assert hooked.status_code == 200, hooked.text
        runs = [sdk.tasks.launch_process(org, template.id, f"Client {i}") for i in range(6)]
        for launched in runs:
            first = sdk.tasks.get_tasks_for_process(org, launched.id).data[0]
            assert sdk.tasks.complete_task(org, launched.id, first.id).status == "completed"
        content = os.urandom(200_000)
        task = sdk.tasks.get_tasks_for_process(org, runs[0].id).data[1]
        asset = sdk.files.upload_file(
            org,
            content,
            "plan.pdf",
            uploaded_from="ko_field",
            subject_type="Task",
            subject_id=task.id,
        )
        downloads = [sdk.files.download_file(org, asset.id) for _ in range(PROCESSES * 2)]
        assert downloads == [content] * (PROCESSES * 2)
    finally:
        sdk.close()

    with cluster.client() as api:
        served = Counter(
            api.get(cluster.path(f"/runs/{r.id}")).headers["X-Checkrun-Process"] for r in runs
        )
    assert set(served) == set(cluster.processes)  # every process answered
    # 6 launches and 6 completions, each sent once by whichever process drained the outbox.
    cluster.receiver.wait(lambda: len(cluster.receiver.to("/hook")) >= 12)
    time.sleep(1.5)  # a second delivery would come within a few polls
    bodies = Counter(r.body for r in cluster.receiver.to("/hook"))
    assert len(bodies) == 12 and set(bodies.values()) == {1}


def test_rate_limits_are_counted_once_for_all_processes(cluster: Cluster) -> None:
    with cluster.client() as admin:
        _, _, token = _member(cluster, admin)
    with cluster.client(token) as api:
        # A process counts a token's first request under the token, and the rest under its
        # user once it has seen whose it is: one request on each process first.
        warm = [api.get("/me") for _ in range(PROCESSES)]
        answers = [api.get("/me") for _ in range(PROCESSES * 3)]
    assert {a.status_code for a in warm + answers} == {200}
    assert len({a.headers["X-Checkrun-Process"] for a in answers}) == PROCESSES
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    # One count for the three processes: each request sees one fewer left than the one before.
    assert remaining == list(range(remaining[0], remaining[0] - len(answers), -1))


def test_each_email_is_sent_once(cluster: Cluster) -> None:
    with cluster.client() as api:
        member_id, email, _ = _member(cluster, api)
        for i in range(6):
            made = api.post(
                cluster.path("/tasks"),
                json={
                    "title": f"Call {i}",
                    "task_type": "task",
                    "owners": {"users": [member_id]},
                    "deadline": "2031-01-01T12:00:00Z",
                },
            )
            assert made.status_code == 201, made.text
    cluster.smtp.wait_for(lambda m: email in m.recipients and "Call" in m.subject, count=6)
    time.sleep(1.5)
    subjects = Counter(m.subject for m in cluster.smtp.to(email) if "Call" in m.subject)
    assert len(subjects) == 6 and set(subjects.values()) == {1}


def test_a_process_killed_mid_load_loses_only_what_it_had_in_flight(cluster: Cluster) -> None:
    with cluster.client() as api:
        made = api.post(cluster.path("/checklists"), json={"title": "Load", "type": "procedure"})
        template = made.json()["data"]["id"]
        for title in ("One", "Two", "Three", "Four"):
            step = api.post(cluster.path(f"/checklists/{template}/steps"), json={"title": title})
            assert step.status_code == 201, step.text

    def launch(i: int) -> tuple[int, str | None, str]:
        with cluster.client() as api:
            try:
                got = api.post(
                    cluster.path("/runs"), json={"checklist_id": template, "name": f"Load {i}"}
                )
            except httpx.TransportError:
                return 0, None, ""
            made = got.json()["data"]["id"] if got.status_code == 201 else None
            return got.status_code, made, got.headers.get("X-Checkrun-Process", "")

    concurrency, total = 6, 60
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(launch, i) for i in range(total)]
        time.sleep(1.0)
        cluster.processes["p2"].send_signal(signal.SIGKILL)
        results = [f.result() for f in futures]

    assert cluster.processes["p2"].poll() is not None
    created = [run_id for status, run_id, _ in results if status == 201]
    failed = [status for status, _, _ in results if status != 201]
    assert "p2" in {by for status, _, by in results if status == 201}  # it took load, then died
    assert len(failed) <= concurrency, Counter(failed)  # at most what p2 held at the kill
    assert all(status in (0, 502, 503, 504) for status in failed), Counter(failed)
    with cluster.client() as api:
        listed = api.get(cluster.path("/runs"), params={"per_page": 100, "q": "Load"})
        there = listed.json()["data"]
        assert set(created) <= {r["id"] for r in there}
        # A launch the killed process was writing is wholly there or wholly absent.
        for run in there:
            tasks = api.get(cluster.path(f"/runs/{run['id']}/tasks"))
            assert tasks.status_code == 200 and len(tasks.json()["data"]) == 4, run["name"]
