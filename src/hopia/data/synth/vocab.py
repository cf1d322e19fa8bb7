"""Identity vocabulary: names, communes with real postcodes, streets, hospitals and services.

Plain Python on purpose: no data file to ship or to parse. The fictional CHU sits in the Lyon area,
so most patients live in the Rhône-Alpes communes listed first; a few come from elsewhere.
"""

from __future__ import annotations

# fmt: off

# First names by sex, roughly the cohorts born between 1930 and 2005.
MALE_FIRST_NAMES: tuple[str, ...] = (
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Bernard", "Jacques", "Daniel",
    "Patrick", "Christian", "Gérard", "Claude", "René", "Robert", "Marcel", "Louis", "Roger",
    "Henri", "Georges", "Paul", "Nicolas", "Christophe", "Stéphane", "Frédéric", "Laurent",
    "Olivier", "Thierry", "Éric", "Pascal", "Didier", "Serge", "Francis", "Guy", "Maurice",
    "Raymond", "Lucien", "Joseph", "Yves", "François", "Julien", "Sébastien", "Thomas", "Alexandre",
    "Antoine", "Maxime", "Romain", "Vincent", "Mathieu", "Guillaume", "Kévin", "Anthony", "Jérôme",
    "David", "Bruno", "Hervé", "Gilles", "Denis", "Jean-Pierre", "Jean-Claude", "Jean-Marc",
    "Jean-Louis", "Jean-François", "Marc", "Hugo", "Lucas", "Mohamed", "Karim", "Ahmed", "Rachid",
    "Youssef", "Mehdi", "Fabrice", "Cédric", "Ludovic", "Arnaud", "Raphaël", "Émile", "Gaston",
    "Albert", "Fernand", "Roland", "Jean-Luc", "Dominique",
)

FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle", "Sylvie",
    "Martine", "Christine", "Nicole", "Jacqueline", "Anne", "Christiane", "Danielle", "Michèle",
    "Brigitte", "Josiane", "Colette", "Madeleine", "Simone", "Yvette", "Suzanne", "Denise",
    "Paulette", "Germaine", "Odette", "Marguerite", "Hélène", "Sophie", "Valérie", "Sandrine",
    "Céline", "Stéphanie", "Laurence", "Véronique", "Patricia", "Chantal", "Annie", "Évelyne",
    "Claudine", "Ginette", "Geneviève", "Agnès", "Élisabeth", "Florence", "Caroline", "Aurélie",
    "Émilie", "Julie", "Camille", "Laura", "Manon", "Léa", "Chloé", "Sarah", "Fatima", "Samia",
    "Nadia", "Aïcha", "Marie-Claude", "Marie-Thérèse", "Anne-Marie", "Marie-France", "Béatrice",
    "Corinne", "Pascale", "Virginie", "Audrey", "Élodie", "Mélanie", "Amandine", "Lucie", "Pauline",
    "Thérèse", "Lucienne", "Renée", "Marcelle", "Yvonne", "Gisèle", "Huguette",
)

SURNAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Dubois", "Durand", "Richard", "Robert", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
    "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
    "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis",
    "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas",
    "Meunier", "Jean", "Perez", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun", "Dumas",
    "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland",
    "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard",
    "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez",
    "Da Silva", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume", "Adam",
    "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier",
    "Julien", "Benoit", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux", "Renault", "Jacquet",
    "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons",
    "Paul", "Lainé", "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre", "Marty",
    "Cousin", "Bonnard", "Chabert", "Perret", "Pellet", "Vial", "Favre", "Ravier", "Guichard",
    "Chapuis", "Brossard", "Thevenet", "Berthet", "Jacquemet", "Gros", "Bouvier", "Rivoire",
    "Chaize", "Besson", "Tissot", "Mathon", "Magnin", "Perrier", "Bourdin", "Crozet", "Dumoulin",
    "Sauvage", "Mallet", "Mounier", "Chauvin", "Collin", "Poulain", "Bénard", "Lebon", "Delorme",
    "Cordier", "Millet", "Tessier", "Lemaître", "Guillon", "Leblanc", "Bailly", "Hamon", "Pasquier",
    "Leroy", "Le Goff", "Riou", "Hoarau", "Payet", "Diallo", "Traoré", "Benali", "Haddad",
    "Mansour", "Bensaïd", "Chérif", "Khelifi", "Belkacem", "Amrani", "Boukhari", "Ferreira",
    "Pereira", "Dos Santos", "Rodrigues", "Martins", "Almeida", "Costa", "Ribeiro", "Santos",
    "Lopes", "Nowak", "Kowalski", "Rossi", "Russo", "Bianchi", "Romano", "Colombo", "Wagner",
    "Weber", "Klein", "Hoffmann", "Fischer", "Koch", "Zimmermann", "Tran", "Pham", "Chabanel",
    "Montagnon", "Desvignes", "Jourdan", "Peyrard", "Rambaud", "Cholat", "Gonon", "Laval",
    "Bruyère", "Granjon", "Charvet", "Poncet", "Vernay", "Ducret", "Sapet", "Fayolle", "Chambon",
    "Teyssier", "Villard", "Reynaud", "Bouchet", "Grange", "Michaud", "Guillermin", "Dumas-Pilhou",
    "Achard", "Arnoux", "Barral", "Bertholon", "Blanchet", "Ferrand", "Gay", "Martel", "Monnet",
    "Pichon", "Rochette", "Sibille", "Veyron",
)

