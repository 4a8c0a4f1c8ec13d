"""The archive's words as people read them: categories and access levels."""

from __future__ import annotations

from congress.i18n import N_

CATEGORY_LABELS = {
    "political_report": N_("Political report"),
    "executive_report": N_("Executive committee report"),
    "inspection_report": N_("Inspection committee report"),
    "draft_resolution": N_("Draft resolution"),
    "speech": N_("Speech"),
    "minutes": N_("Minutes"),
    "tally_protocol": N_("Tally protocol"),
    "attendance_report": N_("Attendance report"),
    "other": N_("Other"),
}
ACCESS_LABELS = {
    "public": N_("Public"),
    "delegates": N_("Delegates"),
    "organizers": N_("Organizers only"),
    "confidential": N_("Confidential"),
}
