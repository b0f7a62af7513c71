"""The app's date formats in English, for the admins and `localize` (FORMAT_MODULE_PATH).

The same as the web pages write them ("20 Nov 2026", "20 Nov 2026, 14:05"), instead of
Django's en-us defaults ("Nov. 20, 2026, 2:05 p.m.").
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
