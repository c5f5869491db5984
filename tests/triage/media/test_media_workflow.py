"""Import scans the files (or not, --no-media); show, list, the custody log and the case bundle."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.triage.factory import Built, FileSpec, answers_for, build, export_bundle
from tests.triage.media.clips import Meta, clip
from tests.triage.workbench import Bench

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("exiftool") is None,
    reason="needs Debian ffmpeg and libimage-exiftool-perl (make tools)",
)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    made = {
        # Recorded in Sevastopol on the day the witness gives, by a phone.
        "phone": clip(folder / "phone.mp4"),
        # Said to be Kherson, but recorded in Donetsk a month later and cut in CapCut.
        "edited": clip(
            folder / "edited.mp4",
            Meta(when="2024-04-02T10:00:00Z", lat=48.0159, lon=37.8029, software="CapCut 10.2"),
        ),
    }
    return {name: path.read_bytes() for name, path in made.items()}


def _submissions(bench: Bench, clips: dict[str, bytes]) -> tuple[Built, Built]:
    me = [bench.investigator.recipient]
    day = {"B4_date": "2024-03-01", "B4_precision": "exact"}
    crimea = build(
        me, answers=answers_for(B6_oblast="UA-43", **day),
        files=[FileSpec(clips["phone"]), FileSpec(b"%PDF-1.4", declared_type="application/pdf")],
        received_at=datetime(2024, 3, 3, tzinfo=UTC),
    )  # fmt: skip
    kherson = build(
        me, answers=answers_for(B6_oblast="UA-65", **day), files=[FileSpec(clips["edited"])],
        received_at=datetime(2024, 4, 5, tzinfo=UTC),
    )  # fmt: skip
    return crimea, kherson


def _ids(bench: Bench, *args: str) -> list[str]:
    result = bench.run("list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines() if line]


def _log(bench: Bench) -> list[dict[str, Any]]:
    lines = (bench.root / "custody.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_import_scans_and_show_lists_and_log_tell_it(bench: Bench, clips, tmp_path: Path):
    crimea, kherson = _submissions(bench, clips)
    result = bench.run("import", str(export_bundle(tmp_path / "e", [crimea, kherson])))
    assert result.exit_code == 0, result.output
    assert "media: 2 file(s) scanned, 2 read, 0 unreadable" in result.stdout  # not the PDF
    assert list((bench.root / "tmp").iterdir()) == []  # no plaintext left behind

    shown = bench.run("show", crimea.id).stdout
    assert "video: h264 320x240 25.00 fps" in shown
    assert "GPS: 44.61670, 33.52540" in shown
    assert "device: Apple iPhone 12" in shown
    assert "CONTRADICTION" not in shown  # Sevastopol lies in Crimea; the day is the day
    assert "CHECK" not in shown
    edited = bench.run("show", kherson.id).stdout
    assert "CONTRADICTION (time): recorded 2024-04-02T10:00:00+00:00" in edited
    assert "CHECK (place)" in edited  # towns, not boundaries: worth a look, no more
    assert "possibly outside the oblast named (UA-65)" in edited
    assert "CONTRADICTION (place)" not in edited
    assert "UA-14" in edited
    assert "CONTRADICTION (editor): last written by an editor: CapCut 10.2" in edited

    assert _ids(bench, "--has-gps") == [kherson.id, crimea.id]
    assert _ids(bench, "--recorded-since", "2024-04-01") == [kherson.id]
    assert _ids(bench, "--recorded-until", "2024-03-01") == [crimea.id]

    entries = _log(bench)
    read = [e for e in entries if e["action"] == "media_read"]
    assert {e["object_sha256"] for e in read} == {
        crimea.submission.files[0].plaintext_sha256, kherson.submission.files[0].plaintext_sha256
    }  # fmt: skip
    (summary,) = [e for e in entries if e["action"] == "media_scanned"]
    assert any(t.startswith("PyAV") for t in summary["details"]["tools"])
    assert any(t.startswith("ExifTool") for t in summary["details"]["tools"])
    assert bench.run("log", "verify").exit_code == 0


def test_no_media_then_scan_later(bench: Bench, clips, tmp_path: Path):
    crimea, kherson = _submissions(bench, clips)
    result = bench.run(
        "import", "--no-media", str(export_bundle(tmp_path / "e", [crimea, kherson]))
    )
    assert result.exit_code == 0, result.output
    assert "media:" not in result.stdout
    assert _ids(bench, "--has-gps") == []
    assert "GPS:" not in bench.run("show", crimea.id).stdout
    scanned = bench.run("media", "scan", crimea.id)
    assert scanned.exit_code == 0, scanned.output
    assert "1 file(s) scanned, 1 read" in scanned.stdout
    assert _ids(bench, "--has-gps") == [crimea.id]
    assert "2 file(s)" not in bench.run("media", "scan").stdout.replace("1 file(s)", "")
    assert "1 file(s) scanned" in bench.run("media", "scan", "--again", kherson.id).stdout


def test_case_bundle_carries_metadata_beside_originals(bench: Bench, clips, tmp_path: Path):
    crimea, _ = _submissions(bench, clips)
    assert bench.run("import", str(export_bundle(tmp_path / "e", [crimea]))).exit_code == 0
    incident = bench.run("incident", "new", "Shelling", "--oblast", "UA-43").stdout.strip()
    assert bench.run("incident", "add", incident, crimea.id).exit_code == 0
    to = tmp_path / "case"
    exported = bench.run(
        "case", "export", incident, "--to", str(to), "--recipient", "OPG Ukraine",
        "--recipient-class", "ua-prosecutors", "--purpose", "criminal proceedings 1",
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    sha = crimea.submission.files[0].plaintext_sha256
    derived = json.loads((to / "metadata" / f"{sha}.json").read_text())
    assert derived["role"] == "metadata"
    assert derived["describes"].startswith(f"originals/{sha}")
    assert derived["facts"]["latitude"] == pytest.approx(44.6167)
    assert any(t.startswith("PyAV") for t in derived["tools"])
    assert (to / derived["describes"]).read_bytes() == clips["phone"]  # the original, untouched
    manifest = json.loads((to / "manifest.json").read_text())
    assert [d["role"] for d in manifest["derived"]] == ["metadata"]
    assert bench.cli("case", "verify", str(to)).exit_code == 0


def test_contact_sheet_is_a_png_of_frames(bench: Bench, clips, tmp_path: Path):
    crimea, _ = _submissions(bench, clips)
    assert bench.run("import", str(export_bundle(tmp_path / "e", [crimea]))).exit_code == 0
    out = tmp_path / "sheets"
    result = bench.run("media", "sheet", crimea.id, "--to", str(out))
    assert result.exit_code == 0, result.output
    (sheet,) = out.iterdir()
    assert sheet.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sheet.stat().st_mode & 0o777 == 0o600
    assert "no sheet: not a scanned, readable video" in result.stdout  # the PDF
    assert any(e["action"] == "sheet_drawn" for e in _log(bench))
    again = bench.run("media", "sheet", crimea.id, "--to", str(out))
    assert again.exit_code != 0  # never overwrites
