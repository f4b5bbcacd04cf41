"""Typed errors of edgeai: one module, so callers can catch exactly what they mean."""


class EdgeAIError(Exception):
    """Base class of every error edgeai raises on purpose."""


class FormatError(EdgeAIError, ValueError):
    """Unknown tensor format, or data that does not fit the format (size, block multiple)."""


class ShapeError(EdgeAIError, ValueError):
    """Array shapes that do not fit together (e.g. K of x and of the weights differ)."""


class ModelFileError(EdgeAIError, ValueError):
    """A model file that is corrupt, truncated, or not of the expected kind."""


class UnsupportedArchitectureError(EdgeAIError, ValueError):
    """A model architecture (or CPU ISA) that edgeai does not support."""


class IntegrityError(EdgeAIError):
    """A downloaded or cached file whose sha256 differs from the pinned one."""


class ModelNotFoundError(EdgeAIError, FileNotFoundError):
    """A model that is neither on disk, in the cache, nor reachable."""


class ContextLengthError(EdgeAIError, ValueError):
    """A prompt (plus requested tokens) longer than the model's context."""
