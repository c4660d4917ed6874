from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_evidence_api import assert_error

from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app

JOBS = "/api/v1/scenarios/jobs"


@pytest.fixture(scope="module")
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in scenarios name shipped facilities, so these tests use the shipped evidence base."""
    db = tmp_path_factory.mktemp("jobs") / "shipped.db"
    with Store.open(db) as store:
        load_into(store)
    return db


@pytest.fixture(scope="module")
def shipped(shipped_db: Path) -> Iterator[TestClient]:
    app = create_app(db=shipped_db, load_shipped=False, job_workers=1, job_queue=2, job_timeout_s=60)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.orechain.extras["jobs"].shutdown(wait=True)
    app.state.orechain.store.close()


def builtin(c: TestClient, name: str = "us-magnets-2030") -> str:
    text: str = c.get(f"/api/v1/scenarios/builtin/{name}").json()["yaml"]
    return text


def wait(c: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st: dict[str, Any] = c.get(f"{JOBS}/{job_id}").json()
        assert 0.0 <= st["progress"] <= 1.0
        if st["state"] not in ("queued", "running"):
            return st
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def test_submit_poll_fetch_and_cache_by_content_hash(shipped: TestClient) -> None:
    names = shipped.get("/api/v1/scenarios/builtin").json()["data"]
    assert "pakistan-us" in names
    text = builtin(shipped)
    first = shipped.post(JOBS, json={"yaml": text, "scenarios": 2000, "seed": 7})
    assert first.status_code == 202, first.text
    job = first.json()
    assert job["cached"] is False and len(job["content_hash"]) == 64
    st = wait(shipped, job["id"])
    assert st["state"] == "done" and st["progress"] == 1.0 and st["scenarios_done"] == 2000
    res = shipped.get(f"{JOBS}/{job['id']}/result").json()["result"]
    assert res["scenarios"] == 2000 and res["seed"] == 7
    flow = [r for r in res["fan"] if r["metric"] == "flow"]
    assert flow and all(r["p5"] <= r["p50"] <= r["p95"] for r in flow)
    # the same scenario with comments and another key order is the same content: the same job comes back
    reordered = "# a comment\n" + text
    again = shipped.post(JOBS, json={"yaml": reordered, "scenarios": 2000, "seed": 7})
    assert again.status_code == 200 and again.json()["cached"] is True and again.json()["id"] == job["id"]
    # another seed is another job
    other = shipped.post(JOBS, json={"yaml": text, "scenarios": 2000, "seed": 8}).json()
    assert other["id"] != job["id"] and other["content_hash"] != job["content_hash"]
    wait(shipped, other["id"])


def test_invalid_scenarios_are_4xx_and_never_jobs(shipped: TestClient) -> None:
    assert_error(shipped.post(JOBS, json={"yaml": "name: [unclosed", "scenarios": 1000}), 422)
    err = assert_error(shipped.post(JOBS, json={"yaml": "name: x\nstart: tomorrow\n", "scenarios": 1000}), 422)
    assert err["details"] and all("message" in p for p in err["details"])
    bad_field = builtin(shipped).replace("horizon:", "horizon_typo:", 1)
    err = assert_error(shipped.post(JOBS, json={"yaml": bad_field}), 422)
    assert any(p.get("line") for p in err["details"])
    assert_error(shipped.post(JOBS, json={"yaml": "- a list\n- not a mapping\n"}), 422)
    assert_error(shipped.post(JOBS, json={"yaml": builtin(shipped), "scenarios": 10**9}), 422)
    assert_error(shipped.post(JOBS, json={"yaml": builtin(shipped), "scenarios": "many"}), 422)
    assert_error(shipped.post(JOBS, json={"scenarios": 1000}), 422)
    assert_error(shipped.post(JOBS, content=b"not json", headers={"content-type": "application/json"}), 422)
    # oversized: refused by the declared length before the body is read, or by the field's limit
    assert_error(shipped.post(JOBS, json={"yaml": "a: " + "x" * 300_000}), 413)
    assert_error(shipped.post(JOBS, json={"yaml": "a: " + "x" * 70_000}), 422)
    assert_error(shipped.get("/api/v1/scenarios/builtin/no-such"), 404)
    assert_error(shipped.get(f"{JOBS}/{'0' * 32}"), 404)
    assert_error(shipped.get(f"{JOBS}/{'0' * 32}/result"), 404)
    assert_error(shipped.get(f"{JOBS}/not-a-job-id"), 422)


def poll(jm: Any, job_id: str, timeout: float = 10) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = jm.get(job_id)
        if job.state.value not in ("queued", "running"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def test_a_job_past_its_deadline_stops_and_says_so(empty_store: Store) -> None:
    from orechain.interfaces.api.jobs import JobManager, JobState

    jm = JobManager(empty_store, workers=1, timeout_s=0.05)

    def slow(progress: Any) -> dict[str, Any]:
        for _ in range(1000):  # an engine reporting progress block by block
            time.sleep(0.01)
            progress(1)
        return {}

    job, _ = jm.submit("k", 1000, slow)
    job = poll(jm, job.id)
    assert job.state is JobState.TIMED_OUT and jm.result(job.id) == (job, None)
    assert job.error and "time limit" in job.error and 0 < job.done < 1000
    # a timed-out key is not served from the cache: submitting it again starts a new job
    again, cached = jm.submit("k", 1000, lambda progress: {})
    assert not cached and again.id != job.id
    assert poll(jm, again.id).state is JobState.DONE
    jm.shutdown(wait=True)


def test_a_full_queue_answers_503_not_a_hang(empty_store: Store) -> None:
    from orechain.interfaces.api.jobs import JobManager, QueueFull

    jm = JobManager(empty_store, workers=1, max_queued=1, timeout_s=5)
    gate = __import__("threading").Event()
    jm.submit("a", 1, lambda p: (gate.wait(5), {})[1])  # occupies the single worker
    time.sleep(0.2)
    jm.submit("b", 1, lambda p: {})  # waits
    with pytest.raises(QueueFull):
        jm.submit("c", 1, lambda p: {})
    gate.set()
    jm.shutdown(wait=True)


def test_a_restarted_app_and_a_second_app_on_the_same_database_see_the_jobs(shipped_db: Path) -> None:
    """Jobs live in the database: an app started later (a restart, or another uvicorn worker process) answers the
    status and the result of a job another app ran, and gets the same job back for the same scenario."""
    first = create_app(db=shipped_db, load_shipped=False, job_workers=1)
    with TestClient(first) as a:
        text = builtin(a, "eu-crma-2030")
        job = a.post(JOBS, json={"yaml": text, "scenarios": 500, "seed": 11}).json()
        assert job["cached"] is False
        done = wait(a, job["id"])
        assert done["state"] == "done"
        result = a.get(f"{JOBS}/{job['id']}/result").json()["result"]
    first.state.orechain.extras["jobs"].shutdown(wait=True)
    first.state.orechain.store.close()
    second = create_app(db=shipped_db, load_shipped=False, job_workers=1)
    with TestClient(second) as b:
        assert b.get(f"{JOBS}/{job['id']}").json() == done
        assert b.get(f"{JOBS}/{job['id']}/result").json()["result"] == result
        again = b.post(JOBS, json={"yaml": text, "scenarios": 500, "seed": 11})
        assert again.status_code == 200 and again.json()["cached"] is True and again.json()["id"] == job["id"]
    second.state.orechain.extras["jobs"].shutdown(wait=True)
    second.state.orechain.store.close()


def test_two_apps_on_one_database_share_a_running_job(shipped_db: Path) -> None:
    apps = [create_app(db=shipped_db, load_shipped=False, job_workers=1) for _ in range(2)]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        text = builtin(a, "us-magnets-2030")
        job = a.post(JOBS, json={"yaml": text, "scenarios": 3000, "seed": 12}).json()
        # b did not run it, yet it knows it (while queued, running or done) and follows it to its end
        seen = b.post(JOBS, json={"yaml": text, "scenarios": 3000, "seed": 12}).json()
        assert seen["id"] == job["id"] and seen["cached"] is True
        assert wait(b, job["id"])["state"] == "done"
        assert b.get(f"{JOBS}/{job['id']}/result").json()["result"]["scenarios"] == 3000
    for app in apps:
        app.state.orechain.extras["jobs"].shutdown(wait=True)
        app.state.orechain.store.close()


def test_the_same_scenario_submitted_at_once_by_two_processes_is_one_job(empty_store: Store) -> None:
    """Two managers on separate connections (as two processes have) race to submit one key from 8 threads: the
    unique content hash leaves one job, and every submitter gets its id."""
    import threading

    from orechain.interfaces.api.jobs import JobManager

    other = Store.open(empty_store.url, migrate=False)
    managers = [JobManager(empty_store, workers=1), JobManager(other, workers=1)]
    barrier = threading.Barrier(8)
    got: list[tuple[str, bool]] = []

    def submit(i: int) -> None:
        barrier.wait()
        job, known = managers[i % 2].submit("same-key", 10, lambda p: {"n": 1})
        got.append((job.id, known))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 8 and len({jid for jid, _ in got}) == 1
    assert sum(not known for _, known in got) == 1
    assert empty_store.counts()["scenario_jobs"] == 1
    assert poll(managers[0], got[0][0]).state.value == "done"
    for m in managers:
        m.shutdown(wait=True)
    other.close()


def test_a_job_of_a_live_worker_is_not_declared_dead(empty_store: Store) -> None:
    from orechain.interfaces.api.jobs import JobManager, JobState

    jm = JobManager(empty_store, workers=1, heartbeat_s=0.05, stale_after_s=0.4)

    def steady(progress: Any) -> dict[str, Any]:
        for _ in range(12):  # 1.2 s: three times the staleness limit, with heartbeats flowing
            time.sleep(0.1)
            progress(1)
        return {"ok": True}

    job, _ = jm.submit("live", 12, steady)
    reader = JobManager(empty_store, heartbeat_s=0.05, stale_after_s=0.4)  # another process's view
    assert poll(reader, job.id).state is JobState.DONE
    jm.shutdown(wait=True)


_HANG = """
import sys, time
from orechain.evidence.store import Store
from orechain.interfaces.api.jobs import JobManager
jm = JobManager(Store.open(sys.argv[1], migrate=False), workers=1, heartbeat_s=0.1, stale_after_s=1.0)
job, _ = jm.submit("doomed", 100, lambda p: (time.sleep(60), {})[1])
print(job.id, flush=True)
time.sleep(60)
"""


def test_a_job_whose_worker_process_died_is_reported_failed(empty_store: Store) -> None:
    """A process running a job is killed (SIGKILL: no clean-up runs); another process reading the job after the
    heartbeat limit reports it failed with a clear error, and the same scenario can be submitted again."""
    import subprocess
    import sys

    from orechain.interfaces.api.jobs import JobManager, JobState

    child = subprocess.Popen([sys.executable, "-c", _HANG, empty_store.url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        job_id = child.stdout.readline().strip()
        assert len(job_id) == 32, "the child process did not submit its job"
        reader = JobManager(empty_store, heartbeat_s=0.1, stale_after_s=1.0)
        time.sleep(0.3)
        assert reader.get(job_id).state in (JobState.QUEUED, JobState.RUNNING)  # alive: heartbeats flow
        child.kill()
        child.wait(10)
        end = time.monotonic() + 10
        while (job := reader.get(job_id)).state is not JobState.FAILED and time.monotonic() < end:
            time.sleep(0.1)
        assert job.state is JobState.FAILED and job.finished is not None
        assert job.error and "worker process stopped" in job.error and "submit it again" in job.error
        again, known = reader.submit("doomed", 100, lambda p: {})
        assert not known and again.id != job_id
        assert poll(reader, again.id).state is JobState.DONE
        reader.shutdown(wait=True)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


def _splice(text: str, field: dict[str, Any], literal: str) -> str:
    return text[:field["start"]] + literal + text[field["end"]:]  # the YAML has no characters beyond UTF-16's BMP


def test_builtin_scenarios_come_with_their_spec_and_form_fields(shipped: TestClient) -> None:
    import yaml

    got = shipped.get("/api/v1/scenarios/builtin/pakistan-us").json()
    assert got["spec"] == yaml.safe_load(got["yaml"])
    fields = {f["key"]: f for f in got["fields"]}
    mode = fields["projects[4].capacity.mode"]
    assert mode["ref"] == "projects.pk-ree-mine.capacity.mode" and mode["unit"] == "t NdPr oxide eq/yr"
    assert mode["value"] == 200 and mode["minimum"] == 0 and mode["group"].startswith("Project pk-ree-mine")
    p_fail = fields["projects[1].gates[0].p_fail"]
    assert (p_fail["minimum"], p_fail["maximum"], p_fail["unit"]) == (0, 1, "0-1") and "failure" in p_fail["label"]
    assert fields["policies[1].p_resume"]["maximum"] == 1
    assert fields["policies[1].suspended_until"]["kind"] == "date"
    assert "operating" in fields["projects[2].status"]["options"]
    assert fields["impact.threshold"]["exclusive_minimum"] == 0
    for f in got["fields"]:  # every field points at its value in the text
        assert yaml.safe_load(got["yaml"][f["start"]:f["end"]]) == f["value"], f["key"]
        assert got["yaml"].splitlines()[f["line"] - 1].find(got["yaml"][f["start"]:f["end"]]) >= 0
    # the same for any YAML posted, with comments and everything else kept when one value is changed
    edited = _splice(got["yaml"], mode, "400")
    again = shipped.post("/api/v1/scenarios/fields", json={"yaml": edited}).json()
    assert {f["key"]: f["value"] for f in again["fields"]}["projects[4].capacity.mode"] == 400
    assert again["spec"]["projects"][4]["capacity"]["mode"] == 400 and "# --- the deal's projects" in edited
    assert_error(shipped.post("/api/v1/scenarios/fields", json={"yaml": "a: [unclosed"}), 422)
    assert_error(shipped.post("/api/v1/scenarios/fields", json={"yaml": "- a list"}), 422)
    assert_error(shipped.post("/api/v1/scenarios/fields", json={"yaml": "\x1f"}), 422)  # refused by YAML's reader
    # aliases that expand to billions of values, or to themselves, are refused before anything walks them
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    for text in (laughs, "a: &a [*a]\n"):
        for path in ("/api/v1/scenarios/fields", JOBS):
            assert "expands to more than" in assert_error(shipped.post(path, json={"yaml": text}), 422)["message"]
    deep = "a: " + "[" * 20_000 + "]" * 20_000
    assert "nested too deeply" in assert_error(shipped.post(JOBS, json={"yaml": deep}), 422)["message"]


def test_an_edited_value_that_breaks_the_scenario_is_a_422_naming_its_field(shipped: TestClient) -> None:
    got = shipped.get("/api/v1/scenarios/builtin/pakistan-us").json()
    fields = {f["key"]: f for f in got["fields"]}
    bad = _splice(got["yaml"], fields["projects[4].capacity.min"], "900")  # min above mode (200) and max (600)
    err = assert_error(shipped.post(JOBS, json={"yaml": bad, "scenarios": 500}), 422)
    assert any(str(p["field"]).startswith("projects[4].capacity") for p in err["details"]), err


@pytest.mark.slow
def test_orechain_serve_with_two_worker_processes_answers_every_poll(shipped_db: Path) -> None:
    """`orechain serve --workers 2`: each poll on a new connection may reach either process (the kernel picks);
    every one finds the job and its result."""
    import json
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(Path(sys.executable).with_name("orechain")), "serve", "--workers", "2",
                               "--port", str(port), "--db", str(shipped_db)], stderr=subprocess.DEVNULL)

    def call(path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", "Connection": "close"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    try:
        end = time.monotonic() + 90
        while True:
            try:
                if call("/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < end and server.poll() is None, "orechain serve did not start"
            time.sleep(0.2)
        text = call("/api/v1/scenarios/builtin/us-magnets-2030")[1]["yaml"]
        status, job = call(JOBS, {"yaml": text, "scenarios": 20000, "seed": 21})
        assert status in (200, 202), job
        states = []
        for _ in range(40):  # every poll on a fresh connection
            code, st = call(f"{JOBS}/{job['id']}")
            assert code == 200, st
            states.append(st["state"])
        while st["state"] in ("queued", "running"):
            assert time.monotonic() < end + 120
            time.sleep(0.2)
            st = call(f"{JOBS}/{job['id']}")[1]
        assert st["state"] == "done"
        for _ in range(10):
            code, res = call(f"{JOBS}/{job['id']}/result")
            assert code == 200 and res["result"]["scenarios"] == 20000
    finally:
        server.terminate()
        server.wait(30)
