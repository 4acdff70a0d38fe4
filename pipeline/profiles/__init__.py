"""Extraction profiles: what each one adds to the merged page text, and the registry core code asks."""
