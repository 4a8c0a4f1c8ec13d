"""Delegations and delegates: the list, search, editing and the spreadsheet import."""
