"""Clinical vocabulary: CIM-10 diagnoses, drugs with ATC codes and posologies, lab analytes.

Wording follows what French clinicians write. The first surface form of each diagnosis is one that
EDS-NLP's ``eds.cim10`` (exact mode) or its comorbidity pipes recognise where one exists; the other
forms are the abbreviations and variants found in real reports. ATC codes are those of EDS-NLP's
``drugs.json`` where it lists the drug, so ``eds.drugs`` and the gold agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dx:
    """A diagnosis: CIM-10 code (dotted) and the surface forms used in text."""

    code: str
    forms: tuple[str, ...]


def _dx(code: str, *forms: str) -> Dx:
    return Dx(code, forms)


# fmt: off
DIAGNOSES: dict[str, Dx] = {
    # Cardiovascular
    "hta": _dx("I10", "hypertension artérielle", "HTA", "hypertension essentielle"),
    "dyslip": _dx("E78", "dyslipidémie", "hypercholestérolémie", "hyperlipidémie mixte"),
    "fa": _dx("I48", "fibrillation auriculaire", "fibrillation atriale", "FA", "ACFA"),
    "ic": _dx("I50", "insuffisance cardiaque", "insuffisance cardiaque chronique",
              "insuffisance cardiaque à FEVG altérée"),
    "cardio_isch": _dx("I25", "cardiopathie ischémique chronique", "coronaropathie",
                       "cardiopathie ischémique"),
    "idm": _dx("I21", "infarctus du myocarde", "IDM", "infarctus aigu du myocarde"),
    "angor": _dx("I20", "angor", "angine de poitrine", "angor stable"),
    "ra": _dx("I35.0", "rétrécissement aortique", "sténose aortique", "RAC"),
    "aomi": _dx("I70.2", "artériopathie oblitérante des membres inférieurs", "AOMI"),
    "avc": _dx("I63", "infarctus cérébral", "AVC ischémique",
               "accident vasculaire cérébral ischémique"),
    "ait": _dx("G45", "accident ischémique transitoire", "AIT"),
    "tvp": _dx("I80.2", "thrombose veineuse profonde", "TVP", "phlébite"),
    "ep": _dx("I26", "embolie pulmonaire", "EP"),
    "cmd": _dx("I42.0", "cardiomyopathie dilatée", "myocardiopathie dilatée"),
    "decomp_ic": _dx("I50", "insuffisance cardiaque aiguë", "décompensation cardiaque",
                     "œdème aigu du poumon"),
    "sca": _dx("I21", "infarctus aigu du myocarde", "syndrome coronarien aigu ST+", "SCA ST+"),
    "fa_rapide": _dx("I48", "fibrillation auriculaire rapide", "ACFA rapide"),
    "syncope": _dx("R55", "syncope", "malaise avec perte de connaissance"),
    # Respiratory
    "bpco": _dx("J44", "BPCO", "bronchopneumopathie chronique obstructive"),
    "asthme": _dx("J45", "asthme", "asthme allergique"),
    "saos": _dx("G47.3", "apnée du sommeil", "SAOS", "syndrome d'apnées obstructives du sommeil"),
    "irc_resp": _dx("J96.1", "insuffisance respiratoire chronique"),
    "fibrose": _dx("J84.1", "fibrose pulmonaire", "fibrose pulmonaire idiopathique"),
    "exa_bpco": _dx("J44.1", "exacerbation de BPCO", "décompensation de BPCO"),
    "pneumopathie": _dx("J18.9", "pneumopathie", "pneumopathie infectieuse", "pneumonie",
                        "pneumopathie franche lobaire aiguë"),
    "covid": _dx("U07.1", "COVID-19", "infection à SARS-CoV-2", "pneumopathie à SARS-CoV-2"),
    "epanchement": _dx("J90", "épanchement pleural", "pleurésie"),
    "pneumothorax": _dx("J93", "pneumothorax", "pneumothorax spontané"),
    "ira_resp": _dx("J96.0", "insuffisance respiratoire aiguë", "détresse respiratoire aiguë"),
    # Kidney
    "irc": _dx("N18", "insuffisance rénale chronique", "maladie rénale chronique", "IRC"),
    "irct": _dx("N18.5", "insuffisance rénale chronique terminale", "IRCT"),
    "nephro_diab": _dx("E11.2", "néphropathie diabétique"),
    "nas": _dx("I12", "néphropathie hypertensive", "néphroangiosclérose"),
    "pkr": _dx("Q61.2", "polykystose rénale", "polykystose rénale autosomique dominante"),
    "ira": _dx("N17", "insuffisance rénale aiguë", "IRA",
               "insuffisance rénale aiguë fonctionnelle"),
    "hyperk": _dx("E87.5", "hyperkaliémie", "hyperkaliémie sévère"),
    "hypona": _dx("E87.1", "hyponatrémie", "hyponatrémie profonde"),
    "pna": _dx("N10", "pyélonéphrite aiguë", "PNA"),
    "infection_urinaire": _dx("N39.0", "infection urinaire", "infection urinaire basse"),
    "nephrotique": _dx("N04", "syndrome néphrotique", "syndrome néphrotique impur"),
    # Endocrine
    "dt2": _dx("E11", "diabète de type 2", "diabète sucré de type 2", "DT2",
               "diabète non insulino-dépendant"),
    "dt1": _dx("E10", "diabète de type 1", "diabète sucré de type 1", "DT1"),
    "obesite": _dx("E66", "obésité", "obésité morbide", "obésité de grade 2"),
    "hypothyr": _dx("E03.9", "hypothyroïdie", "hypothyroïdie périphérique"),
    "basedow": _dx("E05.0", "maladie de Basedow", "hyperthyroïdie"),
    "nodule_thyr": _dx("E04.1", "nodule thyroïdien", "nodule thyroïdien isolé"),
    "retino": _dx("H36.0", "rétinopathie diabétique"),
    "neuro_diab": _dx("E11.4", "neuropathie diabétique", "polyneuropathie diabétique"),
    "diab_desequilibre": _dx("E11.6", "diabète de type 2 déséquilibré", "déséquilibre glycémique"),
    "acidocetose": _dx("E10.1", "acidocétose diabétique", "acidocétose"),
    "hypoglycemie": _dx("E16.2", "hypoglycémie", "hypoglycémie sévère"),
    "diabete_nos": _dx("E14", "diabète", "diabétique"),
    # Oncology
    "k_poumon": _dx("C34", "cancer bronchopulmonaire", "adénocarcinome pulmonaire",
                    "cancer du poumon", "carcinome épidermoïde bronchique"),
    "k_sein": _dx("C50", "cancer du sein", "carcinome canalaire infiltrant du sein",
                  "néoplasie mammaire"),
    "k_colon": _dx("C18", "cancer du côlon", "adénocarcinome colique",
                   "adénocarcinome du côlon sigmoïde"),
    "k_rectum": _dx("C20", "cancer du rectum", "adénocarcinome rectal"),
    "k_prostate": _dx("C61", "cancer de la prostate", "adénocarcinome prostatique"),
    "k_pancreas": _dx("C25", "cancer du pancréas", "adénocarcinome pancréatique"),
    "k_estomac": _dx("C16", "cancer de l'estomac", "adénocarcinome gastrique"),
    "k_vessie": _dx("C67", "cancer de la vessie", "tumeur de vessie"),
    "chc": _dx("C22.0", "carcinome hépatocellulaire", "CHC"),
    "lymphome": _dx("C85.9", "lymphome non hodgkinien", "LNH"),
    "meta_hep": _dx("C78.7", "métastases hépatiques", "localisations secondaires hépatiques"),
    "meta_os": _dx("C79.5", "métastases osseuses", "lésions secondaires osseuses"),
    "meta_pulm": _dx("C78.0", "métastases pulmonaires", "nodules pulmonaires secondaires"),
    "chimio": _dx("Z51.1", "séance de chimiothérapie", "cure de chimiothérapie"),
    "neutropenie_febrile": _dx("D70", "neutropénie fébrile", "aplasie fébrile"),
    "aeg": _dx("R53", "altération de l'état général", "AEG"),
    # Geriatrics, neurology, psychiatry
    "alzheimer": _dx("G30", "maladie d'Alzheimer"),
    "demence": _dx("F03", "démence", "troubles neurocognitifs majeurs", "syndrome démentiel"),
    "parkinson": _dx("G20", "maladie de Parkinson"),
    "osteoporose": _dx("M81", "ostéoporose", "ostéoporose fracturaire"),
    "gonarthrose": _dx("M17", "gonarthrose", "arthrose du genou"),
    "depression": _dx("F32", "syndrome dépressif", "épisode dépressif"),
    "denutrition": _dx("E44", "dénutrition", "dénutrition protéino-énergétique modérée"),
    "chutes": _dx("R29.6", "chutes à répétition"),
    "chute": _dx("W19", "chute", "chute de sa hauteur"),
    "confusion": _dx("F05", "syndrome confusionnel", "confusion aiguë"),
    "deshydratation": _dx("E86", "déshydratation", "déshydratation extracellulaire"),
    "pneumo_inhal": _dx("J69.0", "pneumopathie d'inhalation"),
    "fracture_col": _dx("S72.0", "fracture du col du fémur", "fracture du col fémoral"),
    "escarre": _dx("L89", "escarre", "escarre sacrée"),
    "anemie": _dx("D64.9", "anémie", "anémie normocytaire"),
    "anemie_fer": _dx("D50", "anémie ferriprive", "carence martiale"),
    "hbp": _dx("N40", "hypertrophie bénigne de la prostate", "HBP"),
    "goutte": _dx("M10", "goutte"),
    "tabac": _dx("F17", "tabagisme", "tabagisme actif"),
    "alcool": _dx("F10", "consommation d'alcool", "éthylisme chronique"),
    # Digestive
    "rgo": _dx("K21", "reflux gastro-œsophagien", "RGO"),
    "cirrhose": _dx("K74.6", "cirrhose", "cirrhose hépatique"),
    "lithiase": _dx("K80", "lithiase vésiculaire", "cholélithiase"),
    "cholecystite": _dx("K81.0", "cholécystite aiguë", "cholécystite aiguë lithiasique"),
    "appendicite": _dx("K35", "appendicite aiguë", "appendicite"),
    "sigmoidite": _dx("K57.3", "sigmoïdite diverticulaire", "diverticulite sigmoïdienne"),
    "occlusion": _dx("K56", "occlusion intestinale", "occlusion du grêle sur bride"),
    "hernie": _dx("K40", "hernie inguinale", "hernie inguinale droite"),
    "eventration": _dx("K43", "éventration", "éventration médiane"),
    "pancreatite": _dx("K85", "pancréatite aiguë", "pancréatite aiguë biliaire"),
    "peritonite": _dx("K65", "péritonite", "péritonite généralisée"),
    "hemorragie_dig": _dx("K92.2", "hémorragie digestive", "hémorragie digestive haute"),
    # Emergencies and symptoms
    "douleur_thor": _dx("R07.4", "douleur thoracique", "douleurs thoraciques"),
    "douleur_abdo": _dx("R10.4", "douleur abdominale", "douleurs abdominales"),
    "fracture_poignet": _dx("S52.5", "fracture de l'extrémité inférieure du radius",
                            "fracture du poignet"),
    "trauma_cranien": _dx("S06.0", "traumatisme crânien", "commotion cérébrale"),
    "colique_nephretique": _dx("N23", "colique néphrétique"),
    "gastro": _dx("A09", "gastro-entérite", "gastro-entérite aiguë"),
    "ivresse": _dx("F10.0", "intoxication éthylique aiguë", "ivresse aiguë"),
    "entorse": _dx("S93.4", "entorse de la cheville", "entorse du ligament latéral externe"),
    "sepsis": _dx("A41.9", "sepsis", "choc septique"),
    "fievre": _dx("R50", "fièvre", "hyperthermie"),
    "dyspnee": _dx("R06.0", "dyspnée", "dyspnée d'effort"),
    "toux": _dx("R05", "toux", "toux productive"),
    "hemoptysie": _dx("R04.2", "hémoptysie"),
    "oedeme": _dx("R60.0", "œdèmes des membres inférieurs", "œdème des membres inférieurs"),
    "nausees": _dx("R11", "nausées", "vomissements"),
    "cephalees": _dx("R51", "céphalées"),
    "perte_poids": _dx("R63.4", "perte de poids", "amaigrissement"),
    "palpitations": _dx("R00.2", "palpitations"),
    "hematurie": _dx("R31", "hématurie"),
    "melena": _dx("K92.1", "méléna"),
    "diarrhee": _dx("R19.7", "diarrhée"),
    "vertiges": _dx("R42", "vertiges"),
    "douleur": _dx("R52", "douleur", "douleurs"),
}
# fmt: on

# First words that take a feminine article ("une", "la"); everything else is masculine.
# fmt: off
FEMININE_HEADS: frozenset[str] = frozenset({
    "hta", "hypertension", "dyslipidémie", "hypercholestérolémie", "hyperlipidémie", "fibrillation",
    "insuffisance", "cardiopathie", "coronaropathie", "angine", "sténose", "artériopathie", "aomi",
    "thrombose", "tvp", "phlébite", "embolie", "ep", "cardiomyopathie", "myocardiopathie",
    "décompensation", "acfa", "fa", "syncope", "bpco", "bronchopneumopathie", "apnée", "fibrose",
    "exacerbation", "pneumopathie", "pneumonie", "covid-19", "infection", "pleurésie", "maladie",
    "irc", "irct", "néphropathie", "néphroangiosclérose", "polykystose", "ira", "hyperkaliémie",
    "hyponatrémie", "pyélonéphrite", "pna", "obésité", "hypothyroïdie", "hyperthyroïdie",
    "rétinopathie", "neuropathie", "polyneuropathie", "acidocétose", "hypoglycémie", "néoplasie",
    "tumeur", "métastases", "localisations", "lésions", "séance", "cure", "neutropénie", "aplasie",
    "altération", "aeg", "démence", "ostéoporose", "gonarthrose", "arthrose", "dénutrition",
    "chutes", "chute", "confusion", "déshydratation", "fracture", "escarre", "anémie", "carence",
    "hypertrophie", "hbp", "goutte", "consommation", "cirrhose", "lithiase", "cholélithiase",
    "cholécystite", "appendicite", "sigmoïdite", "diverticulite", "occlusion", "hernie",
    "éventration", "pancréatite", "péritonite", "hémorragie", "douleur", "douleurs", "colique",
    "gastro-entérite", "intoxication", "ivresse", "entorse", "fièvre", "hyperthermie", "dyspnée",
    "toux", "hémoptysie", "nausées", "hématurie", "diarrhée", "détresse", "commotion",
})
# fmt: on


@dataclass(frozen=True)
class Lab:
    """A lab analyte or vital sign: display names, unit, normal range and decimals."""

    names: tuple[str, ...]
    unit: str
    lo: float
    hi: float
    decimals: int = 0


# fmt: off
LABS: dict[str, Lab] = {
    "hemoglobine": Lab(("hémoglobine", "Hb", "Hémoglobine"), "g/dL", 12.0, 16.2, 1),
    "leucocytes": Lab(("leucocytes", "GB", "Leucocytes"), "G/L", 4.2, 9.8, 1),
    "neutrophiles": Lab(("polynucléaires neutrophiles", "PNN"), "G/L", 1.9, 6.5, 1),
    "plaquettes": Lab(("plaquettes", "Plaquettes"), "G/L", 160, 380, 0),
    "creatinine": Lab(("créatinine", "créatininémie", "Créatinine"), "µmol/L", 58, 102, 0),
    "uree": Lab(("urée", "Urée"), "mmol/L", 3.2, 7.4, 1),
    "dfg": Lab(("DFG (CKD-EPI)", "DFG"), "mL/min/1,73 m²", 62, 105, 0),
    "natremie": Lab(("natrémie", "Na", "Natrémie"), "mmol/L", 136, 144, 0),
    "kaliemie": Lab(("kaliémie", "K", "Kaliémie"), "mmol/L", 3.6, 4.8, 1),
    "bicarbonates": Lab(("bicarbonates", "réserve alcaline"), "mmol/L", 23, 28, 0),
    "calcemie": Lab(("calcémie corrigée",), "mmol/L", 2.22, 2.52, 2),
    "crp": Lab(("CRP", "protéine C réactive"), "mg/L", 1, 4, 0),
    "glycemie": Lab(("glycémie à jeun", "glycémie"), "mmol/L", 4.5, 5.9, 1),
    "hba1c": Lab(("HbA1c", "hémoglobine glyquée"), "%", 5.1, 5.9, 1),
    "troponine": Lab(("troponine T hs", "troponine"), "ng/L", 3, 12, 0),
    "ntprobnp": Lab(("NT-proBNP",), "pg/mL", 40, 120, 0),
    "tsh": Lab(("TSH", "TSH us"), "mUI/L", 0.6, 3.4, 2),
    "albumine": Lab(("albumine", "albuminémie"), "g/L", 36, 46, 0),
    "asat": Lab(("ASAT",), "UI/L", 14, 34, 0),
    "alat": Lab(("ALAT",), "UI/L", 12, 38, 0),
    "bilirubine": Lab(("bilirubine totale",), "µmol/L", 5, 16, 0),
    "lipase": Lab(("lipase", "lipasémie"), "UI/L", 15, 55, 0),
    "inr": Lab(("INR",), "", 0.9, 1.1, 2),
    "ddimeres": Lab(("D-dimères",), "ng/mL", 150, 450, 0),
    "ferritine": Lab(("ferritine",), "µg/L", 45, 240, 0),
    "ldl": Lab(("LDL-cholestérol", "LDL-c"), "g/L", 0.8, 1.5, 2),
    "psa": Lab(("PSA total",), "ng/mL", 0.4, 3.2, 1),
    "ace": Lab(("ACE",), "ng/mL", 1.0, 4.5, 1),
    "ca199": Lab(("CA 19-9",), "UI/mL", 5, 30, 0),
    "lactates": Lab(("lactates",), "mmol/L", 0.6, 1.6, 1),
    "proteinurie": Lab(("protéinurie des 24 h",), "g/24 h", 0.05, 0.14, 2),
    # Vital signs and anthropometry; "ta" is rendered systolic/diastolic.
    "ta": Lab(("TA", "PA", "pression artérielle"), "mmHg", 115, 138, 0),
    "fc": Lab(("FC", "fréquence cardiaque", "pouls"), "/min", 62, 88, 0),
    "temperature": Lab(("température", "T°"), "°C", 36.5, 37.4, 1),
    "spo2": Lab(("SpO2", "saturation"), "%", 95, 99, 0),
    "fr": Lab(("FR", "fréquence respiratoire"), "/min", 13, 19, 0),
    "poids": Lab(("poids", "Poids"), "kg", 55, 95, 0),
    "taille": Lab(("taille", "Taille"), "m", 1.55, 1.85, 2),
    "imc": Lab(("IMC",), "kg/m²", 19, 29, 1),
}
# fmt: on

# Ranges that replace the normal one when the patient has the condition (chronic or acute key).
# fmt: off
LAB_SHIFTS: dict[str, dict[str, tuple[float, float]]] = {
    "irc": {"creatinine": (150, 380), "dfg": (16, 45), "uree": (10, 24), "hemoglobine": (9.6, 11.8),
            "kaliemie": (4.5, 5.4)},
    "irct": {"creatinine": (480, 850), "dfg": (5, 14), "uree": (18, 34), "hemoglobine": (9.0, 11.0),
             "calcemie": (2.0, 2.2)},
    "ira": {"creatinine": (190, 460), "uree": (15, 35), "dfg": (10, 35)},
    "hyperk": {"kaliemie": (6.1, 7.2)},
    "hypona": {"natremie": (118, 129)},
    "dt2": {"glycemie": (7.4, 12.5), "hba1c": (7.1, 9.4)},
    "dt1": {"glycemie": (8.0, 16.0), "hba1c": (7.5, 10.5)},
    "diab_desequilibre": {"glycemie": (14, 28), "hba1c": (9.5, 13.5)},
    "acidocetose": {"glycemie": (22, 38), "hba1c": (10.5, 14.0), "bicarbonates": (6, 14)},
    "hypoglycemie": {"glycemie": (1.6, 2.9)},
    "ic": {"ntprobnp": (900, 3500)},
    "decomp_ic": {"ntprobnp": (3500, 18000), "spo2": (88, 93)},
    "sca": {"troponine": (180, 8500)},
    "pneumopathie": {"crp": (60, 280), "leucocytes": (11.5, 21.0), "temperature": (38.4, 39.7)},
    "covid": {"crp": (30, 160), "spo2": (87, 93), "temperature": (38.0, 39.3)},
    "exa_bpco": {"crp": (15, 90), "spo2": (85, 91)},
    "pna": {"crp": (90, 300), "leucocytes": (12.0, 22.0), "temperature": (38.6, 40.0)},
    "infection_urinaire": {"crp": (20, 110), "leucocytes": (10.5, 15.0)},
    "cholecystite": {"crp": (80, 250), "leucocytes": (12.0, 19.0), "temperature": (38.0, 39.0)},
    "appendicite": {"crp": (30, 140), "leucocytes": (12.0, 18.0)},
    "sigmoidite": {"crp": (70, 220), "leucocytes": (11.0, 17.0)},
    "neutropenie_febrile": {"leucocytes": (0.4, 1.3), "neutrophiles": (0.1, 0.45),
                            "temperature": (38.3, 39.5), "crp": (40, 180)},
    "pneumo_inhal": {"crp": (70, 210), "leucocytes": (11.0, 18.0), "temperature": (38.0, 39.0)},
    "sepsis": {"crp": (150, 350), "lactates": (2.5, 6.0), "leucocytes": (15.0, 28.0)},
    "anemie": {"hemoglobine": (7.6, 10.4)},
    "anemie_fer": {"hemoglobine": (7.8, 10.5), "ferritine": (4, 18)},
    "hypothyr": {"tsh": (6.5, 24.0)},
    "basedow": {"tsh": (0.01, 0.08)},
    "ep": {"ddimeres": (1400, 6500), "spo2": (88, 94), "fc": (100, 125)},
    "fa_rapide": {"fc": (125, 165)},
    "pancreatite": {"lipase": (450, 3200)},
    "cirrhose": {"albumine": (22, 30), "bilirubine": (26, 80), "plaquettes": (55, 120),
                 "inr": (1.3, 1.9)},
    "denutrition": {"albumine": (22, 30), "imc": (15.5, 18.4)},
    "obesite": {"imc": (31, 44)},
    "dyslip": {"ldl": (1.6, 2.3)},
    "k_prostate": {"psa": (12, 85)},
    "k_colon": {"ace": (8, 60)},
    "k_rectum": {"ace": (6, 40)},
    "k_pancreas": {"ca199": (150, 2200)},
    "deshydratation": {"natremie": (146, 155), "uree": (12, 22)},
    "hemorragie_dig": {"hemoglobine": (6.5, 8.8)},
    "nephrotique": {"albumine": (15, 24), "proteinurie": (4.0, 11.0)},
}
# fmt: on
