"""Conformance suite for the Luminate Online Constituent API and Kognitiv RecordInteraction.

The public API is this short list; everything else is private to the package.
"""

from conformance.outcome import Verdict
from conformance.profile import Profile, load_profile

__all__ = ["Profile", "Verdict", "__version__", "load_profile"]
__version__ = "0.1.0"