# (commune, postcode). Lyon area first: the CHU's catchment.
COMMUNES: tuple[tuple[str, str], ...] = (
    ("Lyon", "69001"), ("Lyon", "69002"), ("Lyon", "69003"), ("Lyon", "69004"), ("Lyon", "69005"),
    ("Lyon", "69006"), ("Lyon", "69007"), ("Lyon", "69008"), ("Lyon", "69009"),
    ("Villeurbanne", "69100"), ("Vénissieux", "69200"), ("Vaulx-en-Velin", "69120"),
    ("Bron", "69500"), ("Caluire-et-Cuire", "69300"), ("Saint-Priest", "69800"),
    ("Rillieux-la-Pape", "69140"), ("Meyzieu", "69330"), ("Décines-Charpieu", "69150"),
    ("Oullins", "69600"), ("Sainte-Foy-lès-Lyon", "69110"), ("Tassin-la-Demi-Lune", "69160"),
    ("Écully", "69130"), ("Francheville", "69340"), ("Saint-Genis-Laval", "69230"),
    ("Givors", "69700"), ("Villefranche-sur-Saône", "69400"), ("Saint-Fons", "69190"),
    ("Feyzin", "69320"), ("Corbas", "69960"), ("Mions", "69780"), ("Genas", "69740"),
    ("Chassieu", "69680"), ("Craponne", "69290"), ("Brignais", "69530"), ("Irigny", "69540"),
    ("Pierre-Bénite", "69310"), ("La Mulatière", "69350"), ("Neuville-sur-Saône", "69250"),
    ("Fontaines-sur-Saône", "69270"), ("Limonest", "69760"), ("Dardilly", "69570"),
    ("Champagne-au-Mont-d'Or", "69410"), ("Tarare", "69170"), ("L'Arbresle", "69210"),
    ("Anse", "69480"), ("Belleville-en-Beaujolais", "69220"), ("Mornant", "69440"),
    ("Saint-Symphorien-d'Ozon", "69360"), ("Grigny", "69520"), ("Vaugneray", "69670"),
    ("Charbonnières-les-Bains", "69260"), ("Jonage", "69330"), ("Saint-Laurent-de-Mure", "69720"),
    ("Bourg-en-Bresse", "01000"), ("Oyonnax", "01100"), ("Ambérieu-en-Bugey", "01500"),
    ("Miribel", "01700"), ("Trévoux", "01600"), ("Belley", "01300"), ("Montluel", "01120"),
    ("Gex", "01170"), ("Meximieux", "01800"), ("Grenoble", "38000"), ("Vienne", "38200"),
    ("Bourgoin-Jallieu", "38300"), ("Villefontaine", "38090"), ("Voiron", "38500"),
    ("Échirolles", "38130"), ("Saint-Martin-d'Hères", "38400"), ("Meylan", "38240"),
    ("L'Isle-d'Abeau", "38080"), ("Pont-de-Chéruy", "38230"), ("La Tour-du-Pin", "38110"),
    ("Crémieu", "38460"), ("Saint-Étienne", "42000"), ("Roanne", "42300"), ("Montbrison", "42600"),
    ("Saint-Chamond", "42400"), ("Firminy", "42700"), ("Rive-de-Gier", "42800"), ("Feurs", "42110"),
    ("Mâcon", "71000"), ("Chalon-sur-Saône", "71100"), ("Le Creusot", "71200"),
    ("Montceau-les-Mines", "71300"), ("Autun", "71400"), ("Chambéry", "73000"),
    ("Aix-les-Bains", "73100"), ("Albertville", "73200"), ("Annecy", "74000"),
    ("Annemasse", "74100"), ("Thonon-les-Bains", "74200"), ("Valence", "26000"),
    ("Montélimar", "26200"), ("Romans-sur-Isère", "26100"), ("Annonay", "07100"),
    ("Privas", "07000"), ("Aubenas", "07200"), ("Clermont-Ferrand", "63000"), ("Dijon", "21000"),
    ("Besançon", "25000"), ("Marseille", "13008"), ("Paris", "75015"), ("Paris", "75011"),
    ("Paris", "75020"), ("Montpellier", "34000"), ("Toulouse", "31000"), ("Nice", "06000"),
    ("Bordeaux", "33000"), ("Nantes", "44000"), ("Lille", "59000"), ("Strasbourg", "67000"),
    ("Rennes", "35000"), ("Ajaccio", "20000"), ("Bastia", "20200"), ("Avignon", "84000"),
    ("Nîmes", "30000"), ("Moulins", "03000"), ("Vichy", "03200"), ("Le Puy-en-Velay", "43000"),
    ("Nevers", "58000"), ("Metz", "57000"), ("Nancy", "54000"), ("Reims", "51100"),
    ("Orléans", "45000"), ("Tours", "37000"), ("Limoges", "87000"), ("Poitiers", "86000"),
    ("Perpignan", "66000"), ("Brest", "29200"), ("Caen", "14000"), ("Rouen", "76000"),
    ("Amiens", "80000"), ("Angers", "49000"),
)

