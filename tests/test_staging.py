"""Staging files are private and do not outlive their run (issue 9, item 5): 0700 directories and
0600 files whatever the umask, a run directory held while a task works in it, and removed by the
next successful run of the same connection and entity (unless a live process holds it) or by age."""

# ruff: noqa: F811 - pytest fixtures imported from tests.test_pipeline are parameters here

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.airflow import glue as airflow_glue
from include.store import Store
from include.sync import pipeline, staging, streaming
from tests.test_pipeline import (  # noqa: F401 - fixtures
    config,
    connector,
    sandbox,
    store,
)

DAY = 86400.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what made the files 0644 before
    try:
        yield
    finally:
        os.umask(old)


def run_dir(root: Path, run: str, cid: str = "mx", entity: str = "work-orders") -> Path:
    return root / cid / entity / run


def test_streaming_staging_is_private(
    store: Store, sandbox, tmp_path: Path, loose_umask: None
) -> None:
    handle = sandbox(size=40)
    cfg = config(page_size=20)
    root = tmp_path / "home" / "staging"  # nothing of it exists yet
    out = run_dir(root, "run1")
    window = pipeline.plan_window(store, cfg, "work-orders", incremental=True, run_type="manual",
                                  interval_start=None, interval_end=None)  # fmt: skip
    streaming.sync_entity(connector(handle, cfg), cfg, "work-orders", window, out, store, "run1",
                          incremental=True, path_factory=Path)  # fmt: skip
    for directory in (tmp_path / "home", root, root / "mx", root / "mx" / "work-orders", out):
        assert mode(directory) == 0o700, directory
    files = sorted(p.name for p in out.iterdir())
    assert files == [".lock", "extract.json", "keys.txt", "pages.jsonl"]
    for name in files:
        assert mode(out / name) == 0o600, name


def test_staged_steps_staging_is_private(
    store: Store, sandbox, tmp_path: Path, loose_umask: None
) -> None:
    handle = sandbox(size=40)
    cfg = config(page_size=20)
    out = run_dir(tmp_path / "staging", "run1")
    out.mkdir(parents=True)
    out.chmod(0o755)  # made by an older version
    (out / "pages.jsonl").write_bytes(b"left by an older version\n")
    (out / "pages.jsonl").chmod(0o644)
    src = connector(handle, cfg)
    extracted = pipeline.extract(src, "work-orders", pipeline.Window(), out)
    pipeline.map_pages(type(src), cfg, "work-orders", extracted, out, store, "run1")
    assert mode(out) == 0o700
    for name in ("pages.jsonl", "mapped.jsonl", "keys.txt", ".lock"):
        assert mode(out / name) == 0o600, name


def hold(path: Path) -> subprocess.Popen:
    """Another process holding ``path`` (`staging.lease`) until it is killed."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from include.sync import staging\n"
        "with staging.lease(Path(sys.argv[1])):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == b"held\n"
    return proc


def killed_run(path: Path) -> None:
    """What a killed run leaves: its files and its (no longer held) lock."""
    with staging.lease(path), staging.create(path / "pages.jsonl") as fh:
        fh.write(b"[]\n")


def test_a_held_run_directory_refuses_a_second_process(tmp_path: Path) -> None:
    out = run_dir(tmp_path, "run1")
    proc = hold(out)
    try:
        with (
            pytest.raises(staging.StagingInUse, match="in use by another process"),
            staging.lease(out),
        ):
            pass
    finally:
        proc.kill()
        proc.wait()
    with staging.lease(out), staging.lease(out):  # free again; nests within a process
        pass


def test_the_next_successful_run_removes_a_killed_runs_staging(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    killed_run(run_dir(root, "killed"))
    killed_run(run_dir(root, "other-entity-killed", entity="assets"))
    running = run_dir(root, "running")
    proc = hold(running)
    try:
        killed_run(run_dir(root, "next"))  # the run that succeeds
        cleaned = staging.clean_after_success(root, "mx", "work-orders", "next", max_age=DAY)
        assert sorted(p.name for p in (root / "mx" / "work-orders").iterdir()) == ["running"]
        assert cleaned.held == [str(running)]
        # another entity's killed run is that entity's next run's business (or age's)
        assert run_dir(root, "other-entity-killed", entity="assets").exists()
    finally:
        proc.kill()
        proc.wait()
    staging.clean_after_success(root, "mx", "work-orders", "later", max_age=DAY)
    assert not running.exists()  # its process is gone now


def test_old_staging_is_removed_by_age_under_the_whole_root(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    now = time.time()
    old, young = run_dir(root, "old", cid="other"), run_dir(root, "young", cid="other")
    legacy = run_dir(root, "legacy", cid="other", entity="assets")  # no lock: an older version
    old_held = run_dir(root, "old-held", cid="other")
    for path in (old, young, old_held):
        killed_run(path)
    legacy.mkdir(parents=True)
    (legacy / "pages.jsonl").write_bytes(b"[]\n")
    proc = hold(old_held)
    try:
        for path in (old, legacy, old_held):
            for p in (path, *path.iterdir()):
                os.utime(p, (now - 4 * DAY, now - 4 * DAY))
        os.utime(young / "pages.jsonl", (now - 4 * DAY, now - 4 * DAY))  # one file, not all
        cleaned = staging.clean_after_success(root, "mx", "work-orders", "r", max_age=3 * DAY)
        assert not old.exists() and not legacy.exists()
        assert young.exists() and old_held.exists()  # changed lately; in use
        assert cleaned.held == [str(old_held)]
        staging.clean_after_success(root, "mx", "work-orders", "r", max_age=3 * DAY,
                                    now=now + 3 * DAY + 60)  # fmt: skip
        assert not young.exists() and old_held.exists()
    finally:
        proc.kill()
        proc.wait()


def test_cleanup_tightens_directories_an_older_version_made(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    (root / "mx" / "work-orders").mkdir(parents=True)
    for path in (root, root / "mx", root / "mx" / "work-orders"):
        path.chmod(0o755)
    staging.clean_after_success(root, "mx", "work-orders", "r", max_age=DAY)
    for path in (root, root / "mx", root / "mx" / "work-orders"):
        assert mode(path) == 0o700


def test_staging_max_age_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(airflow_glue.STAGING_MAX_AGE_ENV, raising=False)
    assert airflow_glue.staging_max_age() == 3 * DAY
    monkeypatch.setenv(airflow_glue.STAGING_MAX_AGE_ENV, "12h")
    assert airflow_glue.staging_max_age() == 12 * 3600
    for bad in ("soon", "0", "-1d"):
        monkeypatch.setenv(airflow_glue.STAGING_MAX_AGE_ENV, bad)
        with pytest.raises(ValueError, match="MILLWRIGHT_STAGING_MAX_AGE"):
            airflow_glue.staging_max_age()
