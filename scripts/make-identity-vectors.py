#!/usr/bin/env python3
"""Writes Tests/IdentityTests/identity-vectors.tsv from the hand-written cases below and, for phone
numbers, from libphonenumber (PyPI phonenumbers 9.0.43): every region's example numbers in the forms
CRMs hold them (E.164, international, national, the country code without +, from abroad, with an
extension, ...), each expected as libphonenumber parses it.

Expected normalized forms are written here by hand from docs/design.md §5 (X "Custom Audiences User Data",
TikTok "List of supported IDs and formats for a customer file"); digests are computed with Python's
hashlib, an implementation independent of the Swift code under test.
Columns: destination, kind, default region ("-" for none), input (JSON string), expected normalized
text ("-" for a pre-hashed input), then the expected lowercase SHA-256 hex digest or "!<refusal reason>".
"""
import hashlib
import json
import os

B = "both"
ADS = hashlib.sha256(b"adsapi").hexdigest()

# (destinations, kind, region, input, expected for X, expected for TikTok)
# expected: normalized text, ("hash", digest) for pre-hashed, ("!", reason), or None (not sent).
def ok(text):
    return text

def bad(reason):
    return ("!", reason)

def pre(digest):
    return ("hash", digest)

cases = [
    # email: trim, lowercase; TikTok also drops +tag; dots kept by both
    ("email", None, "ada@example.com", ok("ada@example.com"), ok("ada@example.com")),
    ("email", None, "Ada@Example.COM", ok("ada@example.com"), ok("ada@example.com")),
    ("email", None, "  ada@example.com  ", ok("ada@example.com"), ok("ada@example.com")),
    ("email", None, "\tada@example.com\n", ok("ada@example.com"), ok("ada@example.com")),
    ("email", None, "\u00a0ada@example.com\u3000", ok("ada@example.com"), ok("ada@example.com")),
    ("email", None, "ada+ads@example.com", ok("ada+ads@example.com"), ok("ada@example.com")),
    ("email", None, "Ada+News+2@Example.com", ok("ada+news+2@example.com"), ok("ada@example.com")),
    ("email", None, "first.last@example.co.uk", ok("first.last@example.co.uk"), ok("first.last@example.co.uk")),
    ("email", None, "f.i.r.s.t@gmail.com", ok("f.i.r.s.t@gmail.com"), ok("f.i.r.s.t@gmail.com")),
    ("email", None, "JOSÉ@Exämple.de", ok("josé@exämple.de"), ok("josé@exämple.de")),
    ("email", None, "ÅSA+tag@Post.SE", ok("åsa+tag@post.se"), ok("åsa@post.se")),
    ("email", None, "user_name-1@sub.example.org", ok("user_name-1@sub.example.org"), ok("user_name-1@sub.example.org")),
    ("email", None, "+tag@example.com", ok("+tag@example.com"), bad("invalid-email")),
    ("email", None, "no-at-sign.example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "two@@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "a@b@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@localhost", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@example.", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@.example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada lovelace@example.com", bad("invalid-email"), bad("invalid-email")),
    # Unicode spaces, controls, invisible and private-use characters inside are refused too (whitespace around
    # the address is trimmed; other invisible characters there are refused like those inside)
    ("email", None, "ada\u00a0lovelace@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\u2003@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@exam\u200bple.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "\ufeffada@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\u0085@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\u007f@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@example\u3000.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\u3164@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\ufe0f@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\u034f@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\ue000@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada\ufffd@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@exa\u0378mple.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "ada@example.com, bob@example.com", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "   ", bad("invalid-email"), bad("invalid-email")),
    ("email", None, "", bad("invalid-email"), bad("invalid-email")),
    ("email", None, hashlib.sha256(b"ada@example.com").hexdigest().upper(), pre(hashlib.sha256(b"ada@example.com").hexdigest()), pre(hashlib.sha256(b"ada@example.com").hexdigest())),
    ("email", None, "  " + hashlib.sha256(b"x@y.com").hexdigest() + " ", pre(hashlib.sha256(b"x@y.com").hexdigest()), pre(hashlib.sha256(b"x@y.com").hexdigest())),
    ("email", None, hashlib.sha256(b"x").hexdigest()[:63], bad("invalid-email"), bad("invalid-email")),
    # phone: E.164 with + for X; digits with country code, no +, for TikTok
    ("phone", None, "+15551234567", ok("+15551234567"), ok("15551234567")),
    ("phone", None, "+1 (555) 123-4567", ok("+15551234567"), ok("15551234567")),
    ("phone", None, "+1.555.123.4567", ok("+15551234567"), ok("15551234567")),
    ("phone", None, " +1 555 123 4567 ", ok("+15551234567"), ok("15551234567")),
    ("phone", "DE", "001 555 123 4567", ok("+15551234567"), ok("15551234567")),
    ("phone", "FR", "0044 20 7946 0958", ok("+442079460958"), ok("442079460958")),
    ("phone", None, "0044 20 7946 0958", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+44 (0)20 7946 0958", ok("+442079460958"), ok("442079460958")),
    ("phone", None, "+49 30 901820", ok("+4930901820"), ok("4930901820")),
    ("phone", None, "+33 1 23 45 67 89", ok("+33123456789"), ok("33123456789")),
    ("phone", None, "+81-3-1234-5678", ok("+81312345678"), ok("81312345678")),
    ("phone", None, "+91 98765 43210", ok("+919876543210"), ok("919876543210")),
    ("phone", None, "+55 (11) 91234-5678", ok("+5511912345678"), ok("5511912345678")),
    ("phone", "US", "(657) 777-0000", ok("+16577770000"), ok("16577770000")),
    ("phone", "US", "657.777.0000", ok("+16577770000"), ok("16577770000")),
    ("phone", "US", "6577770000", ok("+16577770000"), ok("16577770000")),
    ("phone", "US", "+44 20 7946 0958", ok("+442079460958"), ok("442079460958")),
    ("phone", "GB", "07700 900123", ok("+447700900123"), ok("447700900123")),
    ("phone", "GB", "020 7946 0958", ok("+442079460958"), ok("442079460958")),
    ("phone", "DE", "030 901820", ok("+4930901820"), ok("4930901820")),
    ("phone", "FR", "01 23 45 67 89", ok("+33123456789"), ok("33123456789")),
    ("phone", "JP", "03-1234-5678", ok("+81312345678"), ok("81312345678")),
    ("phone", "BR", "(11) 91234-5678", ok("+5511912345678"), ok("5511912345678")),
    ("phone", None, "(657) 777-0000", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+1 555 CALL NOW", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", "US", "555-CALL", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+1 555", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+1234567890123456", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+0 555 123 4567", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "1+5551234567", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", "US", "", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", "US", "000", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, "+1/555/123/4567", ok("+15551234567"), ok("15551234567")),
    ("phone", None, "+1 555 123 4567 #", bad("invalid-phone"), bad("invalid-phone")),
    ("phone", None, hashlib.sha256(b"+15551234567").hexdigest(), pre(hashlib.sha256(b"+15551234567").hexdigest()), pre(hashlib.sha256(b"+15551234567").hexdigest())),
    # IDFA and GAID: lowercase, with dashes
    ("idfa", None, "AEBE52E7-03EE-455A-B3C4-E57283966239", ok("aebe52e7-03ee-455a-b3c4-e57283966239"), ok("aebe52e7-03ee-455a-b3c4-e57283966239")),
    ("idfa", None, " aebe52e7-03ee-455a-b3c4-e57283966239 ", ok("aebe52e7-03ee-455a-b3c4-e57283966239"), ok("aebe52e7-03ee-455a-b3c4-e57283966239")),
    ("idfa", None, "AEBE52E703EE455AB3C4E57283966239", ok("aebe52e7-03ee-455a-b3c4-e57283966239"), ok("aebe52e7-03ee-455a-b3c4-e57283966239")),
    ("idfa", None, "00000000-0000-0000-0000-000000000000", bad("zero-device-id"), bad("zero-device-id")),
    ("idfa", None, "00000000000000000000000000000000", bad("zero-device-id"), bad("zero-device-id")),
    ("idfa", None, "AEBE52E7-03EE-455A-B3C4", bad("invalid-device-id"), bad("invalid-device-id")),
    ("idfa", None, "GEBE52E7-03EE-455A-B3C4-E57283966239", bad("invalid-device-id"), bad("invalid-device-id")),
    ("idfa", None, "AEBE52E703-EE-455A-B3C4-E57283966239", bad("invalid-device-id"), bad("invalid-device-id")),
    ("idfa", None, "", bad("invalid-device-id"), bad("invalid-device-id")),
    ("gaid", None, "38400000-8CF0-11BD-B23E-10B96E40000D", ok("38400000-8cf0-11bd-b23e-10b96e40000d"), ok("38400000-8cf0-11bd-b23e-10b96e40000d")),
    ("gaid", None, "38400000-8cf0-11bd-b23e-10b96e40000d", ok("38400000-8cf0-11bd-b23e-10b96e40000d"), ok("38400000-8cf0-11bd-b23e-10b96e40000d")),
    ("gaid", None, "\t38400000-8cf0-11bd-b23e-10b96e40000d\t", ok("38400000-8cf0-11bd-b23e-10b96e40000d"), ok("38400000-8cf0-11bd-b23e-10b96e40000d")),
    ("gaid", None, "00000000-0000-0000-0000-000000000000", bad("zero-device-id"), bad("zero-device-id")),
    ("gaid", None, "38400000-8cf0-11bd-b23e", bad("invalid-device-id"), bad("invalid-device-id")),
    ("gaid", None, "not-a-device-id", bad("invalid-device-id"), bad("invalid-device-id")),
    ("gaid", None, hashlib.sha256(b"38400000-8cf0-11bd-b23e-10b96e40000d").hexdigest().upper(), pre(hashlib.sha256(b"38400000-8cf0-11bd-b23e-10b96e40000d").hexdigest()), pre(hashlib.sha256(b"38400000-8cf0-11bd-b23e-10b96e40000d").hexdigest())),
    # Android id: X only, lowercase, no dashes or spaces
    ("android_id", None, "9774d56d682e549c", ok("9774d56d682e549c"), None),
    ("android_id", None, "9774D56D682E549C", ok("9774d56d682e549c"), None),
    ("android_id", None, "9774-d56d-682e-549c", ok("9774d56d682e549c"), None),
    ("android_id", None, " 9774 d56d 682e 549c ", ok("9774d56d682e549c"), None),
    ("android_id", None, "9774d56d682e549z", bad("invalid-device-id"), None),
    ("android_id", None, "1234", bad("invalid-device-id"), None),
    # X handle: X only, trim, no @, lowercase
    ("x_handle", None, "@AdsAPI", ok("adsapi"), None),
    ("x_handle", None, "AdsAPI", ok("adsapi"), None),
    ("x_handle", None, "  @adsapi ", ok("adsapi"), None),
    ("x_handle", None, "@Jack_Dorsey1", ok("jack_dorsey1"), None),
    ("x_handle", None, "@", bad("invalid-handle"), None),
    ("x_handle", None, "@@adsapi", bad("invalid-handle"), None),
    ("x_handle", None, "@ads api", bad("invalid-handle"), None),
    ("x_handle", None, "@this_is_too_long_1", bad("invalid-handle"), None),
    ("x_handle", None, "@ads-api", bad("invalid-handle"), None),
    ("x_handle", None, ADS.upper(), pre(ADS), None),
    # X id: X only, decimal integer, no spaces
    ("x_id", None, "783214", ok("783214"), None),
    ("x_id", None, " 783214 ", ok("783214"), None),
    ("x_id", None, "783 214", ok("783214"), None),
    ("x_id", None, "0783214", ok("783214"), None),
    ("x_id", None, "1234567890123456789", ok("1234567890123456789"), None),
    ("x_id", None, "78321a", bad("invalid-x-id"), None),
    ("x_id", None, "-783214", bad("invalid-x-id"), None),
    ("x_id", None, "", bad("invalid-x-id"), None),
]

# Phones: libphonenumber decides. Every hand-written phone case above is checked against it, then
# every region's example mobile and fixed-line numbers are written in the forms CRMs hold them.
try:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType, NumberParseException
    from phonenumbers.phonenumberutil import ValidationResult
except ImportError:
    raise SystemExit("make-identity-vectors: python3 -m pip install phonenumbers==9.0.43 (the pin of scripts/make-phone-metadata.py)")
if phonenumbers.__version__ != "9.0.43":
    raise SystemExit(f"make-identity-vectors: phonenumbers {phonenumbers.__version__} installed; the vectors are pinned to 9.0.43")


from phonenumbers import phonenumberutil


def letters_outside_extension(value):
    """Whether `value` has a letter where libphonenumber would read one as part of the number (or before it):
    CohortSync refuses those, where libphonenumber reads vanity numbers (1-800-FLOWERS) as digits."""
    start = phonenumberutil._VALID_START_CHAR_PATTERN.search(value)
    if start is None or len(value) > phonenumberutil._MAX_INPUT_STRING_LENGTH:
        return False
    if any(ch.isalpha() for ch in value[:start.start()]):
        return True
    try:
        national = phonenumberutil._build_national_number_for_parsing(value)
    except NumberParseException:
        return False
    _, main = phonenumberutil._maybe_strip_extension(national)
    return any(ch.isalpha() for ch in main)


def libphonenumber(value, region):
    """E.164 as libphonenumber parses `value` for `region`, or None where CohortSync must refuse it:
    unparseable, a letter outside the extension, or a length that is not a possible full national number
    (local-only lengths included, since they cannot be written as E.164)."""
    if letters_outside_extension(value):
        return None
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_case(region, value):
    e164 = libphonenumber(value, region)
    if e164 is None:
        return ("phone", region, value, bad("invalid-phone"), bad("invalid-phone"))
    return ("phone", region, value, ok(e164), ok(e164[1:]))


disagreements = []
for case in cases:
    kind, region, value, x_expected, _ = case
    if kind != "phone" or isinstance(x_expected, tuple) and x_expected[0] == "hash":
        continue
    checked = phone_case(region, value)
    if checked[3] != x_expected:
        disagreements.append(f"{value!r} ({region}): written {x_expected}, libphonenumber says {checked[3]}")
if disagreements:
    raise SystemExit("make-identity-vectors: hand-written phone cases disagree with libphonenumber:\n  " + "\n  ".join(disagreements))

generated = []
for region in sorted(phonenumbers.SUPPORTED_REGIONS):
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None or not phonenumbers.is_valid_number(example):
            continue
        code = str(example.country_code)
        nsn = phonenumbers.national_significant_number(example)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        forms = [
            (None, phonenumbers.format_number(example, PhoneNumberFormat.E164)),
            (region, phonenumbers.format_number(example, PhoneNumberFormat.E164)),
            (region, phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)),
            (region, national),
            (region, code + nsn),
            (region, national + " ext. 123"),
            ("US", phonenumbers.format_out_of_country_calling_number(example, "US")),
            ("DE", phonenumbers.format_out_of_country_calling_number(example, "DE")),
        ]
        if code == "1":
            forms.append((region, "1 " + national))
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata.national_prefix == "0" and national.startswith("0"):
            forms.append((None, f"+{code} (0){national[1:]}"))
        if kind == PhoneNumberType.MOBILE:
            forms += [
                (None, national),
                (region, f"+{code} {nsn[:2]}"),
                (region, f"+{code} {nsn}987654321"),
                (region, f"+0{nsn}"),
                (region, "+"),
            ]
        for form_region, value in forms:
            generated.append(phone_case(form_region, value))
# The text around a number as CRMs and people write it: punctuation, Unicode, extensions of every shape.
TEXT_FORMS = [
    "{n} x..12", "{n} x - . 12", "{n} x-.12", "{n} ext..12", "{n} ext:.12", "{n} ext.:12", "{n} x::12", "{n} x :-. 12",
    "{n} ext. 123", "{n} ext 12", "{n} extension 12", "{n} extn 12", "{n};ext=12", "{n} ext, 12", "{n} ext\t12",
    "{n}, ext 12", "{n},,12", "{n},12", "{n};12", "{n} ext 1234567890", "{n} ext 123456789012345678901", "{n} x1234567890",
    "{n} 12#", "{n} ext 12#", "{n} x12#", "{n} #12", "{n} ~12", "{n} int 12", "{n} anexo 12", "{n} ext 1 2", "{n} (x12)", "{n} [x12]",
    "{n}!", "{n}:", "{n};", "{n}*", "{n}+", "'{n}'", "\"{n}\"", "*{n}", "#{n}", ":{n}", "({n})", "[{n}]",
    "{t}", "{d}", "{s}", "{z}", "tel:{n}", "{n} / x 12", "{n}/x12",
    "-" * 240 + "{n}", "(" * 120 + "{n}" + ")" * 120,
]


def text_variants(national, international):
    forms = []
    for base in (national, international):
        tab = base.replace(" ", "\t", 1)
        nbsp = base.replace(" ", "\u00a0")
        dashes = base.replace(" ", "\u2010").replace("-", "\u2013")
        wide = "".join(chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else ("\uff0b" if c == "+" else c) for c in base)
        arabic = "".join(chr(ord(c) - ord("0") + 0x0660) if c.isdigit() else c for c in base)
        soft = base.replace(" ", "\u00ad")
        for template in TEXT_FORMS:
            forms.append(template.format(n=base, t=tab, d=nbsp, s=dashes + " " + soft, z=wide + " " + arabic))
        forms += [wide, arabic, "\u200b" + base, "++" + base.lstrip("+"), base.replace(" ", "*"), base.replace(" ", "~"), base + " \uff45\uff58\uff54 12", base + " \uff0312"]
    return forms


for region in ("US", "DE", "IT", "AT", "GB", "FR", "BR", "AR"):
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
        for value in text_variants(national, international):
            generated.append(phone_case(region, value))
for vanity in ("1-800-FLOWERS", "+1 800 FLOWERS", "650x253x0000", "1 (650) 253-0000 ext 12 and 13", "650 253 0000 ext\u00f3n 12"):
    generated.append(phone_case("US", vanity))

seen = set()
for case in generated:
    if (case[1], case[2]) not in seen:
        seen.add((case[1], case[2]))
        cases.append(case)

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "IdentityTests", "identity-vectors.tsv")
rows = []
for kind, region, value, x_expected, tiktok_expected in cases:
    for destination, expected in (("x", x_expected), ("tiktok", tiktok_expected)):
        if expected is None:
            normalized, result = "-", "!not-sent"
        elif isinstance(expected, tuple) and expected[0] == "!":
            normalized, result = "-", "!" + expected[1]
        elif isinstance(expected, tuple):
            normalized, result = "-", expected[1]
        else:
            normalized, result = expected, hashlib.sha256(expected.encode("utf-8")).hexdigest()
        rows.append("\t".join([destination, kind, region or "-", json.dumps(value, ensure_ascii=False), normalized, result]))
with open(out, "w", encoding="utf-8") as handle:
    handle.write("# destination\tkind\tregion\tinput (JSON)\tnormalized\tdigest or !reason — generated by scripts/make-identity-vectors.py\n")
    handle.write("\n".join(rows) + "\n")
print(f"{len(rows)} vectors written to {os.path.normpath(out)}")
