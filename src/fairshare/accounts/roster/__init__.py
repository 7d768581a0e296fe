"""Roster and places import (issue 19): one workbook or a set of CSV files → the places,
households, roster members and staff accounts of a subdistrict, all or nothing.

``reader`` turns files into sheets of text cells, ``columns`` knows the headers,
``text`` normalises what people type, ``plan`` validates every row into the wanted
state, ``apply`` compares it with the database and writes it, and ``services``
ties them together (``roster_import``). The format is in docs/import-format.md.
"""
