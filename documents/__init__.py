"""The archive: files, versions, access levels, search, export; the delegate portal."""
