"""Share to the group (app/share.py): the poster's QR code reads back at full and phone size, its
Chinese is drawn in a font that has it (never as empty boxes), long text wraps and ends in "…",
and the text to paste is exactly two lines.

These tests need a Simplified-Chinese font (Debian's fonts-noto-cjk); without one they fail."""

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from app import share
from app.share import PosterUnavailable, find_font, load_font, missing_glyphs, poster_png, share_text, wrap

COMMUNITY = "阳光花园社区"
TITLE = "乐高机器人编程（少儿）"
LINES = ["时间：12月8日 周二 09:30", "地点：活动室"]
URL = "http://192.168.1.20:8000/c/main/classes/3"
CAPTION = "用手机扫码报名"
NOT_IN_CJK_FONTS = "\U00010000"  # 𐀀 LINEAR B SYLLABLE B008 A
TITLE_ROW = (0, share.TITLE_TOP, share.WIDTH, share.TITLE_TOP + round(share.TITLE_SIZE * 1.3))
NO_FONT = "no Simplified-Chinese font found: install Debian's fonts-noto-cjk (CI does) or set LINLI_CJK_FONT"


@pytest.fixture
def fresh_font_lookup():
    share.find_font.cache_clear()
    yield
    share.find_font.cache_clear()


def poster(**changes) -> Image.Image:
    fields = {"community": COMMUNITY, "title": TITLE, "lines": LINES, "url": URL, "caption": CAPTION} | changes
    image = Image.open(io.BytesIO(poster_png(**fields)))
    assert image.format == "PNG"
    return image.convert("RGB")


def read_qr(image: Image.Image) -> str:
    codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode, \
        f"expected one QR code, read {[(code.format, code.text) for code in codes]}"
    return codes[0].text


def dark_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    region = image.crop(box).convert("L")
    return sum(value < 128 for value in region.tobytes()) / (region.width * region.height)


def as_on_a_phone(image: Image.Image) -> Image.Image:
    return image.resize((360, round(image.height * 360 / image.width)))


def test_a_chinese_font_is_installed():
    assert find_font() is not None, NO_FONT
    assert find_font(bold=True) is not None, NO_FONT
    for bold in (False, True):
        path = find_font(bold)
        assert Path(path).is_file()
        assert missing_glyphs("邻里社区乐高机器人编程", load_font(40, bold=bold)) == []
        if Path(path).name.startswith("Noto"):
            assert "SC" in load_font(40, bold=bold).getname()[0].split()


def test_the_poster_is_a_portrait_png_whose_qr_code_reads_back():
    image = poster()

    assert image.size == (share.WIDTH, share.HEIGHT)
    assert read_qr(image) == URL


def test_the_qr_code_reads_back_at_the_size_a_phone_shows_the_poster():
    assert read_qr(as_on_a_phone(poster())) == URL


def test_the_found_font_has_the_posters_chinese():
    title_font, line_font = load_font(share.TITLE_SIZE, bold=True), load_font(share.LINE_SIZE)

    assert missing_glyphs(TITLE, title_font) == []
    assert missing_glyphs("".join(LINES) + CAPTION + COMMUNITY, line_font) == []
    assert missing_glyphs("\u3000 \n\t", line_font) == []


def test_a_character_the_font_lacks_is_reported_once():
    for font in (load_font(share.TITLE_SIZE, bold=True), load_font(share.LINE_SIZE)):
        assert missing_glyphs(f"邻里{NOT_IN_CJK_FONTS}a{NOT_IN_CJK_FONTS}", font) == [NOT_IN_CJK_FONTS]


@pytest.mark.parametrize("field", ["title", "lines", "community", "caption"])
def test_no_poster_rather_than_empty_boxes(field):
    text = f"编程{NOT_IN_CJK_FONTS}课"
    with pytest.raises(PosterUnavailable) as raised:
        poster(**{field: [text] if field == "lines" else text})

    assert raised.value.characters == [NOT_IN_CJK_FONTS]


def test_a_short_link_makes_a_full_qr_code_not_a_micro_one():
    assert read_qr(poster(url="http://a.cn/")) == "http://a.cn/"


