"""A job's steps as plain code over a store and settings: planning, chunk extraction, merging, progress.

No Huey here: the steps reach the queue and the worker only through ``pipeline.jobs.ports``."""
