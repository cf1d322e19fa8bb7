"""What ``hopia.zones`` recognises: zones of a French clinical document that never state a
clinical fact, and the mentions of EDS-NLP's comorbidity pipes that name a narrower concept.

Zones (labels of ``doc.spans["zones"]``):

- ``entete``: letterhead lines (establishment, site, service, unit, pole, laboratory);
- ``signature``: the signatory ("Dr X", "Pr X, chef de service de ...") and their role line;
- ``administratif``: identity block, addresses, phones, e-mails, "Copie à", "Destinataires",
  place and date of the letter, electronic validation, page footers;
- ``titre``: a heading that only names a topic ("Allergies :" alone on its line, or followed
  by "aucune"/"néant"), not a finding;
- ``normes``: reference ranges of lab results ("(N : 12,0 - 16,2)");
- ``organisation``: a service named in a sentence ("hospitalisation en néphrologie - dialyse
  en mai", "transférée en réanimation pour"), which is a place, not the patient's condition.

Every expression is matched on the original text with ``re.IGNORECASE`` unless said otherwise.
"""

from __future__ import annotations

import re

# --- line classes ----------------------------------------------------------------------
# A line short enough to be a header, a signature or a role (prose lines are longer or end
# with a full stop).
MAX_ZONE_LINE = 120

# Establishments and their parts, opening a line: letterhead.
LETTERHEAD = re.compile(
    r"^[ \t]*(?:CHU|CHRU|CHR|CHI|CH|GH|GHU|AP-HP|APHP|HCL|hospices? civils|centre hospitalier"
    r"|centre hospitalo-universitaire|h[ôo]pital|h[ôo]pitaux|groupe hospitalier"
    r"|groupement hospitalier|clinique|polyclinique|institut|p[ôo]le|service|unit[ée]"
    r"|d[ée]partement|laboratoire|f[ée]d[ée]ration|plateau technique|consultations? externes?"
    r"|secteur|b[âa]timent|pavillon|r[ée]gion|ARS|agence r[ée]gionale|GHT)\b",
    re.IGNORECASE,
)

# A consultation's letterhead or title names its specialty: "Consultation de Néphrologie -
# Dialyse" (a capital or a specialty's ending after "de"; "consultation de suivi de
# l'insuffisance cardiaque" is not one).
CONSULTATION_OF = re.compile(
    r"^[ \t]*(?:[Cc]onsultations?|CONSULTATIONS?)(?: externes?)? (?:de |d'|du |des )(?:l')?"
    r"(?:[A-ZÀ-Ÿ]|\w*(?:logie|iatrie|chirurgie|gériatrie|médecine|urgences|anesthésie)\b)"
)

