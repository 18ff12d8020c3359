"""The objection states in which a record is disputed.

Every release of a disputed record carries the flag (`release.reader` reads it with
the records); the objection workflow and the enterprise's own view use the same states.
"""

from __future__ import annotations

__all__ = ["OPEN_OBJECTION"]

#: objection states in which the record is disputed
OPEN_OBJECTION = ("open", "forwarded")
