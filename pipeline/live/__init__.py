"""The store's changes as they happen: one follower per process, for the dashboard's feed and the API's streams."""

from pipeline.live.follower import ChangeFollower, ChangeListener
from pipeline.store import Changes

__all__ = ["ChangeFollower", "ChangeListener", "Changes"]
