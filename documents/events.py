"""Events of the archive. Each names the service that sends it."""

from __future__ import annotations

from congress.eventlog import Event


class DocumentUploaded(Event, frozen=True):
    """A new document was uploaded (its first version).

    Sent by documents.services.upload_document.
    """

    document_id: int
    category: str
    access: str


class DocumentVersionAdded(Event, frozen=True):
    """A new version of a document was uploaded; earlier ones are kept.

    Sent by documents.services.add_version.
    """

    document_id: int
    version: int


class DocumentUpdated(Event, frozen=True):
    """A document's title, category, access level, sitting or agenda item changed.

    Sent by documents.services.update_document.
    """

    document_id: int
    fields: list[str]


class DocumentReleased(Event, frozen=True):
    """A version was released to delegates (access "delegates") or to everyone ("public").

    Sent by documents.services.release_document; delegates' pages and the public page
    show the new paper when they receive it. Never sent for a confidential document.
    """

    document_id: int
    version: int
    access: str


class DocumentWithdrawn(Event, frozen=True):
    """A released document was taken back from delegates and the public.

    Sent by documents.services.withdraw_document.
    """

    document_id: int


class MinutesDraftSaved(Event, frozen=True):
    """The secretariat saved the draft minutes of a sitting.

    Sent by documents.minutes.save_draft.
    """

    sitting_id: int


class MinutesFinalised(Event, frozen=True):
    """A sitting's minutes were finalised to a PDF and archived as a new version.

    Sent by documents.minutes.finalise.
    """

    sitting_id: int
    document_id: int
    version: int


class ArchiveExported(Event, frozen=True):
    """The congress record was exported as a ZIP; ``fingerprint`` is its manifest's sha256.

    Sent by documents.archive.export_archive.
    """

    fingerprint: str
    include_confidential: bool
    documents: int


class ArchiveImported(Event, frozen=True):
    """A congress record was imported from an export into this instance.

    Sent by documents.archive.import_archive.
    """

    fingerprint: str
    documents: int
