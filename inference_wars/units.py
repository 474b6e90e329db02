"""Time constants, in one place (the bottom layer: imports nothing).

A year is 365.25 days, so a month is a twelfth of it; cost formulas amortise a chip over
``years * HOURS_PER_YEAR`` hours and convert tokens per second to tokens per hour or per day.

>>> HOURS_PER_YEAR, SECONDS_PER_DAY
(8766.0, 86400.0)
"""

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.25
HOURS_PER_YEAR = DAYS_PER_YEAR * 24.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0
