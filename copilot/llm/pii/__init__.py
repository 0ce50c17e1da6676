"""Detectors of personal data, one module per kind, each linear in the text it reads.

Why not Presidio: its recognisers lean on a spaCy language model (``en_core_web_lg`` and one per
language), and those models are fetched from GitHub releases at run time, which this project's machines
cannot reach; without them Presidio is a set of regular expressions much like these, minus the checksums.
So the maintained parts are used directly: ``phonenumbers`` (Google's libphonenumber metadata) finds and
validates phone numbers per region, ``python-stdnum`` checks the checksums of cards (Luhn), IBANs (ISO
7064 mod 97) and national ids (US SSN, Spanish DNI/NIE, German tax ids, French NIR), and ``ipaddress``
validates IP addresses. What no library covers (spelled-out emails, secrets after a cue word, API tokens
by shape and entropy, street addresses, postcodes and PO boxes of US/UK/DE/FR/ES, passports, names after
"my name is") is matched here by patterns.

Every pattern is bounded: no quantified group holds another unbounded quantifier, and a pattern that could
start anywhere inside a long run starts only at the run's edge (a look-behind), so the work per start
position is capped and a 50 KB message costs time in proportion to its length.
"""
