"""Who an imported Appointment is for: the patient's SNILS and OMS policy (R21, R22, R27).

Regional systems name the patient by national identifier systems, often on a participant whose
``actor`` has an ``identifier`` and no ``type``. Which systems mean SNILS and which an OMS policy
is ``ImportConfig``; identifiers under any other system are counted as not used, never an error.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from core import validation
from core.errors import InvalidInput
from core.fhir.model import BundleRejected, ImportConfig, Tally, Unused

Kind = Literal["snils", "oms"]
PATIENT_TYPES = {"Patient", "http://hl7.org/fhir/StructureDefinition/Patient"}
NO_SYSTEM = "(no system)"
MAX_SYSTEM_SHOWN = 120  # a system printed in the report and the log; longer ones are cut

_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
_PREFIX = "urn:oid:"


def _oid(system: str) -> str | None:
    """The dotted OID of ``urn:oid:1.2.3`` or of a bare ``1.2.3`` (sent by some systems), else None."""
    bare = system[len(_PREFIX):] if system[:len(_PREFIX)].lower() == _PREFIX else system
    return bare if _OID.fullmatch(bare) else None


class Systems:
    """Identifier systems by kind: a URL matches exactly, an OID itself and its sub-arcs."""

    def __init__(self, config: ImportConfig) -> None:
        kinds: list[tuple[str, Kind]] = [(s, "snils") for s in config.snils_systems]
        kinds += [(s, "oms") for s in config.oms_systems]
        self._exact = dict(kinds)
        # The longest OID first, so a listed sub-arc wins over its parent.
        oids = [(oid, kind) for s, kind in kinds if (oid := _oid(s)) is not None]
        self._oids = sorted(oids, key=lambda pair: -len(pair[0]))

    def kind(self, system: str) -> Kind | None:
        if system in self._exact:
            return self._exact[system]
        oid = _oid(system)
        if oid is not None:
            for base, kind in self._oids:
                if oid == base or oid.startswith(base + "."):
                    return kind
        return None


def _candidates(label: str, appointment: Any) -> list[tuple[bool, str, Any]]:
    """(explicitly a patient?, FHIR path, Identifier) for every participant that may be the patient.

    Explicit: actor type Patient, a ``Patient/<id>`` reference or a contained Patient. Not explicit:
    an actor with neither type nor reference, named by its identifier only. Any other actor (a
    practitioner, a location, a device) is not the patient.
    """
    contained = {r.id: r for r in appointment.contained or []}
    out: list[tuple[bool, str, Any]] = []
    for p_index, participant in enumerate(appointment.participant or []):
        actor = participant.actor
        if actor is None:
            continue
        reference = actor.reference or ""
        where = f"participant[{p_index}].actor"
        identifiers: list[tuple[str, Any]] = []
        if actor.identifier is not None:
            identifiers.append((f"{where}.identifier", actor.identifier))
        if reference.startswith("#"):
            target = contained.get(reference[1:])
            if target is None:
                raise BundleRejected(label, f"{where}.reference", f"{reference!r} names no contained resource")
            if target.get_resource_type() != "Patient":
                continue
            explicit = True
            identifiers += [(f"contained[{reference}].identifier[{i}]", ident)
                            for i, ident in enumerate(target.identifier or [])]
        elif actor.type in PATIENT_TYPES or reference.startswith("Patient/"):
            explicit = True
        elif actor.type is None and not reference:
            explicit = False
        else:
            continue
        out += [(explicit, path, ident) for path, ident in identifiers]
    return out


def _checked(label: str, where: str, kind: Kind, raw: str) -> str:
    try:
        return validation.oms_policy(raw) if kind == "oms" else validation.snils(raw)
    except InvalidInput as exc:
        what = "OMS policy: 16 digits" if kind == "oms" else "SNILS: 11 digits with a valid check number"
        raise BundleRejected(label, f"{where}.value", f"not a valid {what} ({exc.reason})") from None


def patient_identity(label: str, appointment: Any, systems: Systems, unused: Unused) -> tuple[str | None, str | None]:
    """OMS policy and SNILS of the patient, normalised; identifiers of other systems go to ``unused``.

    Explicit patients win over identifier-only actors (which may be the doctor, named by SNILS).
    Two different numbers of one kind among the chosen ones refuse the bundle: the visit would
    show to the wrong person.
    """
    found: dict[bool, dict[Kind, list[tuple[str, str]]]] = {True: {}, False: {}}
    not_used: set[str] = set()
    for explicit, where, ident in _candidates(label, appointment):
        system = ident.system or ""
        kind = systems.kind(system)
        if kind is None:
            not_used.add(system[:MAX_SYSTEM_SHOWN] or NO_SYSTEM)
            continue
        found[explicit].setdefault(kind, []).append((_checked(label, where, kind, ident.value or ""), where))
    for system in sorted(not_used):
        unused.identifier_systems.setdefault(system, Tally()).add(label)
    explicit = bool(found[True])
    chosen: dict[Kind, str] = {}
    for kind, values in found[explicit].items():
        first, first_at = values[0]
        for value, where in values[1:]:
            if value != first:
                hint = "" if explicit else "; give the patient's actor the type Patient"
                raise BundleRejected(label, f"{where}.value",
                                     f"a second, different {kind.upper()} (first in {first_at}){hint}")
        chosen[kind] = first
    if not chosen:
        unused.without_patient.add(label)
    return chosen.get("oms"), chosen.get("snils")
