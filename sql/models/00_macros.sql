-- Helpers every rule uses (rules.md "Common definitions").
-- Ages are full years at the as-of date, from the birth date inside the ID number.

CREATE OR REPLACE MACRO birth_date_of(id) AS
    try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE;

CREATE OR REPLACE MACRO age_at(id, d) AS
    CASE WHEN birth_date_of(id) IS NULL THEN NULL
         ELSE date_diff('year', birth_date_of(id), d)
              - CASE WHEN strftime(d, '%m%d') < strftime(birth_date_of(id), '%m%d') THEN 1 ELSE 0 END
    END;

-- The window: the window_days days up to and including the as-of date.
CREATE OR REPLACE MACRO in_last_days(d, n) AS
    d BETWEEN getvariable('as_of') - (n - 1)::INTEGER AND getvariable('as_of');