# Administrative fields: "Nom :", "IPP", "Tél.", "Copie à", "Destinataires"... opening a line.
# Words that also open clinical sentences need their colon ("Patient : X" vs "Patient de 80
# ans"); the others are administrative however they go on.
_ADMIN_WITH_COLON = (
    r"nom(?: de naissance| d'usage| marital)?|pr[ée]noms?|sexe|patiente?|concerne|adresse"
    r"|domicile|m[ée]decin(?:s)? (?:traitant|correspondant|adresseur)s?|prescripteur"
    r"|op[ée]rateurs?|aides?|anesth[ée]sistes?|infirmi[èe]re?s?|personne de confiance"
    r"|personne [àa] pr[ée]venir|chef de service|secr[ée]tariats?|accueil|standard|courriel"
    r"|e-?mail|m[ée]l|mail|fax|t[ée]l[ée]copie|t[ée]l(?:[ée]phone)?\.?|portable|bip|dect"
    r"|ipp|nda|nir|n°[^:\n]{0,30}|num[ée]ro[^:\n]{0,30}|date de naissance|date d'entr[ée]e"
    r"|date de sortie|date d'admission|date de l'intervention|date de consultation"
    r"|date du pr[ée]l[èe]vement|date|dossier|s[ée]jour|uf|r[ée]f(?:[ée]rence)?s?|v/r[ée]f"
    r"|n/r[ée]f|objet|destinataires?|copies?|cc|diffusion|mode d'arriv[ée]e|arriv[ée]e"
    r"|heure d'arriv[ée]e|lit|chambre|statut|mutuelle|caisse|assur[ée]|correspondants?"
)
ADMIN_FIELD = re.compile(
    rf"^[ \t]*[-*•]?[ \t]*(?:{_ADMIN_WITH_COLON})[ \t]*:",
    re.IGNORECASE,
)
ADMIN_LINE = re.compile(
    r"^[ \t]*[-*•]?[ \t]*(?:copies?\b|cc\b|destinataires?\b|diffusion\b|document valid[ée]"
    r"|valid[ée] (?:[ée]lectroniquement|par)|sign[ée] (?:[ée]lectroniquement|par)"
    r"|dict[ée]e? (?:le|par)|frapp[ée]e? (?:le|par)|tap[ée]e? (?:le|par)|page \d|pr[ée]l[èe]vement"
    r" (?:du|effectu[ée])|n[ée]e? le\b|[àa] l'attention d|cher(?:e|s)? (?:confr[èe]re|coll[èe]gue"
    r"|ami|docteur|madame|monsieur)s?|bien (?:confraternellement|cordialement)"
    r"|(?:tr[èe]s )?confraternellement|cordialement|avec mes (?:sentiments|salutations|amiti)"
    r"|je vous prie|veuillez agr[ée]er)",
    re.IGNORECASE,
)
# Place and date of the letter: "Lyon, le 20 mars 2019", "Fait à Bron, le 12/03/2021".
PLACE_DATE = re.compile(
    r"^[ \t]*(?:fait [àa] )?[A-ZÀ-Ÿ][^\n,.:;]{1,40},[ \t]+le[ \t]+(?:\d{1,2}(?:er)?[ \t/.-]"
    r"(?:\d{1,2}|[a-zéû]+)[ \t/.-]\d{2,4}|\d{4}-\d{2}-\d{2})[ \t]*\.?[ \t]*$",
    re.IGNORECASE,
)
# An address line: a French postcode followed by a town, or a street with its number.
ADDRESS = re.compile(
    r"(?:\b\d{5}[ \t]+[A-ZÀ-Ÿa-zà-ÿ][\w'’ -]*$|^[ \t]*\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+"
    r"(?:rue|avenue|av\.|boulevard|bd|place|chemin|route|impasse|all[ée]e|quai|cours|square"
    r"|grande rue|faubourg|voie|sentier|passage)\b)",
    re.IGNORECASE,
)
# E-mails (blanks around "@" too), phone numbers, web addresses: anywhere in a short line.
CONTACT = re.compile(
    r"[\w.+-]+[ \t]?@[ \t]?[\w-]+(?:\.[\w-]+)+|(?:\+33[ \t.]?|\b0)[1-9](?:[ \t.-]?\d{2}){4}\b"
    r"|\bwww\.[\w.-]+|\bhttps?://\S+",
    re.IGNORECASE,
)
# A signatory: a title and a name, alone on a short line ("Dr Samia CARPENTIER",
# "Pr X, chef de service de néphrologie").
SIGNATORY = re.compile(
    r"^[ \t]*(?:[Ll]e |[Ll]a )?(?:[Dd]r|DR|[Dd]octeur|DOCTEUR|[Pp]r|PR|[Pp]rofesseur|PROFESSEUR"
    r"|[Dd]rs)\.?[ \t]+[A-ZÀ-Ÿ]",
)
# Roles of a signatory, which make a short line a signature's role line.
ROLE = re.compile(
    r"\b(?:praticien(?:ne)? hospitali(?:er|[èe]re)|praticien(?:ne)? attach[ée]e?"
    r"|chef de clinique|chef de service|chef de p[ôo]le|docteur junior|interne|externe"
    r"|professeur des universit[ée]s|ma[îi]tre de conf[ée]rences|assistant(?:e)?"
    r"(?: sp[ée]cialiste| hospitalo-universitaire)?|biologiste|pharmacien(?:ne)?"
    r"|cadre de sant[ée]|cadre (?:sup[ée]rieur )?de p[ôo]le|sage-femme|secr[ée]taire m[ée]dicale"
    r"|m[ée]decin (?:g[ée]n[ée]raliste|sp[ée]cialiste|responsable|coordonnateur|senior"
    r"|traitant|du service|de l'unit[ée])|faisant fonction|PU-PH|MCU-PH|PHU|CCA|AHU|PHC"
    r"|\bPH\b|\bIDE\b)",
    re.IGNORECASE,
)

