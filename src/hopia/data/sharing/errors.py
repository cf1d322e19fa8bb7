"""Errors of the sharing axis. Messages are in French: operators read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hopia.platform.exceptions import HopiaError

if TYPE_CHECKING:
    from hopia.data.sharing.anonymity import AnonymityReport


class SharingError(HopiaError):
    """An export cannot be made; nothing was written."""


class ShareRefusedError(SharingError):
    """k-anonymity or l-diversity cannot be reached: the export is refused.

    ``report`` holds the figures (class sizes, the blocking quasi-identifier), never a person.
    """

    def __init__(self, message: str, report: AnonymityReport) -> None:
        super().__init__(message)
        self.report = report
