"""The 13 PHI labels (eds-pseudo's), shared by the pseudonymiser, the generator's gold and the
``pseudo run`` contract."""

LABELS: tuple[str, ...] = (
    "NOM",
    "PRENOM",
    "DATE",
    "DATE_NAISSANCE",
    "ADRESSE",
    "VILLE",
    "ZIP",
    "TEL",
    "MAIL",
    "SECU",
    "IPP",
    "NDA",
    "HOPITAL",
)
