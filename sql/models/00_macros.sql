-- Helpers every rule uses (rules.md "Common definitions").
-- Ages are full years at the as-of date, from the birth date inside the ID number.

-- Only IDs of the 18-character shape carry a birth date: try_strptime would read '1990011'
-- from a 17-character ID as 1990-01-01, a plausible but false age.
CREATE OR REPLACE MACRO birth_date_of(id) AS
    CASE WHEN regexp_full_match(id, '[0-9]{17}[0-9X]')
         THEN try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE END;

-- GB 11643 check character of an ID of the 18-character shape (NULL for any other): weights
-- 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over the first 17 digits, the sum mod 11 indexes
-- "10X98765432". A list dot product is several times faster in DuckDB than 17 substr terms.
CREATE OR REPLACE MACRO id_check_char(id) AS
    CASE WHEN regexp_full_match(id, '[0-9]{17}[0-9X]') THEN substr('10X98765432', 1 + CAST(
        CAST(list_dot_product(
            list_transform(string_split(left(id, 17), ''), lambda d: CAST(d AS DOUBLE)),
            [7.0, 9.0, 10.0, 5.0, 8.0, 4.0, 2.0, 1.0, 6.0, 3.0, 7.0, 9.0, 10.0, 5.0, 8.0, 4.0, 2.0]
        ) AS BIGINT) % 11 AS INTEGER), 1) END;

-- A valid ID: the 18-character shape, a real calendar birth date, the right check character.
CREATE OR REPLACE MACRO id_valid(id) AS
    CASE WHEN birth_date_of(id) IS NOT NULL THEN right(id, 1) = id_check_char(id) ELSE false END;

CREATE OR REPLACE MACRO age_at(id, d) AS
    CASE WHEN birth_date_of(id) IS NULL THEN NULL
         ELSE date_diff('year', birth_date_of(id), d)
              - CASE WHEN strftime(d, '%m%d') < strftime(birth_date_of(id), '%m%d') THEN 1 ELSE 0 END
    END;

-- The window: the window_days days up to and including the as-of date.
CREATE OR REPLACE MACRO in_last_days(d, n) AS
    d BETWEEN getvariable('as_of') - (n - 1)::INTEGER AND getvariable('as_of');