# How many entries of COMMUNES are the local catchment (Rhône and neighbouring départements).
LOCAL_COMMUNES = 98

# Departments seen in NIRs of people born elsewhere in France (metropolitan codes).
BIRTH_DEPARTMENTS: tuple[str, ...] = (
    "01", "03", "07", "13", "21", "25", "26", "31", "33", "38", "42", "43", "59", "62", "63", "67",
    "69", "71", "73", "74", "75", "76", "84", "92", "93", "94", "2A", "2B",
)

STREET_TYPES: tuple[str, ...] = (
    "rue", "rue", "rue", "avenue", "boulevard", "place", "chemin", "allée", "impasse", "quai",
    "cours", "route", "montée",
)

STREET_NAMES: tuple[str, ...] = (
    "Victor Hugo", "Jean Jaurès", "de la République", "Pasteur", "du Général de Gaulle", "Gambetta",
    "des Lilas", "de la Paix", "Émile Zola", "Jean Moulin", "Voltaire", "de la Gare", "des Écoles",
    "du Stade", "Paul Bert", "Garibaldi", "Lafayette", "Anatole France", "Jules Ferry",
    "Victor Basch", "Berthelot", "de Saxe", "Édouard Herriot", "des Tilleuls", "des Acacias",
    "du Moulin", "de l'Église", "du Château", "des Peupliers", "Marcel Mérieux", "Carnot", "Foch",
    "du Maréchal Leclerc", "Sadi Carnot", "de Verdun", "du 8 Mai 1945", "du 11 Novembre",
    "Louis Pasteur", "Pierre Curie", "Antoine de Saint-Exupéry", "Claude Bernard", "de Bourgogne",
    "de Savoie", "des Cerisiers", "des Roses", "des Vignes", "du Lavoir", "de la Croix-Rousse",
    "Burdeau", "Vauban", "Duguesclin", "Tronchet", "des Charmettes", "Mercière", "de Champagne",
    "Saint-Jean", "des Marronniers", "de la Mairie", "du Bourbonnais", "Paul Santy",
    "des Frères Lumière", "Rockefeller", "de la Soie",
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr", "hotmail.fr",
    "yahoo.fr", "outlook.fr",
)

# fmt: on

