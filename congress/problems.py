"""What each import problem code says to the organizer."""

from __future__ import annotations

from congress.i18n import N_

PROBLEM_MESSAGES = {
    "missing_name": N_("The full name is missing."),
    "missing_kind": N_("The kind of delegate is missing (official, invited or guest)."),
    "unknown_kind": N_("Unknown kind of delegate “{value}” (official, invited or guest)."),
    "unknown_gender": N_("Unknown gender “{value}”."),
    "bad_birth_year": N_("The birth year “{value}” is not a year."),
    "duplicate_card_number": N_("Card number {value} appears more than once in the file."),
    "bad_photo_name": N_("The photo “{value}” must be a file name, not a path."),
    "unknown_delegation": N_("Unknown delegation “{value}”."),
    "duplicate_row": N_(
        "{value} appears twice in the file with the same delegation and birth year."
    ),
    "xls_not_supported": N_(
        "Old Excel files (.xls) cannot be read: save the file as .xlsx or CSV."
    ),
    "unsupported_file": N_("This is not a spreadsheet: upload a CSV or XLSX file."),
    "unreadable_encoding": N_("The characters of this file cannot be read: save it as CSV UTF-8."),
    "encrypted_file": N_(
        "This Excel file is protected with a password: remove the password and save it again."
    ),
    "unreadable_file": N_("This Excel file cannot be opened; it may be damaged."),
    "empty_file": N_("The file has no rows."),
    "too_many_rows": N_("The file has too many rows."),
    "missing_name_column": N_("No “Họ và tên” (full name) column was found in the first rows."),
    "duplicate_column": N_("The column “{value}” appears twice."),
}


def problem_message(code: str) -> str:
    return PROBLEM_MESSAGES.get(code, N_("Problem: {value}"))