@pytest.mark.parametrize("length", [2000, 3000])
def test_no_poster_for_a_link_too_long_to_scan(length):
    with pytest.raises(PosterUnavailable, match="too long"):
        poster(url="http://192.168.1.20:8000/c/main/classes/3?q=" + "a" * length)


def test_no_font_means_no_poster(monkeypatch):
    monkeypatch.setattr(share, "find_font", lambda bold=False: None)

    with pytest.raises(PosterUnavailable, match="fonts-noto-cjk"):
        poster()


def test_the_title_is_drawn():
    image = poster()

    assert dark_share(image, TITLE_ROW) > 0.02
    other = poster(title="太极拳入门（中老年）")
    assert ImageChops.difference(image.crop(TITLE_ROW), other.crop(TITLE_ROW)).getbbox() is not None


def test_the_community_is_white_on_the_accent_band():
    band = poster().crop((0, 0, share.WIDTH, share.BAND_HEIGHT))
    colours = {colour: count for count, colour in band.getcolors(band.width * band.height)}

    assert max(colours, key=colours.get) == (0xB8, 0x32, 0x2A)
    assert colours.get((255, 255, 255), 0) > 0.02 * band.width * band.height


def test_a_long_title_wraps_over_three_rows_ending_in_an_ellipsis():
    title = "社区乐高机器人编程兴趣班" * 17
    font = load_font(share.TITLE_SIZE, bold=True)

    rows = wrap(title, font, share.CONTENT_WIDTH, share.TITLE_ROWS)

    assert len(title) > 200 and len(rows) == 3
    assert rows[-1].endswith("…") and title.startswith("".join(rows).removesuffix("…"))
    assert all(font.getlength(row) <= share.CONTENT_WIDTH for row in rows)


def test_a_long_title_makes_a_poster_of_the_same_size_that_still_reads():
    image = poster(title="社区乐高机器人编程兴趣班" * 17, lines=[line * 6 for line in LINES] * 4)

    assert image.size == (share.WIDTH, share.HEIGHT)
    assert dark_share(image, (share.WIDTH - share.MARGIN + 4, share.BAND_HEIGHT, share.WIDTH, share.HEIGHT)) == 0
    assert read_qr(image) == URL
    assert read_qr(as_on_a_phone(image)) == URL


def test_latin_wraps_at_spaces():
    text = "Lego robotics for children aged eight to twelve, bring a laptop if you have one"
    font = load_font(share.LINE_SIZE)

    rows = wrap(text, font, 300, 10)

    assert len(rows) > 2 and " ".join(rows) == text
    assert all(font.getlength(row) <= 300 for row in rows)


def test_chinese_wraps_between_any_characters_but_not_before_a_closing_mark():
    font = load_font(share.LINE_SIZE)
    text = "一二三，四五六七八九十（少儿）"

    rows = wrap(text, font, round(font.getlength("一二三")), 10)

    assert "".join(rows) == text and len(rows) > 3
    assert not any(row[0] in "，）" or row[-1] == "（" for row in rows)


def test_a_word_wider_than_a_row_breaks_anywhere():
    text = "http://192.168.1.20:8000/c/main/classes/3" * 3
    font = load_font(share.LINE_SIZE)

    rows = wrap(text, font, 200, 20)

    assert "".join(rows) == text and all(font.getlength(row) <= 200 for row in rows)


def test_the_font_can_be_named_in_the_environment(monkeypatch, fresh_font_lookup, tmp_path):
    bold = find_font(bold=True)
    assert bold is not None, NO_FONT
    share.find_font.cache_clear()

    monkeypatch.setenv("LINLI_CJK_FONT", bold)
    assert find_font() == bold
    share.find_font.cache_clear()

    not_a_font = tmp_path / "font.ttc"
    not_a_font.write_bytes(b"not a font")
    monkeypatch.setenv("LINLI_CJK_FONT", str(not_a_font))
    assert find_font() not in (None, str(not_a_font))


def test_share_text_is_a_headline_and_a_link():
    text = share_text(title="乐高机器人\n编程  （少儿）", detail="12月8日 周二 09:30，\n\n活动室 ", url=URL)

    assert text == f"【乐高机器人 编程 （少儿）】12月8日 周二 09:30， 活动室\n{URL}"
    assert text.count("\n") == 1 and text.splitlines()[1] == URL
