"""Share to the group: a poster and a two-line text that staff paste into a residents' WeChat group.

A course, notice, survey or case update becomes a portrait PNG (the community's name on a red
band, the title large, a few detail lines, a QR code of its page and a caption under the code)
and a short text (``【title】detail`` and the link). The poster is drawn with Pillow in a
Simplified-Chinese font found on this server; with no such font, or text the font cannot show,
there is no poster (`PosterUnavailable`) rather than one with empty boxes.
"""

import functools
import io
import os
import subprocess
import unicodedata
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 750, 1200
MARGIN = 56
CONTENT_WIDTH = WIDTH - 2 * MARGIN
BAND_HEIGHT = 110
TITLE_TOP = BAND_HEIGHT + 44
INK = "#1a1a1a"
ACCENT = "#b8322a"
PAPER = "#ffffff"
ELLIPSIS = "…"

BAND_SIZE, TITLE_SIZE, LINE_SIZE = 32, 56, 32
TITLE_ROWS, LINE_ROWS, DETAIL_ROWS = 3, 2, 5
QUIET_ZONE = 4
QR_MAX_SIDE = 520
QR_MIN_MODULE = 4

FONT_ENV = "LINLI_CJK_FONT"
_NOTO = "/usr/share/fonts/opentype/noto"
_WQY = "/usr/share/fonts/truetype/wqy"
_FONTS = {
    False: (f"{_NOTO}/NotoSansCJK-Regular.ttc", f"{_NOTO}/NotoSansCJK-Bold.ttc",
            f"{_NOTO}/NotoSerifCJK-Regular.ttc", f"{_NOTO}/NotoSerifCJK-Bold.ttc"),
    True: (f"{_NOTO}/NotoSansCJK-Bold.ttc", f"{_NOTO}/NotoSansCJK-Regular.ttc",
           f"{_NOTO}/NotoSerifCJK-Bold.ttc", f"{_NOTO}/NotoSerifCJK-Regular.ttc"),
}
_FALLBACK_FONTS = (f"{_WQY}/wqy-microhei.ttc", f"{_WQY}/wqy-zenhei.ttc")
_PROBE = "邻里"
_NO_FONT_HAS = "\U0010FFFD"

_OPENING = set("（《「『【〈“‘([{")
_CLOSING = set("，。、；：！？）》」』】〉”’,.;:!?)]}%")


class PosterUnavailable(Exception):
    """No poster can be drawn: no Chinese font on this server, or text its font cannot show."""

    def __init__(self, message: str, characters: list[str] | None = None):
        super().__init__(message)
        self.characters = characters or []


@functools.cache
def find_font(bold: bool = False) -> str | None:
    """The path of a font that shows Simplified Chinese, or None.

    `LINLI_CJK_FONT` first, then Debian's Noto CJK and WenQuanYi files, then fontconfig's choice
    for zh-cn. A file counts only if it has glyphs for Chinese. Read once per process.
    """
    for path in (os.environ.get(FONT_ENV, ""), *_FONTS[bold], *_FALLBACK_FONTS):
        if path and _shows_chinese(path):
            return path
    path = _fc_match(bold)
    return path if path and _shows_chinese(path) else None


