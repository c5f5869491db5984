"""The same video found again (vPDQ): derived copies found, unrelated clips never linked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.triage.factory import FileSpec, build, export_bundle
from tests.triage.media.clips import DERIVED, UNRELATED, camera, derive, unrelated
from tests.triage.workbench import Bench
from triage.media.probe import find_tools, hash_descriptor
from triage.media.similar import FrameHash, compare, frames_from_json, frames_to_json

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or not find_tools().pdq,
    reason="needs Debian ffmpeg and the media extra (PyAV, pdqhash)",
)


@pytest.fixture(scope="module")
def clipset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vpdq")
    made = {"original": camera(folder / "original.mp4")}
    for name, args in DERIVED.items():
        made[name] = derive(made["original"], folder / f"{name}.mp4", args)
    for name, source in UNRELATED.items():
        made[name] = unrelated(folder / f"{name}.mp4", source)
    return made


def _hashes(path: Path, duration: float = 6) -> list[FrameHash]:
    fd = os.open(path, os.O_RDONLY)
    try:
        frames = hash_descriptor(fd, find_tools(), duration=duration)
    finally:
        os.close(fd)
    assert frames
    return frames


def test_derived_copies_match_and_unrelated_clips_do_not(clipset: dict[str, Path]):
    hashes = {name: _hashes(path) for name, path in clipset.items()}
    original = hashes["original"]
    assert len(original) == 6  # a frame a second
    for name in DERIVED:
        found = compare(hashes[name], original)
        assert found is not None
        assert found.same, (name, found)
    trimmed = compare(hashes["trimmed"], original)
    assert trimmed is not None
    assert trimmed.query_share == 1.0
    assert trimmed.other_share < 1.0  # only part of the original is in the cut
    for name in UNRELATED:
        for other in [*DERIVED, "original"]:
            found = compare(hashes[name], hashes[other])
            assert found is not None
            assert not found.same, (name, other, found)
    assert frames_from_json(frames_to_json(original)) == original


def test_low_quality_frames_are_not_compared():
    blank = [FrameHash(0.0, 0, 0)]
    assert compare(blank, blank) is None
    assert frames_from_json('[[0, "zz", 1], ["x"], [1.0, "ff", 90]]') == [FrameHash(1.0, 255, 90)]


def test_links_and_similar_find_the_re_encoded_copy(bench: Bench, clipset, tmp_path: Path):
    me = [bench.investigator.recipient]
    first = build(me, files=[FileSpec(clipset["original"].read_bytes())])
    second = build(me, files=[FileSpec(clipset["scaled"].read_bytes())])
    third = build(me, files=[FileSpec(clipset["cellauto"].read_bytes())])
    bundle = export_bundle(tmp_path / "e", [first, second, third])
    assert bench.run("import", str(bundle)).exit_code == 0

    result = bench.run("links", first.id, "--json")
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines() if line]
    same = [f for f in found if "same-media-re-encoded" in f["kinds"]]
    assert [f["id"] for f in same] == [second.id]
    assert same[0]["independent"] is False
    assert "same picture/video, re-encoded" in same[0]["reasons"][0]
    assert "matched at 0-5 s" in same[0]["reasons"][0]
    assert third.id not in {f["id"] for f in same}

    held = tmp_path / "from-elsewhere.mp4"
    derive(clipset["original"], held, DERIVED["logo"])
    similar = bench.run("media", "similar", str(held))
    assert similar.exit_code == 0, similar.output
    assert first.id in similar.stdout  # (two copies derived apart need not match each other)
    assert third.id not in similar.stdout
    log = (bench.root / "custody.jsonl").read_text()
    assert '"action":"media_searched"' in log.replace(" ", "")


def _title_card_then(path: Path, content: str) -> Path:
    """Eight seconds of colour bars, then two of `content`: a channel's clip, say."""
    bars = "smptebars=size=320x180:rate=25:duration=8"
    body = content.format(size="320x180") + ",trim=duration=2,setpts=PTS-STARTPTS"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", bars, "-f", "lavfi", "-i", body,
         "-filter_complex", "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]concat=n=2",
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_unrelated_clips_sharing_a_still_title_card_are_not_the_same_video(
    bench: Bench, tmp_path: Path
):
    one = _title_card_then(tmp_path / "one.mp4", UNRELATED["cellauto"])
    two = _title_card_then(tmp_path / "two.mp4", UNRELATED["life"])
    found = compare(_hashes(one, 10), _hashes(two, 10))
    assert found is not None
    assert found.static  # what matched is one still picture

    me = [bench.investigator.recipient]
    first = build(me, files=[FileSpec(one.read_bytes())])
    second = build(me, files=[FileSpec(two.read_bytes())])
    assert bench.run("import", str(export_bundle(tmp_path / "e", [first, second]))).exit_code == 0
    result = bench.run("links", first.id, "--json")
    assert result.exit_code == 0, result.output
    (link,) = [json.loads(line) for line in result.stdout.splitlines() if line]
    assert link["kinds"] == ["same-still-picture"]
    assert link["independent"] is True
    assert link["reasons"][0].startswith("same picture only (static)")
