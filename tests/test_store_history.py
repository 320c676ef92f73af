"""The history as the app uses it: jobs from queued to done, versions and their tree, filters, projects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import threading

import pytest
from PIL import Image

from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.store import HistoryStore, RecordNotFound, version_to_json

CLI_KEYS = {
    "id", "parent_id", "kind", "model", "prompt", "size", "quality", "status", "files",
    "input_tokens", "output_tokens", "cost_usd", "credits", "created_at", "starred", "project",
}  # fmt: skip


class Clock:
    """A clock that moves 1 ms per reading, so every record has its own time."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def png(color=(255, 0, 0), size=(16, 16), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def store(tmp_path, clock):
    s = HistoryStore(tmp_path / "home", clock=clock)
    yield s
    s.close()


def make_version(store, prompt="a red chair", project=None, parent=None, color=(255, 0, 0), usage=None, cost=0.05):
    job = store.create_job({"prompt": prompt}, "edit" if parent else "generate", "gpt-image-2", prompt, project, parent)
    store.mark_running(job.id)
    version = store.add_version(
        job.id, png(color), "png", 16, 16, "high", 0, usage or Usage(100, 1000, 1100, 100, 0, 1000), cost, 60
    )
    store.mark_succeeded(job.id)
    return version


def test_a_job_goes_from_queued_to_succeeded_and_its_inputs_can_be_restored(store):
    photo, reference, mask = png((10, 20, 30)), png((0, 255, 0)), png((0, 0, 0, 0), mode="RGBA")
    request = ImageRequest(prompt="put a hat on the cat", quality="high")

    job = store.create_job(
        request.describe(),
        "edit",
        "gpt-image-2",
        request.prompt,
        inputs=[(photo, "cat.png", "image"), (reference, "hat.png", "reference")],
        mask=mask,
        estimate={"cost_usd": 0.2, "credits": 60},
    )
    assert job.status == "queued" and job.project == "Default"
    assert job.params["quality"] == "high" and job.params["kind"] == "generate"
    assert job.estimate == {"cost_usd": 0.2, "credits": 60}

    running = store.mark_running(job.id)
    store.add_request_id(job.id, "req_1")
    store.add_request_id(job.id, "req_2")
    store.add_request_id(job.id, "req_1")
    store.set_response_file(job.id, store.files.put_response(b'{"data": []}'))
    done = store.mark_succeeded(job.id)

    assert running.status == "running" and running.started_at
    assert done.status == "succeeded" and done.finished_at > done.started_at > done.created_at
    assert done.request_ids == ("req_1", "req_2")
    assert store.files.path(done.response_file).read_bytes() == b'{"data": []}'
    restored = store.job_inputs(job.id)
    assert [(p.read_bytes(), name, role) for p, name, role in restored.images] == [
        (photo, "cat.png", "image"),
        (reference, "hat.png", "reference"),
    ]
    assert restored.mask.read_bytes() == mask
    assert store.job_inputs(store.create_job({}, "generate", "gpt-image-2", "x").id).mask is None
    assert [j.id for j in store.list_jobs(status="succeeded")] == [job.id]


def test_the_first_final_status_wins_but_results_after_cancel_are_kept(store):
    job = store.create_job({}, "generate", "gpt-image-2", "a boat")
    store.mark_running(job.id)
    assert store.mark_cancelled(job.id).status == "cancelled"
    assert store.mark_failed(job.id, "Stream closed").status == "cancelled"
    assert store.mark_succeeded(job.id).status == "succeeded"

    other = store.create_job({}, "generate", "gpt-image-2", "a plane")
    failed = store.mark_failed(other.id, "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx1234.")
    assert failed.status == "failed"
    assert "sk-proj" not in failed.error and "Incorrect API key provided" in failed.error