def load_font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The Chinese font at this pixel size (the SC face of a collection); PosterUnavailable if none."""
    path = find_font(bold)
    if path is None:
        raise PosterUnavailable(f"no Simplified-Chinese font found: install fonts-noto-cjk or set {FONT_ENV}")
    return ImageFont.truetype(path, size, index=_face_index(path))


def missing_glyphs(text: str, font: ImageFont.FreeTypeFont) -> list[str]:
    """The characters of `text` (each once, whitespace aside) that `font` draws as its empty box."""
    tofu = _bitmap(_NO_FONT_HAS, font)
    return [char for char in dict.fromkeys(text) if not char.isspace() and _bitmap(char, font) == tofu]


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_rows: int) -> list[str]:
    """`text` in rows no wider than `width` pixels, at most `max_rows`, the last ending in "…" if cut.

    Chinese breaks between any two characters (never before a closing mark or after an opening
    one), Latin words at spaces; a word wider than a row breaks anywhere.
    """
    rows = [""]
    for token in _tokens(text):
        if font.getlength((rows[-1] + token).rstrip()) <= width:
            rows[-1] += token
            continue
        rows[-1] = rows[-1].rstrip()
        if rows[-1]:
            rows.append("")
        for char in token.strip():
            if rows[-1] and font.getlength(rows[-1] + char) > width:
                rows.append("")
            rows[-1] += char
        if len(rows) > max_rows:
            break
    rows = [row.strip() for row in rows if row.strip()]
    if len(rows) > max_rows:
        rows = rows[:max_rows]
        rows[-1] = _ellipsize(rows[-1], font, width)
    return rows


def check_text(*, community: str, title: str, lines: list[str], caption: str) -> tuple:
    """The poster's fonts (band, title, lines), or PosterUnavailable: no font, or a character
    the font cannot show. Cheap: a page can ask before offering the poster."""
    band_font, title_font = load_font(BAND_SIZE, bold=True), load_font(TITLE_SIZE, bold=True)
    line_font = load_font(LINE_SIZE)
    for text, font in ((community, band_font), (title, title_font), ("".join(lines), line_font), (caption, line_font)):
        if missing := missing_glyphs(text, font):
            raise PosterUnavailable(f"the font {font.path} has no glyph for {''.join(missing)!r}", missing)
    return band_font, title_font, line_font


def poster_png(*, community: str, title: str, lines: list[str], url: str, caption: str) -> bytes:
    """The poster as PNG bytes, WIDTH x HEIGHT; PosterUnavailable if it cannot be drawn readably."""
    band_font, title_font, line_font = check_text(community=community, title=title, lines=lines, caption=caption)

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH - 1, BAND_HEIGHT - 1), fill=ACCENT)
    for row in wrap(community, band_font, CONTENT_WIDTH, 1):
        draw.text((MARGIN, BAND_HEIGHT // 2), row, font=band_font, fill=PAPER, anchor="lm")

    y = TITLE_TOP
    for row in wrap(title, title_font, CONTENT_WIDTH, TITLE_ROWS):
        draw.text((MARGIN, y), row, font=title_font, fill=INK, anchor="la")
        y += round(TITLE_SIZE * 1.3)
    y += 20
    for row in _detail_rows(lines, line_font):
        draw.text((MARGIN, y), row, font=line_font, fill=INK, anchor="la")
        y += round(LINE_SIZE * 1.45)

    caption_height = 2 * LINE_SIZE
    code = _qr_image(url, min(QR_MAX_SIDE, HEIGHT - MARGIN - y - caption_height))
    top = y + (HEIGHT - MARGIN - y - code.height - caption_height) // 2
    image.paste(code, ((WIDTH - code.width) // 2, top))
    for row in wrap(caption, line_font, CONTENT_WIDTH, 1):
        draw.text((WIDTH // 2, top + code.height + LINE_SIZE // 2), row, font=line_font, fill=INK, anchor="ma")

    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def share_text(*, title: str, detail: str, url: str) -> str:
    """Two lines to paste into the group: ``【title】detail``, then the link."""
    return f"【{_one_line(title)}】{_one_line(detail)}\n{_one_line(url)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _detail_rows(lines: list[str], font: ImageFont.FreeTypeFont) -> list[str]:
    rows = [row for line in lines for row in wrap(line, font, CONTENT_WIDTH, LINE_ROWS)]
    if len(rows) > DETAIL_ROWS:
        rows = rows[:DETAIL_ROWS]
        rows[-1] = _ellipsize(rows[-1].removesuffix(ELLIPSIS), font, CONTENT_WIDTH)
    return rows


def _qr_image(url: str, side: int) -> Image.Image:
    """The QR code of `url` with its quiet zone, black on white, at the largest whole module size in `side`."""
    too_long = PosterUnavailable(f"a link of {len(url)} characters is too long for a QR code a phone can read")
    try:
        qr = segno.make_qr(url, error="m")
    except segno.DataOverflowError:
        raise too_long from None
    size = qr.symbol_size(scale=1, border=QUIET_ZONE)[0]
    scale = side // size
    if scale < QR_MIN_MODULE:
        raise too_long
    modules = bytes(0 if dark else 255 for row in qr.matrix_iter(scale=1, border=QUIET_ZONE) for dark in row)
    code = Image.frombytes("L", (size, size), modules)
    return code.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def _tokens(text: str) -> list[str]:
    """Latin words, single spaces and single Chinese characters, punctuation kept with its neighbour."""
    tokens: list[str] = []
    for char in _one_line(text):
        previous = tokens[-1] if tokens else " "
        if char == " " or previous == " ":
            tokens.append(char)
        elif char in _CLOSING or previous[-1] in _OPENING or not (_wide(char) or _wide(previous[-1])):
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _ellipsize(row: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    while row and font.getlength(row + ELLIPSIS) > width:
        row = row[:-1]
    return row.rstrip() + ELLIPSIS


def _bitmap(char: str, font: ImageFont.FreeTypeFont) -> tuple[tuple[int, int, int, int], bytes]:
    left, top, right, bottom = box = font.getbbox(char)
    image = Image.new("L", (max(right - left, 1), max(bottom - top, 1)))
    ImageDraw.Draw(image).text((-left, -top), char, font=font, fill=255)
    return box, image.tobytes()


@functools.cache
def _face_index(path: str) -> int:
    """The Simplified-Chinese face of a font collection (Noto CJK's "… SC"); 0 for a single font."""
    for index in range(10):
        try:
            name = ImageFont.truetype(path, 16, index=index).getname()[0] or ""
        except OSError:
            break
        if "SC" in name.split():
            return index
    return 0


def _shows_chinese(path: str) -> bool:
    if not Path(path).is_file():
        return False
    try:
        return not missing_glyphs(_PROBE, ImageFont.truetype(path, 32, index=_face_index(path)))
    except OSError:
        return False


def _fc_match(bold: bool) -> str:
    pattern = ":lang=zh-cn:weight=bold" if bold else ":lang=zh-cn"
    try:
        result = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=5,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()
