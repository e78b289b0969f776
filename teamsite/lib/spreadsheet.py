"""CSV downloads are opened in spreadsheets, which run a cell that starts like a formula (a run
named "=HYPERLINK(...)"): such text is written with a leading quote, so it stays text."""

# OWASP's list for "CSV injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """The cell as it may go into a CSV download; numbers and other text are left alone."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
