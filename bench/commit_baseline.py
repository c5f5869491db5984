"""The baseline of bench/commit.py: a testimony's files committed once, at the end.

Before issue 14 a file part was sealed into a temporary blob while it arrived, and nothing was
named or written to the database until the whole body had been read: one transaction at the
end, in `commit_submission`. `SingleCommitKeeper` puts that behaviour back in place of
`intake.web.services.receive.DraftKeeper` (the benchmark swaps it into `intake.web.receiving`
for its baseline runs only): each whole part is only claimed as it arrives; when the testimony
service first asks for the files, every temporary blob is named, and the submission commits
them in its single transaction. No draft row, no per-file sealed metadata, no answers kept
when the first file starts. The rest of the request (parsing, sealing, validation, the
submission.json, the receipt page) is Intake's own code in both runs.
"""

from __future__ import annotations

from intake.blobstore import new_blob_name
from intake.web.services.context import WebContext
from intake.web.services.drafts import DraftKey
from intake.web.services.incoming import IncomingFile, group_of_field
from intake.web.services.receive import KeyringSnapshot
from intake.web.services.storage import StoreTemp
from intake.web.upload import Part, UploadSession

__all__ = ["SingleCommitKeeper"]


class SingleCommitKeeper:
    """DraftKeeper's interface, keeping nothing until the end (the old behaviour)."""

    def __init__(
        self, ctx: WebContext, key: DraftKey, snapshot: KeyringSnapshot, upload: UploadSession
    ) -> None:
        del ctx, key  # nothing goes to the draft
        self._snapshot = snapshot
        self._upload = upload
        self._arrived: list[tuple[Part, int]] = []
        self._kept: list[IncomingFile] | None = None
        self.answers: tuple[tuple[str, str], ...] | None = None
        upload.on_answers = self.keep_answers
        upload.on_part = self.keep_part

    def keep_answers(self, fields: list[tuple[str, str]]) -> None:
        """The old form kept no answers: a cut lost them (the bug issue 14 fixed)."""
        self.answers = tuple(fields)

    def keep_part(self, writer: Part) -> None:
        """Claim a whole part's temporary blob; it is named only at the end."""
        group = group_of_field(writer.field_name)
        if group is None or not writer.complete:
            return
        self._upload.claim(writer)
        self._arrived.append((writer, group))

    @property
    def kept(self) -> list[IncomingFile]:
        """Every part that arrived, named now, once; the submission commits them together."""
        if self._kept is None:
            self._kept = []
            for writer, group in self._arrived:
                name = new_blob_name()
                temp = writer.temp
                assert isinstance(temp, StoreTemp)  # new_upload makes only StoreTemps
                temp.commit(name)
                self._kept.append(
                    IncomingFile.from_writer(
                        writer, blob_name=name, group=group, keyring_digest=self._snapshot.digest
                    )
                )
        return self._kept
