"""Sets and channels against the real local server and a real SQLite history: runner, store, delivery, bundle."""

from __future__ import annotations

import json
import zipfile

import pytest
from PIL import Image

from gptimg_desktop.core.channels import channel_preset, custom_preset
from gptimg_desktop.core.pricing import PriceTable
from gptimg_desktop.core.set_plan import SetReference, plan_set
from gptimg_desktop.core.templates import load_templates
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.jobs.channels import ChannelRunner, plan_channels
from gptimg_desktop.jobs.set_delivery import CONTACT_SHEET_NAME, MANIFEST_NAME, export_set
from gptimg_desktop.jobs.sets import SetListener, SetRunner, estimate_stored_set, plan_job_specs
from gptimg_desktop.provider.client import CancelToken, ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.store import sets as set_store
from gptimg_desktop.store.bundles import import_bundle
from gptimg_desktop.store.history import HistoryStore
from tests.support import gradient_photo

VI = {"brand": "Lume", "colours": "terracotta and cream"}


@pytest.fixture
def store(tmp_path):
    s = HistoryStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def client(dev_server):
    c = ImagesClient(ProviderConfig(kind="compatible", base_url=dev_server.url, api_key="sk-test-sets"),
                     sleep=lambda s: None)
    yield c
    c.close()


def _plan(only=("business-card", "avatar"), refs=()):
    return plan_set(load_templates().get("vi"), "A coffee roaster in Lisbon.", VI, refs, only_items=list(only),
                    quality="low")


class Waiting(SetListener):
    def __init__(self, approve):
        self.approve, self.finished = approve, []

    def approve_anchor(self, set_id, version):
        return self.approve

    def item_finished(self, set_id, item, version):
        self.finished.append((item.item_id, item.status))


def test_set_runs_anchor_first_then_edits_with_the_anchor_as_image_1(store, client, dev_server, tmp_path):
    ref = gradient_photo(tmp_path / "mood.png")
    plan = _plan(refs=[SetReference(str(ref), "palette")])
    outcome = SetRunner(store, client).run(plan, project="Lume")
    record = outcome.record
    assert outcome.failed == [] and record.done == 3 and record.anchor_approved
    anchor = store.get_version(record.anchor.version_id)
    anchor_bytes = anchor.path.read_bytes()
    edits = [r for r in dev_server.requests if r.path.endswith("/images/edits")]
    assert len(edits) == 3  # the anchor is an edit too: it has a pinned reference
    assert edits[0].files[0][3] == ref.read_bytes()
    for req, item in zip(edits[1:], record.items[1:], strict=True):
        assert req.files[0][3] == anchor_bytes  # Image 1 is the anchor
        assert req.files[1][3] == ref.read_bytes()
        assert req.fields["size"] == item.size
        version = store.get_version(item.version_id)
        assert version.parent_id == anchor.id and version.project == "Lume"
        assert (version.width, version.height) == tuple(int(v) for v in item.size.split("x"))
    assert record.cost_usd > 0 and record.summary_json()["done"] == 3


def test_unapproved_anchor_leaves_items_planned_until_approved(store, client):
    runner = SetRunner(store, client)
    outcome = runner.run(_plan(), listener=Waiting(False))
    assert outcome.stopped and outcome.record.done == 1
    assert [i.status for i in outcome.record.items] == ["succeeded", "planned", "planned"]
    credits, usd = estimate_stored_set(outcome.record, PriceTable())
    assert credits > 0 and usd > 0
    listener = Waiting(True)
    done = runner.continue_set(outcome.record.id, listener)
    assert done.record.done == 3 and [f[0] for f in listener.finished] == ["business-card", "avatar"]


def test_a_failed_item_is_recorded_and_the_rest_of_the_set_goes_on(store, client, dev_server):
    runner = SetRunner(store, client)
    record = runner.record(_plan())
    runner.run_item(record.id, "logo")
    set_store.set_anchor_approved(store, record.id)
    dev_server.faults.push(Fault("moderation"))
    outcome = runner.run_items(record.id)
    statuses = {i.item_id: i.status for i in outcome.record.items}
    assert statuses == {"logo": "succeeded", "business-card": "failed", "avatar": "succeeded"}
    failed = next(i for i in outcome.record.items if i.item_id == "business-card")
    assert failed.error and "Traceback" not in failed.error
    # Re-running just that item finishes the set; the new version replaces nothing else.
    assert runner.run_item(record.id, "business-card") is not None
    assert set_store.get_set(store, record.id).done == 3


def test_cancel_stops_before_sending_the_next_items(store, client):
    runner = SetRunner(store, client)
    token = CancelToken()

    class CancelAfterAnchor(SetListener):
        def approve_anchor(self, set_id, version):
            token.cancel()
            return True

    outcome = runner.run(_plan(), listener=CancelAfterAnchor(), cancel=token)
    assert [i.status for i in outcome.record.items] == ["succeeded", "cancelled", "cancelled"]


