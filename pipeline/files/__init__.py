"""Job files: where blobs live (a directory or an S3-compatible bucket), a job's files by name, and retention."""
