"""Drugs with ATC codes, names as prescribers write them (DCI, capitals, brand) and posologies.

Posology texts never mention a condition ("si douleur thoracique"), so that every condition in a
document is one the gold records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Posology:
    """One way of prescribing a drug: the text and its structured reading."""

    text: str
    dose: float | None
    unit: str | None
    frequency: str  # "1/j", "2/j", "3/j", "1/sem", "si besoin", "1/3sem", ...
    duration_days: int | None = None
    route: str = "orale"

    def fields(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "dose_unit": self.unit,
            "frequency": self.frequency,
            "duration_days": self.duration_days,
            "route": self.route,
        }


@dataclass(frozen=True)
class Drug:
    """A drug: ATC code, the names it is written under and its usual posologies."""

    atc: str
    names: tuple[str, ...]
    posologies: tuple[Posology, ...] = field(default_factory=tuple)


def _p(
    text: str,
    dose: float | None,
    unit: str | None,
    freq: str,
    days: int | None = None,
    route: str = "orale",
) -> Posology:
    return Posology(text, dose, unit, freq, days, route)


_SC = "sous-cutanée"
_IV = "intraveineuse"
_INH = "inhalée"

# fmt: off
DRUGS: dict[str, Drug] = {
    # Cardiovascular
    "ramipril": Drug("C09AA05", ("ramipril", "RAMIPRIL", "TRIATEC"), (
        _p("5 mg le matin", 5, "mg", "1/j"), _p("10 mg/j", 10, "mg", "1/j"),
        _p("2,5 mg/j", 2.5, "mg", "1/j"))),
    "perindopril": Drug("C09AA04", ("périndopril", "PERINDOPRIL", "COVERSYL"), (
        _p("5 mg/j", 5, "mg", "1/j"), _p("10 mg le matin", 10, "mg", "1/j"))),
    "irbesartan": Drug("C09CA04", ("irbésartan", "IRBESARTAN", "APROVEL"), (
        _p("150 mg/j", 150, "mg", "1/j"), _p("300 mg par jour", 300, "mg", "1/j"))),
    "candesartan": Drug("C09CA06", ("candésartan", "CANDESARTAN", "ATACAND"), (
        _p("8 mg/j", 8, "mg", "1/j"), _p("16 mg le matin", 16, "mg", "1/j"))),
    "amlodipine": Drug("C08CA01", ("amlodipine", "AMLODIPINE", "AMLOR"), (
        _p("5 mg/j", 5, "mg", "1/j"), _p("10 mg le soir", 10, "mg", "1/j"))),
    "indapamide": Drug("C03BA11", ("indapamide", "INDAPAMIDE", "FLUDEX"), (
        _p("1,5 mg/j", 1.5, "mg", "1/j"),)),
    "bisoprolol": Drug("C07AB07", ("bisoprolol", "BISOPROLOL", "CARDENSIEL"), (
        _p("5 mg/j", 5, "mg", "1/j"), _p("2,5 mg le matin", 2.5, "mg", "1/j"),
        _p("10 mg 1 fois par jour", 10, "mg", "1/j"))),
    "furosemide": Drug("C03CA01", ("furosémide", "FUROSEMIDE", "LASILIX"), (
        _p("40 mg le matin", 40, "mg", "1/j"), _p("40 mg matin et midi", 40, "mg", "2/j"),
        _p("80 mg/j", 80, "mg", "1/j"), _p("20 mg/j", 20, "mg", "1/j"))),
    "spironolactone": Drug("C03DA01", ("spironolactone", "SPIRONOLACTONE", "ALDACTONE"), (
        _p("25 mg/j", 25, "mg", "1/j"),)),
    "sacubitril_valsartan": Drug("C09DX04", ("sacubitril/valsartan", "ENTRESTO"), (
        _p("49/51 mg 2 fois par jour", 49, "mg", "2/j"),
        _p("24/26 mg matin et soir", 24, "mg", "2/j"))),
    "apixaban": Drug("B01AF02", ("apixaban", "APIXABAN", "ELIQUIS"), (
        _p("5 mg 2 fois par jour", 5, "mg", "2/j"), _p("2,5 mg matin et soir", 2.5, "mg", "2/j"))),
    "rivaroxaban": Drug("B01AF01", ("rivaroxaban", "RIVAROXABAN", "XARELTO"), (
        _p("20 mg/j au cours du repas du soir", 20, "mg", "1/j"), _p("15 mg/j", 15, "mg", "1/j"))),
    "aspirine": Drug("B01AC06", ("aspirine", "KARDEGIC", "acide acétylsalicylique"), (
        _p("75 mg/j", 75, "mg", "1/j"), _p("75 mg 1 sachet le midi", 75, "mg", "1/j"),
        _p("160 mg/j", 160, "mg", "1/j"))),
    "clopidogrel": Drug("B01AC04", ("clopidogrel", "CLOPIDOGREL", "PLAVIX"), (
        _p("75 mg/j", 75, "mg", "1/j"),)),
    "ticagrelor": Drug("B01AC24", ("ticagrélor", "BRILIQUE"), (
        _p("90 mg 2 fois par jour", 90, "mg", "2/j"),)),
    "atorvastatine": Drug("C10AA05", ("atorvastatine", "ATORVASTATINE", "TAHOR"), (
        _p("40 mg le soir", 40, "mg", "1/j"), _p("80 mg/j", 80, "mg", "1/j"),
        _p("20 mg/j", 20, "mg", "1/j"))),
    "rosuvastatine": Drug("C10AA07", ("rosuvastatine", "ROSUVASTATINE", "CRESTOR"), (
        _p("10 mg/j", 10, "mg", "1/j"), _p("20 mg le soir", 20, "mg", "1/j"))),
    "ezetimibe": Drug("C10AX09", ("ézétimibe", "EZETROL"), (_p("10 mg/j", 10, "mg", "1/j"),)),
    "amiodarone": Drug("C01BD01", ("amiodarone", "CORDARONE"), (
        _p("200 mg/j 5 jours sur 7", 200, "mg", "1/j"),)),
    "digoxine": Drug("C01AA05", ("digoxine", "DIGOXINE"), (_p("0,125 mg/j", 0.125, "mg", "1/j"),)),
    "enoxaparine": Drug("B01AB05", ("énoxaparine", "ENOXAPARINE", "LOVENOX"), (
        _p("4000 UI/j en sous-cutané pendant 10 jours", 4000, "UI", "1/j", 10, _SC),
        _p("6000 UI/0,6 mL matin et soir", 6000, "UI", "2/j", None, _SC))),
    # Diabetes, endocrinology
    "metformine": Drug("A10BA02", ("metformine", "METFORMINE", "GLUCOPHAGE"), (
        _p("1000 mg 2 fois par jour", 1000, "mg", "2/j"),
        _p("850 mg matin, midi et soir", 850, "mg", "3/j"),
        _p("500 mg matin et soir", 500, "mg", "2/j"), _p("1000 mg x2/j", 1000, "mg", "2/j"))),
    "gliclazide": Drug("A10BB09", ("gliclazide", "GLICLAZIDE", "DIAMICRON"), (
        _p("30 mg le matin", 30, "mg", "1/j"), _p("60 mg/j", 60, "mg", "1/j"))),
    "sitagliptine": Drug("A10BH01", ("sitagliptine", "JANUVIA"), (
        _p("100 mg/j", 100, "mg", "1/j"),)),
    "dapagliflozine": Drug("A10BK01", ("dapagliflozine", "FORXIGA"), (
        _p("10 mg/j", 10, "mg", "1/j"),)),
    "empagliflozine": Drug("A10BK03", ("empagliflozine", "JARDIANCE"), (
        _p("10 mg 1 fois par jour", 10, "mg", "1/j"),)),
    "dulaglutide": Drug("A10BJ05", ("dulaglutide", "TRULICITY"), (
        _p("1,5 mg 1 injection par semaine", 1.5, "mg", "1/sem", None, _SC),)),
    "glargine": Drug("A10AE04", ("insuline glargine", "LANTUS", "TOUJEO"), (
        _p("20 UI le soir", 20, "UI", "1/j", None, _SC),
        _p("16 UI au coucher", 16, "UI", "1/j", None, _SC),
        _p("28 UI/j", 28, "UI", "1/j", None, _SC))),
    "asparte": Drug("A10AB05", ("insuline asparte", "NOVORAPID"), (
        _p("6 UI avant chaque repas", 6, "UI", "3/j", None, _SC),
        _p("4-6-4 UI selon protocole", 4, "UI", "3/j", None, _SC))),
    "levothyroxine": Drug("H03AA01", ("lévothyroxine", "LEVOTHYROX"), (
        _p("75 µg/j", 75, "µg", "1/j"), _p("100 µg le matin à jeun", 100, "µg", "1/j"),
        _p("50 µg/j", 50, "µg", "1/j"))),
    "carbimazole": Drug("H03BB01", ("carbimazole", "NEO-MERCAZOLE"), (
        _p("20 mg/j", 20, "mg", "1/j"),)),
    # Respiratory
    "tiotropium": Drug("R03BB04", ("tiotropium", "SPIRIVA"), (
        _p("2,5 µg 2 bouffées le matin", 2.5, "µg", "1/j", None, _INH),)),
    "umeclidinium_vilanterol": Drug("R03AL03", ("umeclidinium/vilanterol", "ANORO ELLIPTA"), (
        _p("55/22 µg 1 inhalation par jour", 55, "µg", "1/j", None, _INH),)),
    "salbutamol": Drug("R03AC02", ("salbutamol", "VENTOLINE"), (
        _p("100 µg 2 bouffées si besoin", 100, "µg", "si besoin", None, _INH),)),
    "budesonide_formoterol": Drug("R03AK07", ("budésonide/formotérol", "SYMBICORT"), (
        _p("200/6 µg 2 inhalations matin et soir", 200, "µg", "2/j", None, _INH),)),
    "prednisone": Drug("H02AB07", ("prednisone", "CORTANCYL"), (
        _p("40 mg/j pendant 5 jours", 40, "mg", "1/j", 5),)),
    "dexamethasone": Drug("H02AB02", ("dexaméthasone", "DEXAMETHASONE"), (
        _p("6 mg/j pendant 10 jours", 6, "mg", "1/j", 10),)),
    "amoxicilline": Drug("J01CA04", ("amoxicilline", "AMOXICILLINE", "CLAMOXYL"), (
        _p("1 g x3/j pendant 7 jours", 1, "g", "3/j", 7),
        _p("1 g 3 fois par jour pendant 5 jours", 1, "g", "3/j", 5))),
    "augmentin": Drug("J01CR02", ("amoxicilline/acide clavulanique", "AUGMENTIN"), (
        _p("1 g 3 fois par jour pendant 7 jours", 1, "g", "3/j", 7),)),
    "ceftriaxone": Drug("J01DD04", ("ceftriaxone", "ROCEPHINE"), (
        _p("1 g/j IV pendant 7 jours", 1, "g", "1/j", 7, _IV),
        _p("2 g/j", 2, "g", "1/j", None, _IV))),
    "levofloxacine": Drug("J01MA12", ("lévofloxacine", "TAVANIC"), (
        _p("500 mg/j pendant 7 jours", 500, "mg", "1/j", 7),)),
    "ciprofloxacine": Drug("J01MA02", ("ciprofloxacine", "CIFLOX"), (
        _p("500 mg 2 fois par jour pendant 7 jours", 500, "mg", "2/j", 7),)),
    "piperacilline": Drug("J01CR05", ("pipéracilline/tazobactam", "TAZOCILLINE"), (
        _p("4 g x3/j IV", 4, "g", "3/j", None, _IV),)),
    "metronidazole": Drug("J01XD01", ("métronidazole", "FLAGYL"), (
        _p("500 mg 3 fois par jour pendant 7 jours", 500, "mg", "3/j", 7),)),
    # Kidney
    "sevelamer": Drug("V03AE02", ("sévélamer", "RENVELA"), (
        _p("800 mg 3 fois par jour au cours des repas", 800, "mg", "3/j"),)),
    "darbepoetine": Drug("B03XA02", ("darbépoétine alfa", "ARANESP"), (
        _p("40 µg 1 injection tous les 15 jours", 40, "µg", "1/15j", None, _SC),)),
    "alfacalcidol": Drug("A11CC03", ("alfacalcidol", "UN-ALFA"), (
        _p("0,25 µg/j", 0.25, "µg", "1/j"),)),
    "kayexalate": Drug("V03AE01", ("polystyrène sulfonate de sodium", "KAYEXALATE"), (
        _p("15 g 2 fois par jour", 15, "g", "2/j"),)),
    "bicarbonate": Drug("B05XA02", ("bicarbonate de sodium",), (
        _p("1 g 3 fois par jour", 1, "g", "3/j"),)),
    "allopurinol": Drug("M04AA01", ("allopurinol", "ZYLORIC"), (_p("100 mg/j", 100, "mg", "1/j"),)),
    "cholecalciferol": Drug("A11CC05", ("cholécalciférol", "UVEDOSE", "ZYMAD"), (
        _p("100 000 UI 1 ampoule tous les 3 mois", 100000, "UI", "1/3mois"),)),
    # Oncology
    "capecitabine": Drug("L01BC06", ("capécitabine", "XELODA"), (
        _p("1000 mg/m² 2 fois par jour de J1 à J14", 1000, "mg/m²", "2/j", 14),)),
    "oxaliplatine": Drug("L01XA03", ("oxaliplatine",), (
        _p("85 mg/m² à J1 toutes les 2 semaines", 85, "mg/m²", "1/2sem", None, _IV),)),
    "fluorouracile": Drug("L01BC02", ("5-fluorouracile", "fluorouracile"), (
        _p("2400 mg/m² sur 46 heures", 2400, "mg/m²", "1/2sem", None, _IV),)),
    "carboplatine": Drug("L01XA02", ("carboplatine",), (
        _p("AUC 5 à J1 toutes les 3 semaines", 5, "AUC", "1/3sem", None, _IV),)),
    "pemetrexed": Drug("L01BA04", ("pémétrexed", "ALIMTA"), (
        _p("500 mg/m² à J1 toutes les 3 semaines", 500, "mg/m²", "1/3sem", None, _IV),)),
    "pembrolizumab": Drug("L01XC18", ("pembrolizumab", "KEYTRUDA"), (
        _p("200 mg toutes les 3 semaines", 200, "mg", "1/3sem", None, _IV),)),
    "docetaxel": Drug("L01CD02", ("docétaxel", "TAXOTERE"), (
        _p("75 mg/m² toutes les 3 semaines", 75, "mg/m²", "1/3sem", None, _IV),)),
    "gemcitabine": Drug("L01BC05", ("gemcitabine", "GEMZAR"), (
        _p("1000 mg/m² à J1, J8 et J15", 1000, "mg/m²", "1/sem", None, _IV),)),
    "bevacizumab": Drug("L01XC07", ("bévacizumab", "AVASTIN"), (
        _p("5 mg/kg toutes les 2 semaines", 5, "mg/kg", "1/2sem", None, _IV),)),
    "letrozole": Drug("L02BG04", ("létrozole", "FEMARA"), (_p("2,5 mg/j", 2.5, "mg", "1/j"),)),
    "tamoxifene": Drug("L02BA01", ("tamoxifène",), (_p("20 mg/j", 20, "mg", "1/j"),)),
    "leuproreline": Drug("L02AE02", ("leuproréline", "ENANTONE"), (
        _p("11,25 mg 1 injection tous les 3 mois", 11.25, "mg", "1/3mois", None, _SC),)),
    "sorafenib": Drug("L01XE05", ("sorafénib", "NEXAVAR"), (
        _p("400 mg 2 fois par jour", 400, "mg", "2/j"),)),
    "rituximab": Drug("L01XC02", ("rituximab", "MABTHERA"), (
        _p("375 mg/m² à J1 toutes les 3 semaines", 375, "mg/m²", "1/3sem", None, _IV),)),
    "ondansetron": Drug("A04AA01", ("ondansétron", "ZOPHREN"), (
        _p("8 mg matin et soir pendant 3 jours", 8, "mg", "2/j", 3),)),
    "metoclopramide": Drug("A03FA01", ("métoclopramide", "PRIMPERAN"), (
        _p("10 mg 3 fois par jour si besoin", 10, "mg", "si besoin"),)),
    # Analgesics
    "paracetamol": Drug("N02BE01", ("paracétamol", "DOLIPRANE", "PARACETAMOL"), (
        _p("1 g x4/j si besoin", 1, "g", "si besoin"),
        _p("1 g toutes les 6 heures", 1, "g", "4/j"), _p("1 g 3 fois par jour", 1, "g", "3/j"))),
    "tramadol": Drug("N02AX02", ("tramadol", "TOPALGIC"), (
        _p("50 mg 3 fois par jour si besoin", 50, "mg", "si besoin"),)),
    "morphine": Drug("N02AA01", ("sulfate de morphine", "SKENAN", "morphine"), (
        _p("30 mg matin et soir", 30, "mg", "2/j"),
        _p("10 mg en interdose si besoin, 6 fois par jour au maximum", 10, "mg", "si besoin"))),
    "nefopam": Drug("N02BG06", ("néfopam", "ACUPAN"), (
        _p("20 mg 3 fois par jour", 20, "mg", "3/j"),)),
    "ketoprofene": Drug("M01AE03", ("kétoprofène", "PROFENID"), (
        _p("100 mg 2 fois par jour pendant 5 jours", 100, "mg", "2/j", 5),)),
    "ibuprofene": Drug("M01AE01", ("ibuprofène", "ADVIL"), (
        _p("400 mg 3 fois par jour pendant 3 jours", 400, "mg", "3/j", 3),)),
    # Neurology, psychiatry, geriatrics
    "donepezil": Drug("N06DA02", ("donépézil", "ARICEPT"), (
        _p("5 mg le soir", 5, "mg", "1/j"), _p("10 mg/j", 10, "mg", "1/j"))),
    "memantine": Drug("N06DX01", ("mémantine", "EBIXA"), (_p("20 mg/j", 20, "mg", "1/j"),)),
    "levodopa": Drug("N04BA02", ("lévodopa/bensérazide", "MODOPAR"), (
        _p("125 mg 3 fois par jour", 125, "mg", "3/j"),)),
    "sertraline": Drug("N06AB06", ("sertraline", "ZOLOFT"), (_p("50 mg/j", 50, "mg", "1/j"),)),
    "escitalopram": Drug("N06AB10", ("escitalopram", "SEROPLEX"), (
        _p("10 mg/j", 10, "mg", "1/j"),)),
    "mirtazapine": Drug("N06AX11", ("mirtazapine", "NORSET"), (
        _p("15 mg le soir", 15, "mg", "1/j"),)),
    "zopiclone": Drug("N05CF01", ("zopiclone", "IMOVANE"), (
        _p("3,75 mg au coucher", 3.75, "mg", "1/j"),)),
    "oxazepam": Drug("N05BA04", ("oxazépam", "SERESTA"), (
        _p("10 mg le soir si besoin", 10, "mg", "si besoin"),)),
    "macrogol": Drug("A06AD15", ("macrogol", "FORLAX"), (_p("1 sachet/j", 1, "sachet", "1/j"),)),
    "alendronate": Drug("M05BA04", ("acide alendronique", "FOSAMAX"), (
        _p("70 mg 1 fois par semaine", 70, "mg", "1/sem"),)),
    "denosumab": Drug("M05BX04", ("dénosumab", "PROLIA"), (
        _p("60 mg 1 injection tous les 6 mois", 60, "mg", "1/6mois", None, _SC),)),
    "tamsulosine": Drug("G04CA02", ("tamsulosine", "OMIX"), (
        _p("0,4 mg le soir", 0.4, "mg", "1/j"),)),
    # Digestive
    "esomeprazole": Drug("A02BC05", ("ésoméprazole", "INEXIUM"), (
        _p("40 mg/j", 40, "mg", "1/j"), _p("20 mg le soir", 20, "mg", "1/j"))),
    "omeprazole": Drug("A02BC01", ("oméprazole", "MOPRAL"), (_p("20 mg/j", 20, "mg", "1/j"),)),
    "pantoprazole": Drug("A02BC02", ("pantoprazole", "EUPANTOL"), (
        _p("40 mg le matin", 40, "mg", "1/j"),)),
    "phloroglucinol": Drug("A03AX12", ("phloroglucinol", "SPASFON"), (
        _p("80 mg 3 fois par jour si besoin", 80, "mg", "si besoin"),)),
    "racecadotril": Drug("A07XA04", ("racécadotril", "TIORFAN"), (
        _p("100 mg 3 fois par jour pendant 3 jours", 100, "mg", "3/j", 3),)),
    "propranolol": Drug("C07AA05", ("propranolol", "AVLOCARDYL"), (
        _p("40 mg 2 fois par jour", 40, "mg", "2/j"),)),
    "fer": Drug("B03AA02", ("fumarate ferreux", "FUMAFER"), (
        _p("200 mg/j pendant 3 mois", 200, "mg", "1/j", 90),)),
}
# fmt: on

# Usual treatment of a chronic condition: (drugs to draw from, how many).
TREATMENTS: dict[str, tuple[tuple[str, ...], int]] = {
    "hta": (
        ("ramipril", "perindopril", "amlodipine", "irbesartan", "indapamide", "candesartan"),
        2,
    ),
    "dt2": (("metformine", "gliclazide", "sitagliptine", "dapagliflozine", "dulaglutide"), 2),
    "dt1": (("glargine", "asparte"), 2),
    "dyslip": (("atorvastatine", "rosuvastatine", "ezetimibe"), 1),
    "fa": (("apixaban", "rivaroxaban", "bisoprolol", "amiodarone", "digoxine"), 2),
    "ic": (("furosemide", "bisoprolol", "sacubitril_valsartan", "spironolactone"), 3),
    "cardio_isch": (("aspirine", "atorvastatine", "bisoprolol", "clopidogrel"), 3),
    "angor": (("aspirine", "bisoprolol"), 2),
    "aomi": (("aspirine", "atorvastatine"), 2),
    "avc": (("clopidogrel", "atorvastatine"), 2),
    "bpco": (("tiotropium", "umeclidinium_vilanterol", "salbutamol"), 2),
    "asthme": (("budesonide_formoterol", "salbutamol"), 2),
    "irc": (("furosemide", "bicarbonate", "alfacalcidol", "allopurinol"), 2),
    "irct": (("sevelamer", "darbepoetine", "alfacalcidol"), 3),
    "hypothyr": (("levothyroxine",), 1),
    "basedow": (("carbimazole",), 1),
    "alzheimer": (("donepezil", "memantine"), 1),
    "demence": (("memantine", "donepezil"), 1),
    "parkinson": (("levodopa",), 1),
    "osteoporose": (("alendronate", "cholecalciferol", "denosumab"), 2),
    "depression": (("sertraline", "escitalopram", "mirtazapine"), 1),
    "rgo": (("esomeprazole", "omeprazole", "pantoprazole"), 1),
    "goutte": (("allopurinol",), 1),
    "hbp": (("tamsulosine",), 1),
    "cirrhose": (("spironolactone", "propranolol"), 2),
    "anemie_fer": (("fer",), 1),
    "k_poumon": (("carboplatine", "pemetrexed", "pembrolizumab"), 3),
    "k_colon": (("oxaliplatine", "capecitabine", "bevacizumab"), 2),
    "k_rectum": (("oxaliplatine", "fluorouracile"), 2),
    "k_sein": (("letrozole", "tamoxifene", "docetaxel"), 1),
    "k_prostate": (("leuproreline",), 1),
    "k_pancreas": (("gemcitabine",), 1),
    "k_estomac": (("oxaliplatine", "fluorouracile"), 2),
    "k_vessie": (("gemcitabine", "carboplatine"), 2),
    "chc": (("sorafenib",), 1),
    "lymphome": (("rituximab",), 1),
}
