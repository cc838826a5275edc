"""How long each kind of text a person types may be, in characters.

One constant per field, and every place that knows the limit reads it from here: the model's
column (`String(lengths.NAME)`), the form's validator (`Length(max=lengths.NAME)`, which also
renders the input's `maxlength`), the service's own check, and any input a template writes by
hand (`maxlength="{{ lengths.REASON }}"`). tests/test_lengths.py holds them together.
"""

# --- what residents type ---------------------------------------------------------------------

# A person's own name (sign-ups, help requests, experts, friends cards): a Chinese name is two
# to four characters; 20 holds a foreign or minority name whole.
NAME = 20
# The name a wall post is signed with.
NICKNAME = 20
# A wall post or a help request.
TEXT = 200
# Where a problem is: a building, a gate, an area.
LOCATION = 40
# A comment with a class rating.
COMMENT = 200
# A friends card: the area the resident lives in, and a few words about them.
CARD_AREA = 20
CARD_INTRO = 120
# What is typed into the expert search pad (letters of pinyin initials, or characters).
SEARCH = 24

# --- what staff type -------------------------------------------------------------------------

# A reason given to a resident or kept in the audit log: rejecting, cancelling, moving, dropping.
REASON = 200
# A note on a help request or on a request to meet.
NOTE = 200
# The public reply to a problem, and the text the wall shows instead of the resident's.
REPLY = 300
PUBLIC_TEXT = TEXT
# An expert's public name.
DISPLAY_NAME = 20
# A watched word and a grid's name.
WORD = 40
GRID_NAME = 40
# Cases: a category's name, a handling unit's name (a department or property company),
# a 12345 ticket's number, a contact number left for a call-back, an internal note.
CATEGORY_KEY = 30
CATEGORY_NAME = 30
CATEGORY_NAME_EN = 60
UNIT_NAME = 60
HOTLINE_NUMBER = 30
CONTACT = 20
CASE_NOTE = 500
# A note on a day staff enter into the working-day calendar ("国庆调休").
CALENDAR_NOTE = 40
# A community's name and the short name in its URLs (/c/<slug>/: letters, digits, hyphens).
COMMUNITY_NAME = 60
COMMUNITY_NAME_EN = 100
SLUG = 40
# A kiosk's name in the console ("一楼大厅").
KIOSK_NAME = 60
# A household's building and unit ("3号楼", "2单元"): all a household record holds about it.
BUILDING = 20
UNIT = 20
# What staff type to find a household (building, unit or number).
HOUSEHOLD_SEARCH = 40
# A staff account's sign-in name, and the name the console shows for it.
USERNAME = 40
STAFF_NAME = 80
# The expert directory: a skill's name, an expert's introduction and availability, and what
# the expert agreed may be shown (each with its English version, which runs longer).
SKILL_NAME = 20
SKILL_NAME_EN = 40
EXPERT_INTRO = 300
EXPERT_INTRO_EN = 500
AVAILABILITY = 80
AVAILABILITY_EN = 120
CONSENT_SCOPE = 200
# A needs survey's question and its options.
SURVEY_QUESTION = 120
SURVEY_QUESTION_EN = 160
SURVEY_OPTION = 40
SURVEY_OPTION_EN = 60

# A course: what the timetable and the course page show (English versions run longer).
COURSE_TITLE = 60
COURSE_TITLE_EN = 80
TEACHER = 40
VENUE = 60
VENUE_EN = 80
ELIGIBILITY = 120
ELIGIBILITY_EN = 160
DESCRIPTION = 2000
DESCRIPTION_EN = 3000
# A notice from the committee.
NOTICE_TITLE = 120
NOTICE_TITLE_EN = 160
NOTICE_BODY = 2000
NOTICE_BODY_EN = 3000

# --- how much a form takes in before the service reads it -------------------------------------

# A mobile number as typed, with spaces or a +86 before the service normalises it to 11 digits.
MOBILE_TYPED = 20
# A password as typed (the hash has its own length); long enough for any passphrase.
PASSWORD_TYPED = 1024
# Lines of dates, and lines of survey choices, typed into one box.
DATES_TYPED = 4000
SURVEY_OPTIONS_TYPED = 1000
SURVEY_OPTIONS_EN_TYPED = 1500

# --- what is kept from a request or a check ---------------------------------------------------

# The browser's user agent in a staff session's record, and the page a kiosk last showed.
USER_AGENT = 200
PAGE_PATH = 200
# The automatic checks' reasons kept with a post.
CHECK_REASONS = 200