def test_unknown_ids_and_kinds_are_refused(store):
    with pytest.raises(RecordNotFound):
        store.mark_running("no-such-job")
    with pytest.raises(RecordNotFound):
        store.add_version("no-such-job", png(), "png", 16, 16, "high", 0, None, 0.0, 0)
    with pytest.raises(RecordNotFound):
        store.create_job({}, "edit", "gpt-image-2", "x", parent_version_id="missing")
    with pytest.raises(ValueError, match="generate"):
        store.create_job({}, "variation", "gpt-image-2", "x")
    assert store.get_job("no-such-job") is None and store.get_version("nope") is None


def test_a_version_stores_its_image_and_usage_and_exports_the_cli_json(store):
    v = make_version(store, usage=Usage(input_tokens=120, output_tokens=4000, input_text_tokens=120), cost=0.16)

    assert v.path.read_bytes() == png()
    assert v.file.startswith("images/") and v.size == "16x16" and v.kind == "generate"
    assert (v.input_tokens, v.output_tokens, v.cost_usd, v.credits) == (120, 4000, 0.16, 60)
    data = version_to_json(store.get_version(v.id))
    assert CLI_KEYS <= set(data)
    assert data["status"] == "succeeded" and data["project"] == "Default" and data["starred"] is False
    assert data["files"] == [str(v.path)] and v.path.is_absolute()
    assert store.version_to_json(v)["id"] == v.id


def test_a_job_with_several_images_lists_them_in_order(store):
    job = store.create_job({"n": 3}, "generate", "gpt-image-2", "three cups")
    made = [
        store.add_version(job.id, png((i, 0, 0)), "png", 16, 16, "low", i, Usage(10, 100), 0.01, 60).id
        for i in (0, 2, 1)
    ]
    assert [v.id for v in store.versions_for_job(job.id)] == [made[0], made[2], made[1]]
    assert store.versions_for_job("other") == []


def test_edits_build_a_tree_of_versions(store):
    root = make_version(store, "a house")
    first_edit = make_version(store, "add a red door", parent=root.id, color=(1, 2, 3))
    second_edit = make_version(store, "add snow", parent=root.id, color=(4, 5, 6))
    deeper = make_version(store, "make the door blue", parent=first_edit.id, color=(7, 8, 9))
    other_root = make_version(store, "a tree", color=(9, 9, 9))

    assert first_edit.parent_id == root.id and first_edit.kind == "edit"
    assert [c.id for c in store.children(root.id)] == [first_edit.id, second_edit.id]
    tree = [(v.id, depth) for v, depth in store.version_tree("Default")]
    assert tree == [
        (other_root.id, 0),
        (root.id, 0),
        (first_edit.id, 1),
        (deeper.id, 2),
        (second_edit.id, 1),
    ]


def test_filters_by_project_search_and_star(store):
    red = make_version(store, "A red chair in 50% light", project="Chairs")
    blue = make_version(store, "a blue chair", project="Chairs", color=(0, 0, 255))
    sofa = make_version(store, "a red sofa", color=(0, 255, 0))
    store.set_star(blue.id, True)

    assert [v.id for v in store.list_versions()] == [sofa.id, blue.id, red.id]
    assert [v.id for v in store.list_versions(project="Chairs")] == [blue.id, red.id]
    assert [v.id for v in store.list_versions(search="RED")] == [sofa.id, red.id]
    assert [v.id for v in store.list_versions(search="red chair")] == [red.id]
    assert [v.id for v in store.list_versions(search="50%")] == [red.id]
    assert [v.id for v in store.list_versions(search="5_%")] == []
    assert [v.id for v in store.list_versions(starred=True)] == [blue.id]
    assert [v.id for v in store.list_versions(starred=False, project="Chairs")] == [red.id]
    assert [v.id for v in store.list_versions(limit=1, offset=1)] == [blue.id]
    assert store.list_versions(project="No such project") == []
    assert store.set_star(blue.id, False).starred is False


