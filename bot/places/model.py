"""A place of digital help, as stored after import, and what a user may need from it."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Need(str, enum.Enum):
    """What the user needs, mapped onto the national standard's vocabularies."""

    PROCEDURES = "demarches"
    COMPUTER_ACCESS = "acces_materiel"
    LEARNING = "apprendre"
    FRANCE_SERVICES = "france_services"
    DEAFNESS = "surdite"
    VISUAL_IMPAIRMENT = "deficience_visuelle"
    FOREIGN_LANGUAGES = "langues_etrangeres"
    ILLITERACY = "illettrisme"


NEED_LABELS_FR = {
    Need.PROCEDURES: "aide aux démarches",
    Need.COMPUTER_ACCESS: "ordinateur et Internet en libre accès",
    Need.LEARNING: "apprendre le numérique",
    Need.FRANCE_SERVICES: "espace France Services",
    Need.DEAFNESS: "accueil des personnes sourdes ou malentendantes",
    Need.VISUAL_IMPAIRMENT: "accueil des personnes malvoyantes",
    Need.FOREIGN_LANGUAGES: "accueil en langues étrangères",
    Need.ILLITERACY: "aide aux personnes qui lisent difficilement",
}

# Which values of the standard's fields satisfy each need (any one is enough).
NEED_VALUES: dict[Need, dict[str, frozenset[str]]] = {
    Need.PROCEDURES: {"services": frozenset({"Aide aux démarches administratives"}),
                      "dispositifs": frozenset({"France Services", "Aidants Connect"})},
    Need.COMPUTER_ACCESS: {"services": frozenset({"Accès internet et matériel informatique"}),
                           "modalites_accompagnement": frozenset({"En autonomie"})},
    Need.LEARNING: {"services": frozenset({
        "Maîtrise des outils numériques du quotidien", "Compréhension du monde numérique",
        "Utilisation sécurisée du numérique", "Insertion professionnelle via le numérique",
        "Parentalité et éducation avec le numérique", "Loisirs et créations numériques"}),
        "modalites_accompagnement": frozenset({"Dans un atelier collectif"})},
    Need.FRANCE_SERVICES: {"dispositifs": frozenset({"France Services"})},
    Need.DEAFNESS: {"prise_en_charge": frozenset({"Surdité"})},
    Need.VISUAL_IMPAIRMENT: {"prise_en_charge": frozenset({"Déficience visuelle"})},
    Need.FOREIGN_LANGUAGES: {"prise_en_charge": frozenset({"Langues étrangères (anglais)",
                                                           "Langues étrangères (autres)"})},
    Need.ILLITERACY: {"prise_en_charge": frozenset({"Illettrisme"}),
                      "formations_labels": frozenset({"Formé à « DUPLEX » (illettrisme)"})},
}


@dataclass(frozen=True)
class Place:
    """One lieu de médiation numérique; multi-valued fields of the standard are tuples."""

    id: str
    nom: str
    commune: str
    code_postal: str
    adresse: str
    latitude: float
    longitude: float
    geo_precision: str = "lieu"  # "lieu" (coordinates of the source) or "commune" (commune centre)
    code_insee: str = ""
    complement_adresse: str = ""
    telephone: str = ""
    courriels: tuple[str, ...] = ()
    site_web: tuple[str, ...] = ()
    horaires: str = ""
    horaires_valides: bool = True
    presentation_resume: str = ""
    typologie: tuple[str, ...] = ()
    itinerance: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    prise_en_charge: tuple[str, ...] = ()
    frais: tuple[str, ...] = ()
    dispositifs: tuple[str, ...] = ()
    formations_labels: tuple[str, ...] = ()
    modalites_acces: tuple[str, ...] = ()
    modalites_accompagnement: tuple[str, ...] = ()
    prise_rdv: str = ""
    source: str = ""
    date_maj: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def meets(self, need: Need) -> bool:
        """True when one of the place's declared values answers this need."""
        if need is Need.FRANCE_SERVICES and "france services" in self.nom.lower():
            return True
        return any(set(getattr(self, name)) & values for name, values in NEED_VALUES[need].items())

    @property
    def is_mobile(self) -> bool:
        """A bus or other travelling service: its address is only one of its stops."""
        return "Itinérant" in self.itinerance and "Fixe" not in self.itinerance

    @property
    def is_france_services(self) -> bool:
        """Part of the France Services network."""
        return self.meets(Need.FRANCE_SERVICES)

    def as_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        data = asdict(self)
        data.pop("extra")
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}
