"""Every sentence Paperline writes on a job for a person to read, built by plain functions.

Store backends, the processing steps, recovery and the Python API all word a job's messages, errors, notes and
events through here, so a second backend says exactly what the first does, and wording changes in one place.
Chunks are numbered from 1 for people (their index is 0-based). One module per concept (words, jobs, workers,
documents, access, webhooks, commands, ask); callers read them all here, as ``messages.X``.
"""

from pipeline.core.messages.access import *  # noqa: F403
from pipeline.core.messages.ask import *  # noqa: F403
from pipeline.core.messages.commands import *  # noqa: F403
from pipeline.core.messages.documents import *  # noqa: F403
from pipeline.core.messages.jobs import *  # noqa: F403
from pipeline.core.messages.webhooks import *  # noqa: F403
from pipeline.core.messages.words import *  # noqa: F403
from pipeline.core.messages.workers import *  # noqa: F403
