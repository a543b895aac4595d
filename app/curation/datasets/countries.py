"""Country codes the datasets use, as ISO 3166-1 alpha-3: Gleditsch-Ward state numbers
(UCDP) and FIPS 10-4 (GDELT). A code with no ISO country (a state that no longer exists,
such as the German Democratic Republic, or Kosovo) maps to None and the record keeps the
dataset's code in its attributes."""

from __future__ import annotations

# Gleditsch & Ward (1999) independent states, as UCDP numbers them. Where a state's ISO
# code changed with its borders, the state's successor is used (345 Yugoslavia → Serbia,
# 365 Soviet Union → Russia, 678 Yemen Arab Republic → Yemen, as UCDP itself names them).
GLEDITSCH_WARD: dict[int, str] = {
    2: "USA", 20: "CAN", 31: "BHS", 40: "CUB", 41: "HTI", 42: "DOM", 51: "JAM", 52: "TTO",
    53: "BRB", 54: "DMA", 55: "GRD", 56: "LCA", 57: "VCT", 58: "ATG", 60: "KNA", 70: "MEX",
    80: "BLZ", 90: "GTM", 91: "HND", 92: "SLV", 93: "NIC", 94: "CRI", 95: "PAN", 100: "COL",
    101: "VEN", 110: "GUY", 115: "SUR", 130: "ECU", 135: "PER", 140: "BRA", 145: "BOL",
    150: "PRY", 155: "CHL", 160: "ARG", 165: "URY", 200: "GBR", 205: "IRL", 210: "NLD",
    211: "BEL", 212: "LUX", 220: "FRA", 221: "MCO", 223: "LIE", 225: "CHE", 230: "ESP",
    232: "AND", 235: "PRT", 260: "DEU", 290: "POL", 305: "AUT", 310: "HUN", 316: "CZE",
    317: "SVK", 325: "ITA", 331: "SMR", 338: "MLT", 339: "ALB", 341: "MNE", 343: "MKD",
    344: "HRV", 345: "SRB", 346: "BIH", 349: "SVN", 350: "GRC", 352: "CYP", 355: "BGR",
    359: "MDA", 360: "ROU", 365: "RUS", 366: "EST", 367: "LVA", 368: "LTU", 369: "UKR",
    370: "BLR", 371: "ARM", 372: "GEO", 373: "AZE", 375: "FIN", 380: "SWE", 385: "NOR",
    390: "DNK", 395: "ISL", 402: "CPV", 403: "STP", 404: "GNB", 411: "GNQ", 420: "GMB",
    432: "MLI", 433: "SEN", 434: "BEN", 435: "MRT", 436: "NER", 437: "CIV", 438: "GIN",
    439: "BFA", 450: "LBR", 451: "SLE", 452: "GHA", 461: "TGO", 471: "CMR", 475: "NGA",
    481: "GAB", 482: "CAF", 483: "TCD", 484: "COG", 490: "COD", 500: "UGA", 501: "KEN",
    510: "TZA", 516: "BDI", 517: "RWA", 520: "SOM", 522: "DJI", 530: "ETH", 531: "ERI",
    540: "AGO", 541: "MOZ", 551: "ZMB", 552: "ZWE", 553: "MWI", 560: "ZAF", 565: "NAM",
    570: "LSO", 571: "BWA", 572: "SWZ", 580: "MDG", 581: "COM", 590: "MUS", 591: "SYC",
    600: "MAR", 615: "DZA", 616: "TUN", 620: "LBY", 625: "SDN", 626: "SSD", 630: "IRN",
    640: "TUR", 645: "IRQ", 651: "EGY", 652: "SYR", 660: "LBN", 663: "JOR", 666: "ISR",
    670: "SAU", 678: "YEM", 690: "KWT", 692: "BHR", 694: "QAT", 696: "ARE", 698: "OMN",
    700: "AFG", 701: "TKM", 702: "TJK", 703: "KGZ", 704: "UZB", 705: "KAZ", 710: "CHN",
    712: "MNG", 713: "TWN", 731: "PRK", 732: "KOR", 740: "JPN", 750: "IND", 760: "BTN",
    770: "PAK", 771: "BGD", 775: "MMR", 780: "LKA", 781: "MDV", 790: "NPL", 800: "THA",
    811: "KHM", 812: "LAO", 816: "VNM", 820: "MYS", 830: "SGP", 835: "BRN", 840: "PHL",
    850: "IDN", 860: "TLS", 900: "AUS", 910: "PNG", 920: "NZL", 940: "SLB", 950: "FJI",
}  # fmt: skip


def gleditsch_ward(code: str | int | None) -> str | None:
    """The ISO alpha-3 code of a Gleditsch-Ward state number; None when there is none."""
    if code is None or str(code).strip() == "":
        return None
    try:
        return GLEDITSCH_WARD.get(int(str(code).strip()))
    except ValueError:
        return None
