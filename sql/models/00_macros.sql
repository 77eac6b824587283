-- Helpers every rule uses (rules.md "Common definitions").
-- Ages are full years at the as-of date, from the birth date inside the ID number.

-- Only IDs of the 18-character shape carry a birth date: try_strptime would read '1990011'
-- from a 17-character ID as 1990-01-01, a plausible but false age.
CREATE OR REPLACE MACRO birth_date_of(id) AS
    CASE WHEN regexp_full_match(id, '[0-9]{17}[0-9X]')
         THEN try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE END;

CREATE OR REPLACE MACRO age_at(id, d) AS
    CASE WHEN birth_date_of(id) IS NULL THEN NULL
         ELSE date_diff('year', birth_date_of(id), d)
              - CASE WHEN strftime(d, '%m%d') < strftime(birth_date_of(id), '%m%d') THEN 1 ELSE 0 END
    END;

-- The window: the window_days days up to and including the as-of date.
CREATE OR REPLACE MACRO in_last_days(d, n) AS
    d BETWEEN getvariable('as_of') - (n - 1)::INTEGER AND getvariable('as_of');
