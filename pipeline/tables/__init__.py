"""A document's tables as data an analyst works with: cells read as numbers (``numbers``), each table as a pandas
DataFrame with every header row (``frames``), every table in one Excel workbook (``workbook``), and the caption
that names a table (``captions``). Read from a job's ``tables`` result (and its JSON tree, for captions); nothing
here opens a store, so the HTTP client uses it too."""