# --- headings --------------------------------------------------------------------------
# A heading alone on its line: a few words and a colon, nothing after.
HEADING_LINE = re.compile(r"^[ \t]*[-*•#]?[ \t]*[^\n:.;]{2,60}:[ \t]*$")
# What says "nothing" right after a heading or under it.
NOTHING = re.compile(
    r"^[ \t]*[-*•]?[ \t]*(?:pas d|aucun|aucune|n[ée]ant|non\b|ras\b|r\.a\.s|sans\b|absence"
    r"|nul(?:le)?\b|0\b|ø|-+[ \t]*$|n'en a pas|ne (?:rapporte|signale|d[ée]crit) (?:pas|aucun)"
    r"|inconnue?s?\b|non connue?s?\b)",
    re.IGNORECASE,
)

# --- inline zones ----------------------------------------------------------------------
# Reference ranges of a result: "(N : 12,0 - 16,2)", "[VN 3,5-5,0]", "(normes : < 5)".
REFERENCE_RANGE = re.compile(
    r"[(\[][ \t]*(?:N|VN|V\.N\.|VR|normes?|normales?|r[ée]f\.?|r[ée]f[ée]rences?"
    r"|valeurs? (?:normales?|usuelles?|de r[ée]f[ée]rence))[ \t]*[:=]?[^)\]\n]{0,40}[)\]]"
    r"|[(\[][ \t]*[<>≤≥]?[ \t]*\d+(?:[.,]\d+)?[ \t]*(?:-|–|à)[ \t]*\d+(?:[.,]\d+)?"
    r"[^)\]\n]{0,12}[)\]]",
    re.IGNORECASE,
)
# A service named in a sentence: after "service de", "unité de", "hospitalisation en",
# "transfert en"... up to a word that ends the name, a punctuation mark or the line's end.
_NAME_END = (
    r"(?=[ \t]+(?:en|pour|le|la|les|du|des|depuis|[àa]|au|aux|dans|par|puis|sur|avec|et (?:en|pour"
    r"|a|au)|jusqu|entre|de \d|d'\w+ \d|apr[èe]s|avant|suite|le \d)\b|[ \t]*[.,;:()\[\]\n]|$)"
)
ORGANISATION = re.compile(
    r"\b(?:(?:service|unit[ée]|p[ôo]le|d[ée]partement|laboratoire|h[ôo]pital de jour|HDJ"
    r"|f[ée]d[ée]ration)[ \t]+(?:de[ \t]+|d'|des[ \t]+|du[ \t]+)(?:la[ \t]+|l')?"
    r"|(?:hospitalis[ée]e?s?|hospitalisations?|transf[ée]r[ée]e?s?|transferts?|mut[ée]e?s?"
    r"|mutations?|admise?s?|admissions?|s[ée]jours?|passages?)[ \t]+(?:en|au service de"
    r"|dans le service de|en service de|[àa] l'unit[ée] de|en unit[ée] de)[ \t]+)"
    rf"(?P<name>[^\n.,;:()\[\]]{{2,60}}?){_NAME_END}",
    re.IGNORECASE,
)