def test_projects_can_be_made_renamed_and_deleted_with_their_cost_records(store):
    make_version(store, "a logo", project="Brand", cost=0.5)
    kept = make_version(store, "a poster", cost=0.25)
    store.set_project_budget("Brand", credits=600, usd=10.0)

    assert [p.name for p in store.list_projects()] == ["Default", "Brand"]
    assert store.ensure_project("Brand").budget_usd == 10.0
    renamed = store.rename_project("Brand", "Brand 2026")
    assert renamed.name == "Brand 2026" and renamed.budget_credits == 600
    with pytest.raises(ValueError, match="already exists"):
        store.rename_project("Brand 2026", "Default")
    with pytest.raises(ValueError, match="cannot be deleted"):
        store.delete_project("Default")

    logo = store.list_versions(project="Brand 2026")[0]
    store.delete_project("Brand 2026")

    assert [p.name for p in store.list_projects()] == ["Default"]
    assert [v.id for v in store.list_versions()] == [kept.id]
    assert logo.path.exists()  # files stay
    # Its cost records go with it (a bundle's records must not block budgets after the project is gone).
    assert store.usage_totals().cost_usd == 0.25 and store.usage_totals().images == 1
    with pytest.raises(RecordNotFound):
        store.rename_project("Brand 2026", "X")


def test_jobs_left_running_by_a_previous_run_become_interrupted(tmp_path, clock):
    store = HistoryStore(tmp_path, clock=clock)
    queued = store.create_job({}, "generate", "gpt-image-2", "one")
    running = store.create_job({}, "generate", "gpt-image-2", "two")
    store.mark_running(running.id)
    done = store.create_job({}, "generate", "gpt-image-2", "three")
    store.mark_succeeded(done.id)
    store.close()

    store = HistoryStore(tmp_path, clock=clock)
    try:
        interrupted = store.interrupt_stale_jobs()
        assert sorted(j.id for j in interrupted) == sorted([queued.id, running.id])
        assert all(j.status == "interrupted" and j.finished_at and j.error for j in interrupted)
        assert store.get_job(done.id).status == "succeeded"
        assert store.interrupt_stale_jobs() == []
    finally:
        store.close()


def test_reopening_keeps_everything(tmp_path, clock):
    with HistoryStore(tmp_path, clock=clock) as store:
        v = make_version(store, "a lamp", project="Lights")
        store.set_star(v.id, True)
    with HistoryStore(tmp_path, clock=clock) as store:
        again = store.get_version(v.id)
        assert again == dataclasses.replace(v, starred=True, job_status="succeeded")
        assert again.project == "Lights" and again.path.read_bytes() == png()
        assert store.recovered_from is None


def test_a_damaged_history_is_moved_aside_and_the_app_starts_fresh(tmp_path):
    tmp_path.joinpath("history.db").write_bytes(b"this is not a database" * 500)

    with HistoryStore(tmp_path) as store:
        assert store.recovered_from is not None
        assert store.recovered_from.read_bytes().startswith(b"this is not a database")
        assert store.list_versions() == [] and [p.name for p in store.list_projects()] == ["Default"]


def test_two_threads_can_use_one_store(store):
    errors: list[BaseException] = []
    made: list[str] = []
    start = threading.Barrier(2)

    def worker(tag: int) -> None:
        try:
            start.wait()
            for i in range(15):
                job = store.create_job({}, "generate", "gpt-image-2", f"thread {tag} image {i}")
                store.mark_running(job.id)
                v = store.add_version(job.id, png((tag, i, 0)), "png", 16, 16, "low", 0, Usage(1, 2), 0.01, 60)
                store.mark_succeeded(job.id)
                store.list_versions(limit=5)
                made.append(v.id)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(v.id for v in store.list_versions()) == sorted(made) and len(made) == 30
    assert store.usage_totals().images == 30