def test_anchor_without_image_is_refused_for_edits_and_plan_specs_mark_the_anchor(store, client, tmp_path):
    plan = _plan()
    specs = plan_job_specs(plan, None)
    assert len(specs) == 1 and specs[0][0].anchor and not specs[0][1].images
    anchor = gradient_photo(tmp_path / "a.png")
    specs = plan_job_specs(plan, anchor, project="P", anchor_version_id="v1")
    assert [s[0].anchor for s in specs] == [True, False, False]
    assert all(s[1].images[0] == str(anchor) and s[1].parent_version_id == "v1" for s in specs[1:])
    runner = SetRunner(store, client)
    record = runner.record(plan)
    assert runner.run_item(record.id, "avatar") is None
    item = next(i for i in set_store.get_set(store, record.id).items if i.item_id == "avatar")
    assert item.status == "failed" and "anchor" in item.error


def test_replace_anchor_export_folder_zip_and_bundle(store, client, tmp_path):
    runner = SetRunner(store, client)
    outcome = runner.run(_plan())
    sid = outcome.record.id
    folder = export_set(store, sid, tmp_path / "delivery")
    manifest = json.loads((folder.path / MANIFEST_NAME).read_text())
    assert [i["id"] for i in manifest["items"]] == ["logo", "business-card", "avatar"]
    for item in manifest["items"]:
        assert set(item) >= {"prompt", "size", "cost_usd", "file"}
        with Image.open(folder.path / item["file"]) as img:
            assert f"{img.width}x{img.height}" == item["size"]
    with Image.open(folder.path / CONTACT_SHEET_NAME) as sheet:
        assert sheet.width > 800
    zipped = export_set(store, sid, tmp_path / "delivery.zip")
    with zipfile.ZipFile(zipped.path) as zf:
        assert {MANIFEST_NAME, CONTACT_SHEET_NAME, "01-logo.png"} <= set(zf.namelist())
    bundle = set_store.export_set_bundle(store, sid, tmp_path / "set.gptimg")
    assert bundle.versions == 3
    other = HistoryStore(tmp_path / "other")
    try:
        summary = import_bundle(other, bundle.path)
        assert summary.versions == 3
    finally:
        other.close()
    # Replace the anchor with another version: it needs approving again.
    new_anchor = runner.run_item(sid, "avatar")
    assert new_anchor is not None
    replaced = set_store.replace_anchor(store, sid, new_anchor)
    assert replaced.anchor.version_id == new_anchor.id and not replaced.anchor_approved
    sets = set_store.list_sets(store)
    assert [s.id for s in sets] == [sid] and sets[0].items[0].item_id == "logo"


def test_channels_deliver_exact_pixels_and_keep_the_api_result(store, client, dev_server, tmp_path):
    source = SetRunner(store, client).run(_plan(only=("avatar",))).record.anchor
    version = store.get_version(source.version_id)
    presets = [channel_preset(n) for n in ("instagram-post", "story", "linkedin-banner")] + [custom_preset("900x300")]
    plans = plan_channels(version, presets)
    before = len(dev_server.requests)
    results = ChannelRunner(store, client).run(version, plans, tmp_path / "out")
    sent = dev_server.requests[before:]
    for result, req in zip(results, sent, strict=True):
        assert result.ok, result.error
        with Image.open(result.files[0]) as img:
            assert img.size == (result.plan.target.width, result.plan.target.height)
        assert req.fields["size"] == str(result.plan.api_size)
        assert req.files[0][3] == version.path.read_bytes()
        made = store.get_version(result.version_id)
        assert made.parent_id == version.id and made.size == str(result.plan.api_size)
        assert set(result.to_json()) == {"preset", "size", "api_size", "version_id", "files", "cost_usd"}
    assert results[2].plan.ratio_clamped and "cropped" in (results[2].plan.note or "")


def test_reconcile_links_a_job_finished_elsewhere_and_marks_a_failed_one(store, client):
    runner = SetRunner(store, client)
    record = runner.record(_plan())
    runner.run_item(record.id, "logo")
    set_store.set_anchor_approved(store, record.id)
    item = set_store.get_set(store, record.id).items[0]
    assert item.job_id is not None  # linked when the job was recorded, before sending
    # A job recorded for an item by a run that died, whose paid answer was finished at the next start:
    from gptimg_desktop.core.pricing import Usage

    job = store.create_job({"prompt": "x"}, "generate", "gpt-image-2", "x", None, None, [], None, None)
    set_store.update_item(store, record.id, "business-card", "running", job_id=job.id)
    anchor_file = store.get_version(item.version_id).path.read_bytes()
    store.add_version(job.id, anchor_file, "png", 1024, 1024, "low", 0, Usage(), 0.01, 1)
    store.mark_succeeded(job.id)
    failed_job = store.create_job({"prompt": "y"}, "generate", "gpt-image-2", "y", None, None, [], None, None)
    set_store.update_item(store, record.id, "avatar", "running", job_id=failed_job.id)
    store.mark_failed(failed_job.id, "The connection dropped.")
    fixed = {i.item_id: i for i in set_store.reconcile(store, record.id).items}
    assert fixed["business-card"].status == "succeeded" and fixed["business-card"].version_id
    assert fixed["avatar"].status == "failed" and fixed["avatar"].error == "The connection dropped."