# --- comorbidity mentions that name a narrower concept ---------------------------------
# EDS-NLP's comorbidity pipes gather several diseases under one Charlson item (hypertension
# and thrombosis under "peripheral vascular disease", atrial fibrillation under "congestive
# heart failure", stents under "myocardial infarction"). Hopia writes each mention under the
# CIM-10 code of what it names. (pipe, regex over the folded mention, CIM-10 code without a
# dot, "" for a mention that names no condition of that kind); the first match wins; no match
# keeps the pipe's own code.
COMORBIDITY_CODES: tuple[tuple[str, str, str], ...] = (
    # "hypertendu(e)", the patient's word for it, is hypertension too (EDS-NLP's regex
    # "hyper.?tendu" puts it under the Charlson vascular item)
    ("peripheral_vascular_disease", r"\bhta\b|hypertensi|hypertendu", "I10"),
    ("peripheral_vascular_disease", r"embolie pulmonaire|\bep\b", "I26"),
    ("peripheral_vascular_disease", r"thrombose veineuse|\btvp\b|phlebite|\bmtev\b", "I80"),
    ("peripheral_vascular_disease", r"anevrisme|dissection", "I71"),
    ("peripheral_vascular_disease", r"\baomi\b|arteriopathie|arterite|claudication", "I739"),
    # ischaemia of an organ is that organ's disease, not a peripheral vascular disease
    ("peripheral_vascular_disease", r"colite|mesenteri", "K559"),
    ("peripheral_vascular_disease", r"infa?r?a?ctus.{1,5}splen", "D735"),
    ("peripheral_vascular_disease", r"infa?r?a?ctus.{1,5}renal", "N280"),
    ("peripheral_vascular_disease", r"infa?r?a?ctus.{1,5}pulmo", "I26"),
    ("peripheral_vascular_disease", r"ischemie (?:aigue )?(?:de|du|des) membre", "I743"),
    ("congestive_heart_failure", r"fibrillation|\bacfa\b|\bfa\b|flutter|arythmie", "I48"),
    ("congestive_heart_failure", r"cardiomyopathie|myocardiopathie", "I42"),
    ("congestive_heart_failure", r"stenose aortique|retrecissement aortique|\brac\b", "I350"),
    ("congestive_heart_failure", r"insuffisance mitrale", "I340"),
    ("congestive_heart_failure", r"insuffisance aortique", "I351"),
    ("congestive_heart_failure", r"retrecissement mitral|stenose mitrale", "I050"),
    ("congestive_heart_failure", r"valvulopathie", "I38"),
    ("congestive_heart_failure", r"\boap\b|oedeme aigu", "I501"),
    # a pacemaker is a device the patient carries (Z95.0), not a heart failure
    ("congestive_heart_failure", r"pace ?maker|stimulateur", "Z950"),
    # an acute coronary syndrome is an infarction when ST rises or the words say so (I21,
    # NSTEMI I21.4); "SCA" alone, or "ST-", may be an unstable angina: I24.9
    ("myocardial_infarction", r"\bnstemi\b|\bnon[ -]?stemi\b", "I214"),
    ("myocardial_infarction", r"infarctus|\bidm\b|\bstemi\b|st ?\+|sus-?decal", "I21"),
    ("myocardial_infarction", r"\bsca\b|coronarien aigu", "I249"),
    ("myocardial_infarction", r"angor|angine de poitrine", "I20"),
    (
        "myocardial_infarction",
        r"cardiopathie ischemique|coronaropathie|coronarien|maladie coron",
        "I25",
    ),
    # a stent or a bypass graft the patient carries is a status (Z95.5, Z95.1); an occlusion
    # written before it makes the mention an acute infarction (hopia.zones' context rules)
    ("myocardial_infarction", r"\bstent", "Z955"),
    ("myocardial_infarction", r"pontage", "Z951"),
    ("myocardial_infarction", r"coronar|angioplastie|\biva\b|\bcd\b|circonflexe", "I25"),
    # EDS-NLP reads "DT I"/"DTI" and "DT II"/"DTII" as type 1 and type 2 (r"\bdt.?(i|ii|1|2)\b");
    # "insulino-traité", "insulino-requérant" say the treatment, not the type (E14 unless a
    # type is written)
    ("diabetes", r"non[ -]insulino|type 2|type ii\b|\bdt ?(?:2|ii)\b|\bdnid\b", "E11"),
    ("diabetes", r"type 1|type i\b|\bdt ?(?:1|i)\b|\bdid\b|insulino-?dependant", "E10"),
    ("diabetes", r"gestationnel", "O24"),
    ("diabetes", r"nephropathie", "E142"),
    ("diabetes", r"retinopathie", "E143"),
    ("dementia", r"alzheimer", "G30"),
    ("dementia", r"atrophie", "G31"),
    # memory complaints are a sign (R41.3), not a dementia: "troubles neurocognitifs majeurs" is
    ("dementia", r"troubles? (?:mnesiques?|de la memoire)|plainte mnesique", "R413"),
    ("cerebrovascular_accident", r"\bait\b|ischemique transitoire", "G45"),
    # EDS-NLP takes a phlebitis or a venous thrombosis for a stroke when a word of its brain
    # list ("front", "tempo", "cran", "m1"... as substrings) is within 15 tokens, across
    # sentences: a leg's "panthrombophlébite" became I64. The mention names a phlebitis; a
    # cerebral one is caught first by CONTEXT_CODES (I67.6)
    ("cerebrovascular_accident", r"phleb|thrombose veineuse|\btvp\b", "I80"),
    # a bruise ("hématome frontal" after a fall) is no stroke: "" writes no condition
    ("cerebrovascular_accident", r"^hematomes?$", ""),
    ("cerebrovascular_accident", r"hemorragi|hematome", "I61"),
    ("cerebrovascular_accident", r"\baic\b|ischemique|infarctus", "I63"),
    ("copd", r"emphyseme", "J43"),
    ("copd", r"asthme", "J45"),
    ("copd", r"apnee", "G473"),
    ("copd", r"insuffisance respiratoire chronique", "J961"),
    # pulmonary (arterial) hypertension is a pulmonary heart disease, not a COPD
    ("copd", r"hypertension (?:arterielle )?pulmonaire|\bhtap\b", "I27"),
    # a kidney graft is its own status (Z94.0), whatever the stage it came from
    ("ckd", r"greff|transplant", "Z940"),
    ("ckd", r"terminale|stade 5|\bv\b|dialys", "N185"),
    ("ckd", r"stade (?:4|iv)\b", "N184"),
    ("ckd", r"stade (?:3|iii)", "N183"),
    ("ckd", r"stade (?:2|ii)\b", "N182"),
    ("ckd", r"stade (?:1|i)\b", "N181"),
    ("peptic_ulcer_disease", r"duoden|bulbaire", "K26"),
    ("peptic_ulcer_disease", r"gastrique|estomac|antral", "K25"),
    ("liver_disease", r"cirrhose", "K74"),
    # EDS-NLP's liver item holds the chronic viral hepatitides: B and C are B18.1 and B18.2,
    # not "other inflammatory liver diseases" (K75)
    ("liver_disease", r"hepatite (?:virale )?(?:chronique )?(?:b|vhb)\b|\bvhb\b", "B181"),
    ("liver_disease", r"hepatite (?:virale )?(?:chronique )?(?:c|vhc)\b|\bvhc\b", "B182"),
    ("liver_disease", r"hepatite alcoolique", "K701"),
    ("liver_disease", r"hepatite auto-?immune", "K754"),
    ("liver_disease", r"hepatite", "K75"),
    ("liver_disease", r"steatose", "K760"),
)

