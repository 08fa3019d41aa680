"""Clinic information systems → the portal: import of FHIR R4 bundles (R22, R27).

``parse`` turns a bundle into plain dataclasses (no database); ``apply`` writes them in one
transaction. The accepted subset and its mapping: ``docs/fhir-import.md``.
"""

from core.fhir.apply import apply_bundle, import_bundle, read_bundle_file
from core.fhir.model import BundleRejected, Counts, ImportConfig, ImportReport, ParsedBundle, Tally
from core.fhir.parse import parse_bundle

__all__ = [
    "BundleRejected",
    "Counts",
    "ImportConfig",
    "ImportReport",
    "ParsedBundle",
    "Tally",
    "apply_bundle",
    "import_bundle",
    "parse_bundle",
    "read_bundle_file",
]
