"""Reference lists the fact extractor looks for: the USGS critical minerals and the
countries trade documents name. Data, kept here so the package stands on its own."""

from __future__ import annotations

# USGS List of Critical Minerals: 2022 (50, FR doc 2022-04027) and the ten added in the
# final 2025 list (60, FR doc 2025-19813). tests/test_facts.py checks this against the
# transcription in tests/data/critical_minerals.yaml.
CRITICAL_MINERALS_2022 = (
    "aluminum", "antimony", "arsenic", "barite", "beryllium", "bismuth", "cerium", "cesium",
    "chromium", "cobalt", "dysprosium", "erbium", "europium", "fluorspar", "gadolinium",
    "gallium", "germanium", "graphite", "hafnium", "holmium", "indium", "iridium",
    "lanthanum", "lithium", "lutetium", "magnesium", "manganese", "neodymium", "nickel",
    "niobium", "palladium", "platinum", "praseodymium", "rhodium", "rubidium", "ruthenium",
    "samarium", "scandium", "tantalum", "tellurium", "terbium", "thulium", "tin", "titanium",
    "tungsten", "vanadium", "ytterbium", "yttrium", "zinc", "zirconium",
)  # fmt: skip
CRITICAL_MINERALS_ADDED_2025 = (
    "boron", "copper", "lead", "metallurgical coal", "phosphate", "potash", "rhenium",
    "silicon", "silver", "uranium",
)  # fmt: skip
CRITICAL_MINERALS = CRITICAL_MINERALS_2022 + CRITICAL_MINERALS_ADDED_2025

# Names that are also ordinary English words: counted only beside another mineral
# ("copper, lead, and zinc"), never alone ("would lead to").
AMBIGUOUS_MINERALS = frozenset({"lead", "tin"})

# Trading partners as trade documents name them: canonical name, then other spellings.
# Names that are also common words or US places (Georgia, Jordan, Chad, Turkey the bird)
# are left out or listed only in unambiguous forms.
COUNTRIES: tuple[tuple[str, ...], ...] = (
    ("China", "People's Republic of China", "PRC"),
    ("Hong Kong",),
    ("Macau", "Macao"),
    ("Taiwan",),
    ("Japan",),
    ("South Korea", "Republic of Korea", "Korea"),
    ("North Korea", "Democratic People's Republic of Korea"),
    ("India",),
    ("Vietnam", "Viet Nam", "Socialist Republic of Vietnam"),
    ("Thailand",),
    ("Malaysia",),
    ("Indonesia",),
    ("Philippines",),
    ("Singapore",),
    ("Cambodia",),
    ("Laos", "Lao People's Democratic Republic"),
    ("Myanmar", "Burma"),
    ("Bangladesh",),
    ("Pakistan",),
    ("Sri Lanka",),
    ("Kazakhstan",),
    ("Mongolia",),
    ("Australia",),
    ("New Zealand",),
    ("Canada",),
    ("Mexico",),
    ("Brazil",),
    ("Argentina",),
    ("Chile",),
    ("Peru",),
    ("Colombia",),
    ("Ecuador",),
    ("Venezuela",),
    ("Nicaragua",),
    ("Guatemala",),
    ("Honduras",),
    ("El Salvador",),
    ("Costa Rica",),
    ("Panama",),
    ("Dominican Republic",),
    ("Cuba",),
    ("European Union", "EU"),
    ("United Kingdom", "Great Britain", "UK"),
    ("Germany",),
    ("France",),
    ("Italy",),
    ("Spain",),
    ("Netherlands",),
    ("Belgium",),
    ("Ireland",),
    ("Sweden",),
    ("Finland",),
    ("Poland",),
    ("Austria",),
    ("Switzerland",),
    ("Norway",),
    ("Russia", "Russian Federation"),
    ("Ukraine",),
    ("Belarus",),
    ("Türkiye", "Republic of Turkey", "Turkiye"),
    ("Israel",),
    ("Saudi Arabia",),
    ("United Arab Emirates", "UAE"),
    ("Qatar",),
    ("Iran",),
    ("Iraq",),
    ("Egypt",),
    ("Morocco",),
    ("South Africa",),
    ("Nigeria",),
    ("Kenya",),
    ("Ethiopia",),
    ("Ghana",),
    ("Democratic Republic of the Congo", "DRC"),
    ("Zambia",),
    ("Zimbabwe",),
    ("Madagascar",),
    ("Mozambique",),
    ("Gabon",),
    ("Bahrain",),
    ("Oman",),
    ("Syria",),
    ("Algeria",),
)

# The member states of the European Union: a document that speaks of the EU touches them.
EU_MEMBERS = frozenset(
    {
        "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Denmark", "Estonia",
        "Finland", "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia",
        "Lithuania", "Luxembourg", "Malta", "Netherlands", "Poland", "Portugal", "Romania",
        "Slovakia", "Slovenia", "Spain", "Sweden",
    }
)  # fmt: skip

# Names a team may watch that stand for several minerals of the USGS list.
MINERAL_GROUPS: dict[str, tuple[str, ...]] = {
    "rare earths": (
        "cerium", "dysprosium", "erbium", "europium", "gadolinium", "holmium", "lanthanum",
        "lutetium", "neodymium", "praseodymium", "samarium", "terbium", "thulium", "ytterbium",
        "yttrium",
    ),
    "platinum group metals": ("iridium", "palladium", "platinum", "rhodium", "ruthenium"),
}  # fmt: skip
MINERAL_GROUPS["rare earth elements"] = MINERAL_GROUPS["rare earths"]
MINERAL_GROUPS["pgms"] = MINERAL_GROUPS["platinum group metals"]
