"""Exception hierarchy of the stand-alone audit-log verifier."""

from __future__ import annotations


class VerifyError(Exception):
    """Base class: something could not be verified."""


class ProofError(VerifyError):
    """A Merkle inclusion or consistency proof does not verify."""


class CheckpointError(VerifyError):
    """A signed checkpoint does not verify (signature, key, contents)."""


class FormatError(VerifyError):
    """Input is malformed: JSON shape, field type, base64 or byte length."""


class ProofFormatError(FormatError, ProofError):
    """A proof response is malformed."""


class CheckpointFormatError(FormatError, CheckpointError):
    """A checkpoint is malformed."""
