"""Documents as they arrive: what a file is, and reading PDFs and images into clean page text."""
