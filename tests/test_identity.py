"""One person, one pseudonym: every written form of one phone number or citizen ID gives one hash
(lensan.landing.identity, hashed by lensan.landing.pseudonymise), in every landing path."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from lensan.landing import identity
from lensan.landing.pseudonymise import Pseudonymiser, normalise, pseudonymise

pytestmark = pytest.mark.unit

KEY = b"identity-test-key"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------- strategies

@st.composite
def vn_mobiles(draw) -> str:
    """The 9-digit national number of a valid Vietnamese mobile (what follows the 0)."""
    nsn = draw(st.sampled_from("35789")) + draw(st.text("0123456789", min_size=8, max_size=8))
    number = phonenumbers.parse("0" + nsn, identity.REGION)
    assume(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE)
    return nsn


@st.composite
def grouped(draw, digits: str) -> str:
    """`digits` cut into groups joined by one separator people type (space, dot, dash)."""
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    sep = draw(st.sampled_from([" ", ".", "-"]))
    bounds = [0, *cuts, len(digits)]
    return sep.join(digits[a:b] for a, b in zip(bounds, bounds[1:]))


@st.composite
def written_forms(draw, nsn: str) -> object:
    """One of the ways a mobile is written in a register, a form or an extract."""
    kind = draw(st.sampled_from(["0", "+84", "+84 ", "0084", "0084 ", "+84 (0) ", "+84(0)", "(0", "bare",
                                 "int", "float", "84-int", "float-text", "84"]))
    if kind == "int":
        return int(nsn)                         # an XLSX number cell: the 0 is lost
    if kind == "float":
        return float(nsn)                       # the same cell read as a float (971074803.0)
    if kind == "84-int":
        return int("84" + nsn)                  # '+84…' typed in a number cell: the + is lost
    if kind == "float-text":
        return f"{nsn}.0"                       # a number cell exported as text
    body = draw(grouped(nsn))
    if kind == "bare":
        return body                             # CSV text that lost its 0
    if kind == "(0":
        return f"(0{nsn[:2]}) {nsn[2:5]}-{nsn[5:]}"
    return kind + body


@st.composite
def cccds(draw) -> str:
    province = draw(st.integers(1, 96))
    return f"{province:03d}" + draw(st.text("0123456789", min_size=9, max_size=9))


# --------------------------------------------------------------------------------------------- phones

@FAST
@given(st.data())
def test_every_written_form_of_a_mobile_gives_one_pseudonym(data):
    nsn = data.draw(vn_mobiles())
    forms = [data.draw(written_forms(nsn)) for _ in range(6)]
    hasher = Pseudonymiser(KEY)
    expected = pseudonymise("phone", "0" + nsn, key=KEY)
    for form in forms:
        assert identity.phone(form) == "0" + nsn, form
        assert pseudonymise("phone", form, key=KEY) == expected, form
        assert hasher("phone", form) == expected, form
    # the fast landing path (a column of text as read from an extract): the same canonical text
    texts = [str(f) for f in forms]
    assert identity.phone_series(pl.Series("p", texts)).to_list() == ["0" + nsn] * len(texts)


def test_the_forms_from_the_issue_link():
    forms = ["+84 (0) 971 074 803", "0971 074 803", "0971.074.803", "0971-074-803", "(097) 107-4803",
             "+84971074803", "84971074803", "0084 971074803", "971074803", 971074803, 971074803.0,
             "971074803.0", 84971074803]
    assert {identity.phone(f) for f in forms} == {"0971074803"}
    assert identity.phone("0084 345963856") == identity.phone(345963856) == "0345963856"


def test_canonical_text_is_what_was_hashed_before_for_the_usual_spellings():
    """Pseudonyms already in a warehouse stay valid: `0` + 9 digits is the text hashed, as before."""
    expected = hmac.new(KEY, b"phone:0912345678", hashlib.sha256).hexdigest()
    for form in ("0912345678", "0912 345 678", "+84912345678", "+84 912 345 678"):
        assert pseudonymise("phone", form, key=KEY) == expected


def test_foreign_invalid_and_blank_phones():
    assert identity.phone("+66 81 234 5678") == "+66812345678"          # foreign: E.164
    assert identity.phone("0066 81 234 5678") == "+66812345678"
    # not a valid number: kept (never dropped), its digits, hashed like any other
    assert identity.phone("12345") == "12345"
    assert identity.phone("0123 456 7890") == "01234567890"             # an old 11-digit mobile
    assert identity.phone("0971074803/0912345678") == "09710748030912345678"
    assert pseudonymise("phone", "12-345", key=KEY) == pseudonymise("phone", "12345", key=KEY) is not None
    for blank in (None, "", "   ", "không có"):
        assert identity.phone(blank) is None
        assert pseudonymise("phone", blank, key=KEY) is None


def test_unicode_digits_are_the_same_number():
    assert identity.phone("０９７１０７４８０３") == "0971074803"
    assert identity.phone("٠٩٧١٠٧٤٨٠٣") == "0971074803"


@FAST
@given(st.lists(st.text(alphabet="0123456789+ .-()x/\t٣０", max_size=16), min_size=1, max_size=20),
       st.lists(vn_mobiles(), max_size=5))
def test_the_vectorised_path_is_the_exact_function(texts, mobiles):
    """phone_series decides the usual spellings by a pattern and the rest by `phone`: the same answer."""
    values = texts + ["0" + m for m in mobiles] + ["+84" + m for m in mobiles] + [f"+84 {m[:3]} {m[3:]}" for m in mobiles]
    assert identity.phone_series(pl.Series("p", values)).to_list() == [identity.phone(v) for v in values]


def test_the_usual_pattern_agrees_with_phonenumbers_on_every_prefix():
    """Every 3-digit start of a 9-digit national number, a few endings each: where the pattern says
    valid, phonenumbers reads the same number and calls it valid."""
    for start in range(1000):
        for end in ("000000", "123456", "999999", "505050"):
            nsn = f"{start:03d}{end}"
            if identity.valid_9_digit_national(nsn):
                for form in ("0" + nsn, "+84" + nsn):
                    number = phonenumbers.parse(form, identity.REGION)
                    assert phonenumbers.is_valid_number(number), form
                    assert phonenumbers.national_significant_number(number) == nsn, form


OWNER_PHONES = ["+84 (0) 971 074 803", "971074803", "0971.074.803", "0084 971074803", "", "12345",
                "+66 81 234 5678", "٠٩٧١٠٧٤٨٠٣"]


@pytest.mark.parametrize("platform", ["postmart", "voso"])
def test_both_landing_paths_of_an_extract_give_the_pseudonyms(tmp_path, platform):
    """The fast COPY path (vectorised) and the reference reader (value by value) of a shops extract."""
    from lensan.landing.platforms import fast, reference, spec

    if platform == "postmart":
        path = tmp_path / "postmart_gian_hang_20241118.csv"
        headings = [h for h, _, _ in spec.POSTMART["gian_hang"][1]]
        rows = [[f"PMGH{i}", phone, "", "07090", "18/11/2024 08:00:00", "Có", "Hoạt động"]
                for i, phone in enumerate(OWNER_PHONES)]
        path.write_text("\n".join(";".join(r) for r in [headings, *rows]) + "\n", encoding="utf-8-sig")
    else:
        import gzip
        import json

        path = tmp_path / "voso_shops_2024-11-18.jsonl.gz"
        path.write_bytes(gzip.compress("".join(json.dumps(
            {"shop_id": f"VSSH{i}", "owner_phone": phone, "household_code": None, "ward_code": "07090",
             "created_at": "2024-11-18T01:00:00Z", "has_ewallet": True, "status": "active"}) + "\n"
            for i, phone in enumerate(OWNER_PHONES)).encode("utf-8")))
    extract = spec.describe(path.name)
    column = extract.columns.index("owner_phone_hash")
    expected = [pseudonymise("phone", p, key=KEY) for p in OWNER_PHONES]
    assert [r[column] for r in reference.records(path, extract, Pseudonymiser(KEY))] == expected
    fast_rows = []
    for _, data in fast.copy_chunks(path, extract, Pseudonymiser(KEY), prefix="1\t2024-11-18"):
        fast_rows += [line.split("\t")[2 + column] or None for line in data.decode("utf-8").splitlines()]
    assert fast_rows == expected
    assert expected[0] == expected[1] == expected[2] == expected[3] == expected[7] != expected[5]


# --------------------------------------------------------------------------------------- citizen IDs

@FAST
@given(cccds(), st.data())
def test_every_written_form_of_a_cccd_gives_one_pseudonym(cccd, data):
    grouped_form = data.draw(grouped(cccd))
    forms = [cccd, grouped_form, f"CCCD: {grouped_form}", int(cccd), float(int(cccd)), str(int(cccd)),
             f"{int(cccd)}.0"]
    expected = pseudonymise("citizen_id", cccd, key=KEY)
    assert expected == hmac.new(KEY, f"citizen_id:{cccd}".encode(), hashlib.sha256).hexdigest()
    for form in forms:
        assert identity.citizen_id(form) == cccd, form
        assert pseudonymise("citizen_id", form, key=KEY) == expected, form


@FAST
@given(st.text("0123456789", min_size=9, max_size=9), cccds())
def test_a_cmnd_is_never_a_cccd(cmnd, cccd):
    canonical = identity.citizen_id(cmnd)
    assert canonical == identity.CMND_PREFIX + cmnd
    assert pseudonymise("citizen_id", cmnd, key=KEY) != pseudonymise("citizen_id", cccd, key=KEY)
    assert pseudonymise("citizen_id", cmnd, key=KEY) != pseudonymise("citizen_id", cmnd.zfill(12), key=KEY)
    if not cmnd.startswith("00"):               # a number cell that lost one leading 0 is still that CMND
        assert identity.citizen_id(int(cmnd)) == canonical


def test_citizen_id_rules():
    assert identity.citizen_id("1234567890") == "001234567890"          # province 001, two zeros lost
    assert identity.citizen_id(12345678901) == "012345678901"           # province 012, one zero lost
    assert identity.citizen_id("012345678") == "cmnd:012345678"         # old 9-digit CMND, its own kind
    assert identity.citizen_id(12345678) == "cmnd:012345678"            # ... that lost its leading 0
    assert identity.citizen_id("123456789012") == "other:123456789012"  # 12 digits, no province 1xx
    assert identity.citizen_id("097123456789") == "other:097123456789"  # no province 097
    assert identity.citizen_id("0123456789") == "other:0123456789"      # 10 digits that kept a 0: not lost zeros
    assert identity.citizen_id("123") == "other:123"                    # kept, never dropped
    for blank in (None, "", "  ", "chưa cấp"):
        assert identity.citizen_id(blank) is None
        assert pseudonymise("citizen_id", blank, key=KEY) is None


def test_normalise_is_idempotent_on_canonical_text():
    for kind, value in (("phone", "0971074803"), ("phone", "+66812345678"), ("phone", "12345"),
                        ("citizen_id", "001234567890"), ("citizen_id", "cmnd:012345678"),
                        ("citizen_id", "other:123")):
        assert normalise(kind, normalise(kind, value)) == normalise(kind, value)
