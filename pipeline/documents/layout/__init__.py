"""A born-digital page's layout: its characters with their fonts and boxes and its ruling lines (``page``), grouped
into words and lines (``lines``), its tables (``tables``, ``aligned``, their text read into cells by ``textgrid``
and made elements with their header rows by ``cells``), and its elements in reading order (``reading``, cut into
columns by ``order``); then the pages made into one document (``document``: ``furniture``, ``headings``), and a
model's Markdown read as the same elements (``markdown``)."""