# The fictional CHU: its sites (name, address, postcode, city).
CHU_NAME = "CHU Rhône-Alpes"
CHU_DOMAIN = "chu-rhonealpes.fr"
CHU_SITES: tuple[tuple[str, str, str, str], ...] = (
    ("Hôpital Louis-Lumière", "5 place d'Arsonval", "69003", "Lyon"),
    ("Hôpital Marie-Curie", "103 grande rue de la Croix-Rousse", "69004", "Lyon"),
    ("Hôpital Ambroise-Paré", "165 chemin du Grand Revoyet", "69310", "Pierre-Bénite"),
)
# Other establishments mentioned in narratives (adressé par, transféré vers).
OTHER_HOSPITALS: tuple[str, ...] = (
    "CH de Villefranche-sur-Saône",
    "Centre hospitalier de Vienne",
    "Clinique du Val d'Ouest",
    "Clinique de la Sauvegarde",
    "Hôpital Saint-Joseph Saint-Luc",
    "CH de Bourg-en-Bresse",
    "Médipôle Lyon-Villeurbanne",
    "Clinique du Tonkin",
    "CH de Givors",
    "CH de Montélimar",
    "Hôpital privé Jean Mermoz",
    "Centre Léon Bérard",
    "CH de Roanne",
    "Clinique Trénel",
    "EHPAD Les Tilleuls",
    "EHPAD Le Clos Fleuri",
    "SSR Les Massues",
    "CH Lucien Hussel",
)

# Service slug -> (display name, CHU site index, ward phone suffix).
SERVICES: dict[str, tuple[str, int, str]] = {
    "cardiologie": ("Cardiologie", 0, "86 12"),
    "oncologie": ("Oncologie médicale", 1, "87 40"),
    "pneumologie": ("Pneumologie", 1, "87 21"),
    "urgences": ("Service d'accueil des urgences", 0, "86 00"),
    "nephrologie": ("Néphrologie - Dialyse", 2, "88 35"),
    "endocrinologie": ("Endocrinologie, Diabétologie et Nutrition", 2, "88 52"),
    "geriatrie": ("Gériatrie aiguë", 2, "88 70"),
    "chirurgie_digestive": ("Chirurgie digestive et viscérale", 0, "86 55"),
}
SERVICE_MAIL_SLUGS: dict[str, str] = {
    "cardiologie": "cardiologie",
    "oncologie": "oncologie",
    "pneumologie": "pneumologie",
    "urgences": "urgences",
    "nephrologie": "nephrologie",
    "endocrinologie": "endocrino",
    "geriatrie": "geriatrie",
    "chirurgie_digestive": "chir.digestive",
}
PHYSICIAN_TITLES: tuple[str, ...] = (
    "Praticien hospitalier",
    "Chef de clinique - Assistant",
    "Professeur des universités - Praticien hospitalier",
    "Praticien hospitalier contractuel",
    "Docteur junior",
)

# fmt: off
# (masculine, feminine) forms of former and current occupations.
JOBS: tuple[tuple[str, str], ...] = (
    ("ancien boulanger", "ancienne boulangère"), ("ancien instituteur", "ancienne institutrice"),
    ("ancien ouvrier dans le bâtiment", "ancienne ouvrière textile"),
    ("ancien secrétaire", "ancienne secrétaire"), ("ancien agriculteur", "ancienne agricultrice"),
    ("ancien comptable", "ancienne comptable"), ("ancien infirmier", "ancienne infirmière"),
    ("ancien chauffeur routier", "ancienne employée de La Poste"),
    ("ancien commerçant", "ancienne commerçante"),
    ("ancien cadre dans l'industrie chimique", "ancienne cadre dans l'industrie chimique"),
    ("ancien employé de la SNCF", "ancienne employée de la SNCF"),
    ("ancien mécanicien", "ancienne aide-soignante"),
)

ACTIVE_JOBS: tuple[tuple[str, str], ...] = (
    ("employé de banque", "employée de banque"), ("enseignant", "enseignante"),
    ("technicien de maintenance", "technicienne de laboratoire"),
    ("aide à domicile", "aide à domicile"), ("infirmier", "infirmière"),
    ("informaticien", "informaticienne"), ("commercial", "commerciale"), ("magasinier", "vendeuse"),
    ("étudiant", "étudiante"), ("conducteur de bus", "conductrice de bus"),
    ("agent administratif", "agente administrative"), ("électricien", "cuisinière"),
    ("cuisinier", "auxiliaire de puériculture"),
)

MONTHS_FR: tuple[str, ...] = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre",
)
# fmt: on
