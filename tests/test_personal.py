"""The one masking rule for personal data: numbers show their first 3 and last 4 digits from
11 digits up and nothing below; names their first and last character."""

import pytest

from app.people import (Finding, find_numbers, highlight_numbers, mask_name, mask_number,
                        mask_numbers_in_text)

NUMBERS = [
    ("13812345678", "138****5678"),                       # a mobile
    ("138 1234 5678", "138****5678"),                     # separators dropped
    ("11010519491231002X", "110***********002X"),         # an ID number: 18 characters, X last
    ("11010519491231002x", "110***********002X"),
    ("440304198001010017", "440***********0017"),
    ("6222 0212 3456 7890 123", "622************0123"),   # a 19-digit bank card
    ("6222021234567890", "622*********7890"),             # a 16-digit one
    ("12345678901", "123****8901"),                       # 11 digits: the shortest that shows any
    ("1234567890", "**********"),                         # 10 digits: none shows
    ("8888 6666", "********"),                            # a landline
    ("1234567", "*******"),
]


@pytest.mark.parametrize(("number", "shown"), NUMBERS)
def test_a_number_shows_its_first_3_and_last_4_digits_from_11_digits_up(number, shown):
    assert mask_number(number) == shown


@pytest.mark.parametrize(("number", "shown"), [(n, s) for n, s in NUMBERS if len(s) >= 11])
def test_a_number_in_a_text_is_masked_by_the_same_rule(number, shown):
    assert mask_numbers_in_text(f"电话 {number} 谢谢") == f"电话 {shown} 谢谢"


def test_several_numbers_in_one_text_are_each_masked_where_they_stand():
    text = "王 13812345678，李 139 0077 4242，身份证 11010519491231002X，卡 6222 0212 3456 7890 123，3号楼1203室"
    assert mask_numbers_in_text(text) == (
        "王 138****5678，李 139****4242，身份证 110***********002X，卡 622************0123，3号楼1203室")
    assert find_numbers(mask_numbers_in_text(text)) == []


@pytest.mark.parametrize(("text", "shown"), [
    ("一三八一二三四五六七八", "138****5678"),                 # Chinese numerals: digits show as digits
    ("+86 138 1234 5678", "+86 138****5678"),               # the country code is no part of the number
    ("１３８１２３４５６７８ and 13900774242", "138****5678 and 139****4242"),
    ("2026年11月25日下午3点，3号楼1203室", "2026年11月25日下午3点，3号楼1203室"),
    ("订单号 1234567890", "订单号 1234567890"),               # ordinary numbers in a text pass
    ("", ""),
])
def test_numbers_however_written_are_masked_and_ordinary_ones_kept(text, shown):
    assert mask_numbers_in_text(text) == shown


def test_shorter_runs_are_found_and_hidden_whole_when_asked_for():
    text = "座机 8888 6666，手机 13812345678"
    assert [f.reason for f in find_numbers(text)] == ["mobile"]
    found = find_numbers(text, shortest_run=7)
    assert [f.reason for f in found] == ["long-number", "mobile"]
    assert mask_numbers_in_text(text, found) == "座机 ********，手机 138****5678"


def test_part_of_a_number_split_over_texts_shows_no_digit():
    text = "联系 1381234"
    part = Finding("split-number", 3, 10, "", [(k, k + 1) for k in range(3, 10)], partial=True)
    assert mask_numbers_in_text(text, [part]) == "联系 *******"


def test_a_field_shows_its_own_part_of_a_number_found_across_fields():
    fields = ["电话 138 1234", "5678 王"]
    joined = "\n".join(fields)
    findings = find_numbers(joined)
    assert [f.reason for f in findings] == ["mobile"]
    first = mask_numbers_in_text(fields[0], findings)
    second = mask_numbers_in_text(fields[1], findings, offset=len(fields[0]) + 1)
    assert (first, second) == ("电话 138****", "5678 王")


@pytest.mark.parametrize(("name", "shown"), [
    ("王", "王"),                    # one character: nothing to hide without hiding the name
    ("张三", "张*"),
    ("张三明", "张*明"),
    ("欧阳娜娜", "欧**娜"),
    ("司马相如是", "司***是"),
    (" 张  三丰 ", "张*丰"),         # spaces typed inside a Chinese name
    ("李 四", "李*"),
    ("John Smith", "J*** S****"),    # Latin words: the first letter of each
    ("Anna", "A**a"),
    ("", ""),
    (None, ""),
])
def test_a_name_shows_its_first_and_last_character(name, shown):
    assert mask_name(name) == shown


def test_moderators_see_masked_numbers_marked_and_the_text_escaped():
    shown = highlight_numbers("<b>王</b> 138****5678 与 110***********002X")
    assert str(shown) == ("&lt;b&gt;王&lt;/b&gt; <mark>138****5678</mark> 与 "
                          "<mark>110***********002X</mark>")