# Codes read from the words right after the mention (the rest of its line, folded), for
# mentions whose span is one word of a longer name: EDS-NLP's span of "hypertension
# intracrânienne" is "hypertension", of "thrombophlébite cérébrale" "thrombophlébite".
# (pipe, regex over the folded mention, regex matched at the start of what follows, code or
# ""); checked before COMORBIDITY_CODES, the first match wins.
CONTEXT_CODES: tuple[tuple[str, str, str, str], ...] = (
    # "MRC 4/5" is the Medical Research Council muscle-strength grade (of 5, or a sum of 60):
    # EDS-NLP reads "MRC" as "maladie rénale chronique" and the 4 as its stage
    ("ckd", r"^mrc\b", r"\s*/\s*(?:5|60)\b", ""),
    # "SCA" then "ST+" or "avec sus-décalage" on its line: a STEMI
    # (EDS-NLP's span of "syndrome coronarien aigu ST+" stops before the "+")
    (
        "myocardial_infarction",
        r"(?:^sca|coronarien aigu)(?: st)?$",
        r"\s*(?:\+|st ?\+|avec sus|stemi|st plus)",
        "I21",
    ),
    # "DTI" is also the tissue Doppler of an echocardiography ("DTI : onde S' à 9 cm/s")
    ("diabetes", r"^dti$", r"\W*(?:onde|[esa]'|vitesse|pic|\d+(?:[.,]\d+)?\s*cm)", ""),
    # an ulcer's site may follow EDS-NLP's span ("hémorragie digestive haute sur ulcère duodénal")
    ("peptic_ulcer_disease", r"ulcere", r"\W*(?:du )?(?:duoden|bulb)", "K26"),
    ("peptic_ulcer_disease", r"ulcere", r"\W*(?:de l'|d')?(?:gastrique|estomac|antral)", "K25"),
    # raised intracranial pressure is no hypertension and no vascular disease
    ("peripheral_vascular_disease", r"hypertension|\bhta\b", r"\W*intra-?crani", ""),
    (
        "cerebrovascular_accident",
        r"phleb|thrombose|\btvp\b",
        r"\W*(?:veineuse\W+)?(?:(?:du|des|de la|d'un|d'une)\W+)?(?:sinus|cerebr|intra-?crani"
        r"|encephal|veines? (?:cerebr|corticale))",
        "I676",
    ),
)

