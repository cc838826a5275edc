"""Phone and ID numbers however they are written; masking; watched words."""

import pytest

from app.people import find_numbers, mask_numbers_in_text
from app.wall import checks

HELD_FORMS = [
    ("13812345678", "mobile"),
    ("我的电话13812345678", "mobile"),
    ("138 1234 5678", "mobile"),
    ("138-1234-5678", "mobile"),
    ("138.1234.5678", "mobile"),
    ("(138)12345678", "mobile"),
    ("１３８１２３４５６７８", "mobile"),            # full-width digits
    ("１３８ １２３４ ５６７８", "mobile"),
    ("+86 138 1234 5678", "mobile"),
    ("+8613812345678", "mobile"),
    ("８６－１３８１２３４５６７８", "mobile"),
    ("一三八一二三四五六七八", "mobile"),             # Chinese numerals
    ("幺三八 幺二三四 五六七八", "mobile"),            # as read aloud
    ("壹叁捌壹贰叁肆伍陆柒捌", "mobile"),             # financial numerals
    ("电话：159-0000-1111 王", "mobile"),
    ("11010519491231002X", "id-number"),             # valid checksum
    ("11010519491231002x", "id-number"),
    ("身份证 110105 19491231 002X", "id-number"),
    ("440304198001010017", "id-number"),
    ("５１０１０７１９８５０６１５１２３３", "id-number"),
    ("110105199902300015", "long-number"),           # right check digit, but 30 February
    ("110105199902280018", "id-number"),
    ("110105194912310021", "long-number"),           # bad checksum: not an ID, still 11+ digits
    ("440524198001010014", "long-number"),
    ("6222 0212 3456 7890 123", "long-number"),       # a bank card
    ("12345678901", "long-number"),                   # 11 digits, not a mobile (starts 12)
    ("01088886666 转 123", "long-number"),
]

PASSING = [
    "3号楼1203室",
    "电话找居委会",
    "2026年11月25日下午3点",
    "订单号 1234567890",     # 10 digits
    "12345",
    "一起去公园吧",
    "12315 消费者热线",
]


@pytest.mark.parametrize(("text", "reason"), HELD_FORMS)
def test_numbers_are_found_however_written(text, reason):
    findings = find_numbers(text)
    assert [finding.reason for finding in findings] == [reason]
    assert checks.check(text, []).hold


@pytest.mark.parametrize("text", PASSING)
def test_ordinary_text_passes(text):
    assert find_numbers(text) == []
    assert not checks.check(text, []).hold


def test_bad_checksums_are_not_taken_for_id_numbers():
    assert [f.reason for f in find_numbers("11010519491231002X")] == ["id-number"]
    for wrong in ("110105194912310020", "110105194912310021", "11010519491231002Y"):
        assert "id-number" not in [f.reason for f in find_numbers(wrong)]


@pytest.mark.parametrize(("text", "shown"), [
    ("我的电话13812345678，谢谢", "我的电话138****5678，谢谢"),
    ("call 138 1234 5678 now", "call 138****5678 now"),
    ("１３８１２３４５６７８", "138****5678"),
    ("ID 11010519491231002X", "ID 110***********002X"),
    ("no numbers here", "no numbers here"),
])
def test_numbers_are_masked_where_they_stand(text, shown):
    assert mask_numbers_in_text(text) == shown


def test_original_text_is_kept_and_normalised_copy_checked():
    result = checks.check("电话：一三八一二三四五六七八", [])
    assert result.normalised == "电话:13812345678"
    assert result.reasons == ["mobile"]


@pytest.mark.parametrize("text", ["需要贷款的找我", "需 要 贷 款", "需要貸款", "需要-贷-款", "ＤＡＩ贷款"])
def test_watched_words_cope_with_spaces_punctuation_and_traditional_forms(text):
    watched = [(checks.word_key("贷款"), "hold")]
    result = checks.check(text, watched)
    assert result.hold and result.flags == [checks.word_key("贷款")]


def test_word_actions():
    watched = [(checks.word_key("代开发票"), "block"), (checks.word_key("加微信"), "flag")]
    assert checks.check("代 開 發 票", watched).blocked_by
    flagged = checks.check("加微信聊", watched)
    assert not flagged.hold and not flagged.blocked_by and flagged.flags