def test_two_hundred_versions_through_the_api_and_ten_thousand_in_bulk_list_newest_first(store):
    image = png()
    api_ids = []
    for i in range(200):
        job = store.create_job({}, "generate", "gpt-image-2", f"image {i}")
        api_ids.append(store.add_version(job.id, image, "png", 16, 16, "low", 0, None, 0.0, 60).id)
    assert [v.id for v in store.list_versions(limit=200)] == api_ids[::-1]

    job = store.create_job({}, "generate", "gpt-image-2", "bulk")
    base = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    rows = [
        {"job_id": job.id, "id": f"bulk{i:05d}", "created_at": (base + dt.timedelta(seconds=i)).isoformat()}
        for i in range(10_000)
    ]
    assert store._insert_versions_bulk(rows) == 10_000

    newest = store.list_versions(limit=200)
    assert [v.id for v in newest] == [f"bulk{i:05d}" for i in range(9999, 9799, -1)]
    assert len(store.list_versions(limit=200, offset=10_000)) == 200


def test_usage_totals_by_project_day_and_month(store, clock):
    make_version(store, "first of May", usage=Usage(10, 1000), cost=0.10)
    clock.now = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
    make_version(store, "early May", project="Client", usage=Usage(20, 2000), cost=0.20)
    job = store.create_job({}, "generate", "gpt-image-2", "cut stream")
    store.record_usage_without_version(job.id, Usage(5, 300, input_text_tokens=5, output_image_tokens=300), 0.01)
    clock.now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    make_version(store, "June", project="Client", usage=Usage(30, 3000), cost=0.30)

    assert store.usage_totals() == store.usage_totals(since="2026-01-01")
    total = store.usage_totals()
    assert (total.images, total.input_tokens, total.output_tokens, total.credits) == (3, 65, 6300, 180)
    assert total.cost_usd == pytest.approx(0.61)
    client = store.usage_totals(project="Client")
    assert (client.images, client.output_tokens, client.cost_usd) == (2, 5000, pytest.approx(0.5))
    june = store.usage_totals(since="2026-06-01")
    assert (june.images, june.output_tokens) == (1, 3000)
    assert store.usage_totals(project="Nobody") == store.usage_totals(since="2030-01-01")
    assert store.usage_totals(project="Nobody").images == 0

    def local_day(ts: str) -> str:
        return dt.datetime.fromisoformat(ts).astimezone().date().isoformat()

    days = store.usage_by_day()
    assert [d["day"] for d in days] == sorted({local_day(v.created_at) for v in store.list_versions()})
    assert sum(d["images"] for d in days) == 3 and sum(d["output_tokens"] for d in days) == 6300
    assert set(days[0]) == {"day", "images", "input_tokens", "output_tokens", "cost_usd", "credits"}
    months = {m["month"]: m for m in store.usage_by_month(project="Client")}
    assert months["2026-06"]["images"] == 1 and months["2026-06"]["cost_usd"] == pytest.approx(0.3)
    assert sum(m["output_tokens"] for m in months.values()) == 5000  # the cut stream was billed to Default


def test_settings_round_trip_as_json(tmp_path):
    with HistoryStore(tmp_path) as store:
        store.set_setting("window", {"width": 1400, "panels": ["history", "tray"]})
        store.set_setting("window", {"width": 1600, "panels": ["history"]})
        store.set_setting("credits_per_image", 60)
    with HistoryStore(tmp_path) as store:
        assert store.get_setting("window") == {"width": 1600, "panels": ["history"]}
        assert store.get_setting("credits_per_image") == 60
        assert store.get_setting("missing", default="light") == "light"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("openai_api_key", "anything"),
        ("provider.secret", "x"),
        ("auth_token", "x"),
        ("provider", {"base_url": "http://127.0.0.1:8000", "api_key": "x"}),
        ("provider", {"headers": ["Bearer abcdefghijklmnopqrstuvwxyz012345"]}),
        ("last_paste", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789"),
    ],
)
def test_settings_refuse_anything_that_looks_like_a_secret(tmp_path, key, value):
    with HistoryStore(tmp_path) as store:
        with pytest.raises(ValueError, match="keyring") as refused:
            store.set_setting(key, value)
        assert store.get_setting(key) is None
    assert "sk-proj" not in str(refused.value) and "abcdefghij" not in str(refused.value)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("history.db*"))
    assert b"sk-proj-AbCd" not in stored and b"abcdefghijklmnop" not in stored
