"""Street addresses, postcodes and PO boxes as written in the US, the UK, Germany, France and Spain.

A street line is a house number and a street word in the order each country writes them ("221B Baker Street",
"Hauptstraße 12", "12 rue de la Paix", "Calle Mayor 12, 3º B"); a postcode is taken where its shape is
unmistakable (a UK postcode, a US state and ZIP) or where its place says so (a five-digit code before a
town's name, a code after "ZIP"/"PLZ"/"CP"). The town itself is kept: it is not enough to find anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, matched

_UNIT = r"(?:(?i:flat|apartment|apt\.?|unit|suite|ste\.?|room|floor)\s[\w-]{1,5},?\s)?"
_EN_STREET = re.compile(
    rf"(?<![\w-]){_UNIT}\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?\s(?:[A-Z][\w'’-]{{0,24}}\.?\s){{1,3}}"
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|close|crescent"
    r"|cres|square|sq|parkway|pkwy|highway|hwy|row|mews|gardens|grove|hill|walk|circle|cir|trail|park)\b\.?"
    r"(?:\s[NS]?[EW]?(?<=[NSEW])\b)?"
)
_DE_WORDS = "straße|strasse|str\\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|markt|berg|hof"
_DE_STREET = re.compile(
    rf"(?<![\w-])(?:[A-ZÄÖÜ][\wäöüß-]{{0,30}}(?:{_DE_WORDS})|(?:[A-ZÄÖÜ][\wäöüß-]{{0,30}}\s){{1,2}}"
    rf"(?:{_DE_WORDS.title()}))\s?\d{{1,4}}(?:\s?[a-zA-Z](?![\w]))?(?![\d])"
)
"""A compound ("Hauptstraße 12", "Musterstr. 5a") or a street word of its own ("Berliner Allee 40", "Am Markt 3"),
as written: the suffix is lower case in a compound, capitalised alone, so "SPRING25" is no street."""
_FR_STREET = re.compile(
    r"(?<![\w-])\d{1,4}(?:\s?(?:bis|ter|quater|[A-Da-d])(?![\w]))?,?\s"
    r"(?i:rue|avenue|av\.|boulevard|bd|all[ée]e|chemin|impasse|place|quai|route|cours|passage|square|r[ée]sidence"
    r"|voie|sentier|faubourg|rond-point)\s(?:(?:de|du|des|la|le|les)\s|l'|d'){0,2}[\wÀ-ÿ'’-]{2,30}"
    r"(?:\s(?!\d)[A-ZÀ-Ý][\wÀ-ÿ'’-]{1,30}){0,3}"
)
_ES_STREET = re.compile(
    r"(?<![\w-])(?i:calle|c/|avenida|avda\.?|av\.|plaza|pza\.?|paseo|p[º°]|camino|carretera|ctra\.?|ronda"
    r"|traves[íi]a|glorieta|pasaje|v[íi]a|rambla|carrer|passeig)\s?(?:(?:de|del|la|las|los|el|d')\s){0,3}"
    r"[\wÁ-ú'’-]{2,30}(?:\s(?:(?:de|del|la|las|los|el)\s){0,2}[A-ZÁÉÍÓÚÑ][\wÁ-ú'’-]{1,30}){0,3},?\s"
    r"(?:n[º°o]\.?\s?)?\d{1,4}(?:\s?[A-Za-z](?![\w]))?(?:,\s?\d{1,2}\s?[º°ªo]\.?(?:\s?[A-Za-z]{1,4}\.?)?)?"
)
_PO_BOX = re.compile(
    r"(?<![\w-])(?:(?i:p\.?\s?o\.?\s?box|post\soffice\sbox|postfach|apartado(?:\sde\scorreos)?|apdo\.?"
    r"|bo[îi]te\spostale)|BP|B\.P\.|CS)\s?\d{1,6}(?:\s\d{2,6}){0,2}(?![\d])"
)
_UK_POSTCODE = re.compile(r"(?<![\w-])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}(?![\w])")
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH"
    "|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
_US_ZIP = re.compile(rf"(?<![\w-])(?:{_US_STATES}),?\s\d{{5}}(?:-\d{{4}})?(?![\d])")
_CUED_CODE = after(
    r"zip(?:\s?code)?|post\s?code|postal\scode|plz|postleitzahl|code\spostal|c[óo]digo\spostal|cp",
    r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?![\w])",
)
_CODE_BEFORE_TOWN = re.compile(
    r"(?<![\w.,-])(?:[A-Z]-)?(?P<v>\d{5})\s(?=[A-ZÄÖÜÉÈÁÍÓÚ][a-zäöüßéèêàçáíóúñ]{2,}(?<!Euro)(?<!Stück)(?<!Items)(?!\w*\d))"
)
"""A five-digit code before a capitalised word, as DE, FR and ES write a postcode before the town ("10115 Berlin")."""


def addresses(text: str) -> Iterator[Span]:
    """Street lines and PO boxes."""
    for pattern in (_PO_BOX, _EN_STREET, _DE_STREET, _FR_STREET, _ES_STREET):
        yield from matched(pattern, text, "ADDRESS")


def postcodes(text: str) -> Iterator[Span]:
    """UK postcodes, US state and ZIP, a code after its name, a five-digit code before a town."""
    for pattern in (_UK_POSTCODE, _US_ZIP, _CUED_CODE, _CODE_BEFORE_TOWN):
        yield from matched(pattern, text, "POSTCODE")
