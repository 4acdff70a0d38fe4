"""A born-digital page's layout: its characters with their fonts and boxes and its ruling lines (``page``), grouped
into words and lines (``lines``), its tables (``tables``), and its elements in reading order (``reading``)."""