# Words just before a disorder's name that make it no condition of the patient: a vaccination
# against it ("vacciné contre l'hépatite B"), a test for it ("sérologie hépatite B", "recherche
# de BK", "dépistage du cancer colorectal") unless the test came back positive ("RT-PCR
# SARS-CoV-2 positive" is a COVID-19 with the virus identified). Matched at the end of the
# folded text before the mention, on its line; POSITIVE in the few words after it.
VACCINATED_BEFORE = re.compile(
    r"(?:\bvaccin\w*|\bimmunise\w*|\brappel)\W+(?:\w+\W+)?(?:contre|anti)\W*(?:(?:la|le|les"
    r"|l)\W+)?$|\b(?:vaccin|vaccination)\W*anti\W*$"
)
TESTED_BEFORE = re.compile(
    r"\b(?:serologies?|recherches?|depistages?|tests?|pcr|antigenemies?)\W+"
    r"(?:(?:de|du|des|d|de la|de l|a la|au)\W+)?$"
)
POSITIVE = re.compile(r"\bpositi|\bretrouve|\bisole|\bpresence\b|\bdetecte")
POSITIVE_BEFORE = re.compile(
    r"\bpositiv(?:ite|ation)s?\s+(?:de la|du|des|de l'|de|d')\s*(?:[\w-]+\W+){0,2}$"
)

# EDS-NLP's comorbidity pipes, each writing a span group of its name (the pipeline spec adds one
# pipe per name; edsnlp 0.23 has no eds.hypertension: hypertension comes out through eds.cim10
# and eds.peripheral_vascular_disease ("HTA"...), which hopia.zones recodes).
COMORBIDITIES: tuple[str, ...] = (
    "aids",
    "alcohol",
    "cerebrovascular_accident",
    "ckd",
    "congestive_heart_failure",
    "connective_tissue_disease",
    "copd",
    "dementia",
    "diabetes",
    "hemiplegia",
    "leukemia",
    "liver_disease",
    "lymphoma",
    "myocardial_infarction",
    "peptic_ulcer_disease",
    "peripheral_vascular_disease",
    "solid_tumor",
    "tobacco",
)
#: Span groups whose mentions name a disorder, a sign or a procedure: dropped in the zones
#: above. Drugs, labs, dates and scores keep theirs (a lab report's values are its content).
CONDITION_GROUPS: tuple[str, ...] = ("cim10", "terms", "clinical_ner", "covid", *COMORBIDITIES)
#: The groups whose mentions carry a CIM-10 code: one concept per mention among them (the rule
#: is :func:`.zones.resolve_overlaps`). ``terms`` takes part with its coded disorder mentions
#: only (``attributes["cim10"]``): one that wins over a coding pipe's mention on the same words
#: becomes the fact in its place ("hépatite C", B18.2, over the "hépatite" of ``cim10``).
CODED_GROUPS: tuple[str, ...] = tuple(
    g for g in CONDITION_GROUPS if g not in ("clinical_ner", "alcohol", "tobacco")
)
